import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { ProbeModule } from '../support/probe.module.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('global rate limit (in memory)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3' }, extraModules: [ProbeModule] });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers the request over the limit with 429, Retry-After and the error envelope', async () => {
    for (let i = 0; i < 3; i += 1) {
      const ok = await t.http.get('/api/v1/probe/items').expect(200);
      expect(ok.headers['x-ratelimit-limit']).toBe('3');
      expect(ok.headers['x-ratelimit-remaining']).toBe(String(2 - i));
    }
    const limited = await t.http.get('/api/v1/probe/items').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.body).toMatchObject({ status_code: 429, error: 'RATE_LIMITED' });
    expect(limited.body.request_id).toBe(limited.headers['x-request-id']);
  });

  it('does not limit health probes', async () => {
    for (let i = 0; i < 5; i += 1) await t.http.get('/api/health').expect(200);
  });
});

describe('global rate limit shared through Redis', () => {
  let redis: Redis;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    const stale = await redis.keys('opsdeck:rl:default:*');
    if (stale.length > 0) await redis.del(...stale);
    const env = { RATE_LIMIT_PER_MINUTE: '4', REDIS_URL };
    first = await startTestApp({ env, extraModules: [ProbeModule] });
    second = await startTestApp({ env, extraModules: [ProbeModule] });
  });

  afterAll(async () => {
    await first.close();
    await second.close();
    await redis.quit();
  });

  it('counts requests to two instances against one limit', async () => {
    await first.http.get('/api/v1/probe/items').expect(200);
    await second.http.get('/api/v1/probe/items').expect(200);
    await first.http.get('/api/v1/probe/items').expect(200);
    await second.http.get('/api/v1/probe/items').expect(200);
    await first.http.get('/api/v1/probe/items').expect(429);
    await second.http.get('/api/v1/probe/items').expect(429);
    expect((await redis.keys('opsdeck:rl:default:*')).length).toBeGreaterThan(0);
  });

  it('reports Redis in health', async () => {
    const response = await first.http.get('/api/health').expect(200);
    expect(response.body.data.checks.redis).toMatchObject({ status: 'up', kind: 'redis' });
  });
});
