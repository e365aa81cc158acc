import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generate } from 'selfsigned';

export interface GeneratedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly fingerprint: string;
}

/** A self-signed RSA-2048 certificate for localhost and 127.0.0.1, valid for a year; key mode 0600. */
export async function generateCertificate(outDir: string, days = 365): Promise<GeneratedCertificate> {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const notAfterDate = new Date(Date.now() + days * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'OpsDeck' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  writeFileSync(certFile, pems.cert, { mode: 0o644 });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  // writeFileSync keeps the mode of an existing file; make sure a regenerated key is private too.
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile, fingerprint: pems.fingerprint };
}
