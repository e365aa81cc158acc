import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../../config/config.loader.js';
import type { AppConfig } from '../../config/config.schema.js';
import { AppError } from '../errors/app-error.js';
import { RateLimitExceededError, RateLimitService } from './rate-limit.service.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:1';

const config: AppConfig = loadConfig({ env: { NODE_ENV: 'test', RATE_LIMIT_PER_MINUTE: '3' }, ignoreDotenv: true });
const silentLogger: Logger = pino({ level: 'silent' });

function uniqueKey(label: string): string {
  return `spec-${label}-${randomUUID()}`;
}

async function exceeded(promise: Promise<unknown>): Promise<RateLimitExceededError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitExceededError);
    return error as RateLimitExceededError;
  }
  throw new Error('expected the request to be over the limit');
}

function warningsLogger(): { logger: Logger; warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      warnings.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), warnings };
}

describe('RateLimitService in memory', () => {
  it('allows the configured number of requests with decreasing remaining points', async () => {
    const service = new RateLimitService(config, null, silentLogger);
    const key = uniqueKey('memory');

    const states = [
      await service.consume('default', key),
      await service.consume('default', key),
      await service.consume('default', key),
    ];

    expect(states.map((state) => state.remaining)).toEqual([2, 1, 0]);
    for (const state of states) {
      expect(state.limit).toBe(3);
      expect(state.resetSeconds).toBeGreaterThanOrEqual(1);
      expect(state.resetSeconds).toBeLessThanOrEqual(60);
    }
  });

  it('refuses the request over the limit with a 429 that says when to retry', async () => {
    const service = new RateLimitService(config, null, silentLogger);
    const key = uniqueKey('memory');
    for (let i = 0; i < 3; i++) await service.consume('default', key);

    const error = await exceeded(service.consume('default', key));

    expect(error).toBeInstanceOf(AppError);
    expect(error.getStatus()).toBe(429);
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.state.limit).toBe(3);
    expect(error.state.remaining).toBe(0);
    expect(error.state.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(error.state.resetSeconds).toBeLessThanOrEqual(60);
    expect(error.message).toBe(`Too many requests; retry in ${error.state.resetSeconds} s`);
  });

  it('keeps refusing while the window lasts', async () => {
    const service = new RateLimitService(config, null, silentLogger);
    const key = uniqueKey('memory');
    for (let i = 0; i < 3; i++) await service.consume('default', key);

    await exceeded(service.consume('default', key));
    await exceeded(service.consume('default', key));
  });

  it('counts each key independently', async () => {
    const service = new RateLimitService(config, null, silentLogger);
    const exhausted = uniqueKey('client-a');
    const other = uniqueKey('client-b');
    for (let i = 0; i < 3; i++) await service.consume('default', exhausted);
    await exceeded(service.consume('default', exhausted));

    const state = await service.consume('default', other);

    expect(state.remaining).toBe(2);
  });

  it('does not share counters between service instances without Redis', async () => {
    const key = uniqueKey('memory');
    const first = new RateLimitService(config, null, silentLogger);
    const second = new RateLimitService(config, null, silentLogger);
    for (let i = 0; i < 3; i++) await first.consume('default', key);

    await expect(second.consume('default', key)).resolves.toMatchObject({ remaining: 2 });
  });

  it('blocks for blockSeconds of a custom policy once over its limit', async () => {
    const service = new RateLimitService(config, null, silentLogger);
    service.register({ name: 'login', points: 2, durationSeconds: 1, blockSeconds: 30 });
    const key = uniqueKey('login');

    await expect(service.consume('login', key)).resolves.toMatchObject({ limit: 2, remaining: 1 });
    await expect(service.consume('login', key)).resolves.toMatchObject({ limit: 2, remaining: 0 });
    const error = await exceeded(service.consume('login', key));

    expect(error.state.limit).toBe(2);
    expect(error.state.resetSeconds).toBeGreaterThanOrEqual(29);
    expect(error.state.resetSeconds).toBeLessThanOrEqual(30);
  });

  it('keeps the counters of different policies apart for the same key', async () => {
    const service = new RateLimitService(config, null, silentLogger);
    service.register({ name: 'login', points: 5, durationSeconds: 60 });
    const key = uniqueKey('shared');
    for (let i = 0; i < 3; i++) await service.consume('default', key);
    await exceeded(service.consume('default', key));

    await expect(service.consume('login', key)).resolves.toMatchObject({ limit: 5, remaining: 4 });
  });

  it('replaces a policy registered again under the same name', async () => {
    const service = new RateLimitService(config, null, silentLogger);
    service.register({ name: 'default', points: 1, durationSeconds: 60 });
    const key = uniqueKey('replaced');

    await expect(service.consume('default', key)).resolves.toMatchObject({ limit: 1, remaining: 0 });
    await exceeded(service.consume('default', key));
  });

  it('rejects an unknown policy as a programming error, not a 429', async () => {
    const service = new RateLimitService(config, null, silentLogger);

    await expect(service.consume('no-such-policy', 'key')).rejects.toThrow('unknown rate-limit policy no-such-policy');
    await expect(service.consume('no-such-policy', 'key')).rejects.not.toBeInstanceOf(AppError);
  });
});

