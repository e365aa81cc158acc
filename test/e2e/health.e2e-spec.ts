import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProxiedDatabase, type ProxiedDatabase } from '../support/proxied-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BOOTSTRAP_TOKEN = 'opsdeck-test-bootstrap-token-0123456789abcdef';
const BOOTSTRAP_TOKEN_HASH = createHash('sha256').update(BOOTSTRAP_TOKEN).digest('hex');

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('health and metrics', () => {
  let database: ProxiedDatabase;
  let t: TestApp;

  beforeAll(async () => {
    database = await startProxiedDatabase();
    t = await startTestApp({ env: { DATABASE_URL: database.url, API_TOKEN_HASH: BOOTSTRAP_TOKEN_HASH } });
  });

  afterAll(async () => {
    await t.close();
    await database.close();
  });

  it.each(['/api/health', '/api/v1/health'])('GET %s is public and reports version, uptime and the database', async (path) => {
    const response = await t.http.get(path).expect(200);
    expect(response.body.data).toEqual({
      status: 'ok',
      version: t.opsdeck.config.app.version,
      uptime_seconds: expect.any(Number),
      checks: { database: { status: 'up', kind: 'external', latency_ms: expect.any(Number) } },
    });
  });

  it('answers 503 while the database is unreachable and recovers by itself', async () => {
    await database.proxy.cut();
    try {
      // A probe result may be reused for up to a second; the next one must see the database gone.
      await waitFor(async () => (await t.http.get('/api/health')).status === 503, 5_000);
      const down = await t.http.get('/api/health').expect(503);
      expect(down.body).toMatchObject({ status_code: 503, error: 'SERVICE_UNAVAILABLE' });
      expect(down.body.details).toMatchObject({ status: 'unavailable', checks: { database: { status: 'down' } } });
      expect(JSON.stringify(down.body)).not.toContain(database.url);
    } finally {
      await database.proxy.restore();
    }
    await waitFor(async () => (await t.http.get('/api/health')).status === 200, 15_000);
    const up = await t.http.get('/api/health').expect(200);
    expect(up.body.data.checks.database.status).toBe('up');
  });

  it('refuses metrics without credentials', async () => {
    const response = await t.http.get('/api/metrics').expect(401);
    expect(response.body.error).toBe('UNAUTHORIZED');
  });

  it('refuses metrics with a wrong token', async () => {
    await t.http.get('/api/metrics').set('Authorization', 'Bearer not-the-token').expect(401);
    await t.http.get('/api/metrics').set('X-API-Key', `${BOOTSTRAP_TOKEN}x`).expect(401);
  });

  it('serves Prometheus metrics by route and status to the bootstrap token', async () => {
    await t.http.get('/api/v1/health').expect(200);
    await t.http.get('/api/v1/nowhere/42').expect(404);
    const response = await t.http.get('/api/metrics').set('Authorization', `Bearer ${BOOTSTRAP_TOKEN}`).expect(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.text).toMatch(/http_requests_total\{method="GET",route="\/api\/v1\/health",status="200"\} \d+/);
    expect(response.text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
    expect(response.text).toContain('http_request_duration_seconds_bucket');
    expect(response.text).toContain('process_resident_memory_bytes');
    expect(response.text).not.toContain('/api/v1/nowhere/42');
    const viaKey = await t.http.get('/api/metrics').set('X-API-Key', BOOTSTRAP_TOKEN).expect(200);
    expect(viaKey.text).toContain('http_requests_total');
  });
});

describe('metrics configured public', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_PUBLIC: 'true' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('serves metrics without credentials', async () => {
    const response = await t.http.get('/api/metrics').expect(200);
    expect(response.text).toContain('http_requests_total');
  });
});
