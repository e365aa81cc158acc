import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('CORS when origins are configured', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: 'https://ops.example.org' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers a preflight from an allowed origin and exposes the request id', async () => {
    const response = await t.http
      .options('/api/v1/health')
      .set('Origin', 'https://ops.example.org')
      .set('Access-Control-Request-Method', 'GET');
    expect(response.status).toBeLessThan(300);
    expect(response.headers['access-control-allow-origin']).toBe('https://ops.example.org');
    const simple = await t.http.get('/api/v1/health').set('Origin', 'https://ops.example.org').expect(200);
    expect(simple.headers['access-control-expose-headers']).toContain('X-Request-Id');
  });

  it('gives no CORS grant to another origin', async () => {
    const response = await t.http.get('/api/v1/health').set('Origin', 'https://evil.example.com').expect(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('log file', () => {
  let t: TestApp;
  let logFile: string;

  const logDir = mkdtempSync(join(tmpdir(), 'opsdeck-logs-'));

  beforeAll(async () => {
    logFile = join(logDir, 'nested', 'opsdeck.log');
    t = await startTestApp({ env: { LOG_LEVEL: 'info', LOG_FILE: logFile } });
  });

  afterAll(async () => {
    await t.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('writes the access log lines, redacted, to a rotating file', async () => {
    await t.http.get('/api/v1/health').set('X-Request-Id', 'log-file-test').set('X-API-Key', 'key-that-must-not-leak');
    const directory = join(logFile, '..');
    let contents = '';
    for (let attempt = 0; attempt < 50 && !contents.includes('log-file-test'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      contents = existsSync(directory)
        ? readdirSync(directory)
            .filter((name) => name.startsWith('opsdeck'))
            .map((name) => readFileSync(join(directory, name), 'utf8'))
            .join('')
        : '';
    }
    expect(contents).toContain('"request_id":"log-file-test"');
    expect(contents).not.toContain('key-that-must-not-leak');
  });
});