describe('RateLimitService with Redis', () => {
  const clients: Redis[] = [];
  const runId = randomUUID();

  function connect(): Redis {
    const client = new Redis(REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    await connect().ping();
  });

  afterAll(async () => {
    const cleaner = clients[0];
    const keys = await cleaner.keys(`opsdeck:rl:*${runId}*`);
    if (keys.length > 0) await cleaner.del(...keys);
    await Promise.all(clients.map((client) => client.quit()));
  });

  async function readyClient(): Promise<Redis> {
    const client = connect();
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    return client;
  }

  it('keeps the counter in Redis under the policy prefix', async () => {
    const redis = await readyClient();
    const service = new RateLimitService(config, redis, silentLogger);
    const key = `stored-${runId}`;

    await service.consume('default', key);

    expect(await redis.get(`opsdeck:rl:default:${key}`)).toBe('1');
    const ttl = await redis.pttl(`opsdeck:rl:default:${key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('shares counters between two instances using the same Redis', async () => {
    const instanceA = new RateLimitService(config, await readyClient(), silentLogger);
    const instanceB = new RateLimitService(config, await readyClient(), silentLogger);
    const key = `shared-${runId}`;

    await expect(instanceA.consume('default', key)).resolves.toMatchObject({ remaining: 2 });
    await expect(instanceB.consume('default', key)).resolves.toMatchObject({ remaining: 1 });
    await expect(instanceA.consume('default', key)).resolves.toMatchObject({ remaining: 0 });
    const error = await exceeded(instanceB.consume('default', key));

    expect(error.getStatus()).toBe(429);
    expect(error.state.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(error.state.resetSeconds).toBeLessThanOrEqual(60);
  });

  it('keeps keys independent in Redis', async () => {
    const service = new RateLimitService(config, await readyClient(), silentLogger);
    const exhausted = `independent-a-${runId}`;
    for (let i = 0; i < 3; i++) await service.consume('default', exhausted);
    await exceeded(service.consume('default', exhausted));

    await expect(service.consume('default', `independent-b-${runId}`)).resolves.toMatchObject({ remaining: 2 });
  });

  it('shares a custom policy block between instances', async () => {
    const policy = { name: `login-${runId}`, points: 1, durationSeconds: 1, blockSeconds: 30 };
    const instanceA = new RateLimitService(config, await readyClient(), silentLogger);
    const instanceB = new RateLimitService(config, await readyClient(), silentLogger);
    instanceA.register(policy);
    instanceB.register(policy);
    const key = `blocked-${runId}`;

    await instanceA.consume(policy.name, key);
    await exceeded(instanceA.consume(policy.name, key));
    const error = await exceeded(instanceB.consume(policy.name, key));

    expect(error.state.resetSeconds).toBeGreaterThanOrEqual(29);
    expect(error.state.resetSeconds).toBeLessThanOrEqual(30);
  });

  it('counts in memory instead of failing while Redis is unreachable', async () => {
    const unreachable = new Redis(UNREACHABLE_REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const { logger, warnings } = warningsLogger();
    try {
      const service = new RateLimitService(config, unreachable, logger);
      const key = uniqueKey('offline');

      const states = [
        await service.consume('default', key),
        await service.consume('default', key),
        await service.consume('default', key),
      ];
      const error = await exceeded(service.consume('default', key));

      expect(states.map((state) => state.remaining)).toEqual([2, 1, 0]);
      expect(error.getStatus()).toBe(429);
      expect(await service.consume('default', uniqueKey('offline-other'))).toMatchObject({ remaining: 2 });
      expect(warnings).toEqual([]);
    } finally {
      unreachable.disconnect();
    }
  });

  it('counts in memory after a connection attempt to Redis has failed', async () => {
    const unreachable = new Redis(UNREACHABLE_REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    unreachable.on('error', () => undefined);
    try {
      await expect(unreachable.connect()).rejects.toThrow();
      expect(unreachable.status).toBe('end');
      const service = new RateLimitService(config, unreachable, silentLogger);
      const key = uniqueKey('failed');

      for (let i = 0; i < 3; i++) await service.consume('default', key);

      await exceeded(service.consume('default', key));
    } finally {
      // disconnect() on an ended client would hold the process for ioredis' disconnectTimeout.
      if (unreachable.status !== 'end') unreachable.disconnect();
    }
  });
});
