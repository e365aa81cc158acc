import { readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateCertificate, type GeneratedCertificate } from '../../src/cli/generate-certificate.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

function httpsGet(port: number, path: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', servername: 'localhost', port, path, ca, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS', () => {
  const certDir = mkdtempSync(join(tmpdir(), 'opsdeck-certs-'));
  let certificate: GeneratedCertificate;
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    certificate = await generateCertificate(certDir);
    t = await startTestApp({ env: { TLS_CERT_FILE: certificate.certFile, TLS_KEY_FILE: certificate.keyFile } });
    await t.opsdeck.app.listen(0, '127.0.0.1');
    port = (t.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await t.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('generates an RSA >= 2048 certificate for localhost and 127.0.0.1 with a private key file', () => {
    const x509 = new X509Certificate(readFileSync(certificate.certFile));
    expect(x509.subjectAltName).toContain('DNS:localhost');
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    const key = createPublicKey(x509.publicKey.export({ format: 'pem', type: 'spki' }));
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBeGreaterThanOrEqual(2048);
    expect(statSync(certificate.keyFile).mode & 0o777).toBe(0o600);
  });

  it('serves the API over HTTPS with that certificate', async () => {
    const response = await httpsGet(port, '/api/health', readFileSync(certificate.certFile));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).data.status).toBe('ok');
  });

  it('refuses to start when a configured certificate cannot be read', async () => {
    await expect(
      startTestApp({ env: { TLS_CERT_FILE: join(certDir, 'missing.crt'), TLS_KEY_FILE: certificate.keyFile } }),
    ).rejects.toThrow(/tls\.cert_file \(TLS_CERT_FILE\): cannot read/);
  });
});
