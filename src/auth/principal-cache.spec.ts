import { afterEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../config/config.loader.js';
import { PRINCIPAL_INVALIDATION_CHANNEL, PrincipalCache } from './principal-cache.js';
import type { Principal } from './principal.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const silentLogger = pino({ level: 'silent' });

function cacheWith(env: Record<string, string> = {}, redis: Redis | null = null): PrincipalCache {
  const config = loadConfig({ env: { NODE_ENV: 'test', ...env }, ignoreDotenv: true });
  return new PrincipalCache(config, redis, silentLogger);
}

function userPrincipal(overrides: Partial<Principal> = {}): Principal {
  return {
    kind: 'user',
    id: randomUUID(),
    label: 'someone@example.test',
    role: 'viewer',
    organizationId: randomUUID(),
    siteId: null,
    token: { jti: randomUUID(), expiresAt: new Date(Date.now() + 3_600_000) },
    ...overrides,
  };
}

function keyPrincipal(overrides: Partial<Principal> = {}): Principal {
  return { kind: 'api_key', id: randomUUID(), label: 'odk_abcd', role: 'operator', organizationId: randomUUID(), siteId: null, ...overrides };
}

async function eventually(check: () => boolean, what: string, limitMs = 2_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`not within ${limitMs} ms: ${what}`);
    await sleep(10);
  }
}

describe('PrincipalCache without Redis', () => {
  it('returns what was stored, until the TTL passes', async () => {
    const cache = cacheWith({ PRINCIPAL_CACHE_TTL_MS: '100' });
    const principal = userPrincipal();
    cache.store('jwt:a', principal, cache.ticket());
    expect(cache.get('jwt:a')?.principal).toBe(principal);
    await sleep(120);
    expect(cache.get('jwt:a')).toBeUndefined();
  });

  it('never keeps an entry past the credential’s own expiry', () => {
    const cache = cacheWith();
    const now = Date.now();
    cache.store('key:soon', keyPrincipal(), cache.ticket(), { notAfter: new Date(now + 1_000) });
    cache.store('key:gone', keyPrincipal(), cache.ticket(), { notAfter: new Date(now - 1) });
    expect(cache.get('key:soon', now + 999)).toBeDefined();
    expect(cache.get('key:soon', now + 1_000)).toBeUndefined();
    expect(cache.get('key:gone')).toBeUndefined();
  });

  it('refuses to store a read that raced with an invalidation (the generation moved on)', async () => {
    const cache = cacheWith();
    const principal = userPrincipal();
    const ticket = cache.ticket(); // taken before the database read
    await cache.invalidate({ scope: 'user', id: randomUUID() }); // any write while the read was in flight
    cache.store('jwt:raced', principal, ticket);
    expect(cache.get('jwt:raced')).toBeUndefined();
    cache.store('jwt:raced', principal, cache.ticket());
    expect(cache.get('jwt:raced')?.principal).toBe(principal);
  });

  it('drops exactly the entries each kind of invalidation can affect', async () => {
    const cache = cacheWith();
    const organizationId = randomUUID();
    const siteId = randomUUID();
    const user = userPrincipal({ organizationId });
    const otherToken = userPrincipal({ id: user.id, organizationId, token: { jti: randomUUID(), expiresAt: new Date(Date.now() + 60_000) } });
    const colleague = userPrincipal({ organizationId });
    const key = keyPrincipal({ organizationId });
    const siteKey = keyPrincipal({ siteId });
    const stranger = userPrincipal();
    const all: Record<string, Principal> = { user, otherToken, colleague, key, siteKey, stranger };
    const fill = () => {
      for (const [name, principal] of Object.entries(all)) cache.store(name, principal, cache.ticket());
    };
    const cached = () => Object.keys(all).filter((name) => cache.get(name) !== undefined);

    fill();
    await cache.invalidate({ scope: 'token', id: user.token!.jti });
    expect(cached()).toEqual(['otherToken', 'colleague', 'key', 'siteKey', 'stranger']);

    fill();
    await cache.invalidate({ scope: 'user', id: user.id! });
    expect(cached()).toEqual(['colleague', 'key', 'siteKey', 'stranger']);

    fill();
    await cache.invalidate({ scope: 'api_key', id: key.id! });
    expect(cached()).toEqual(['user', 'otherToken', 'colleague', 'siteKey', 'stranger']);

    fill();
    await cache.invalidate({ scope: 'site', id: siteId });
    expect(cached()).toEqual(['user', 'otherToken', 'colleague', 'key', 'stranger']);

    fill();
    await cache.invalidate({ scope: 'organization', id: organizationId });
    expect(cached()).toEqual(['siteKey', 'stranger']);

    fill();
    await cache.invalidate({ scope: 'all' });
    expect(cached()).toEqual([]);
  });

  it('does not confuse a user id with an API key id', async () => {
    const cache = cacheWith();
    const id = randomUUID();
    cache.store('jwt:x', userPrincipal({ id }), cache.ticket());
    cache.store('key:x', keyPrincipal({ id }), cache.ticket());
    await cache.invalidate({ scope: 'api_key', id });
    expect(cache.get('jwt:x')).toBeDefined();
    expect(cache.get('key:x')).toBeUndefined();
  });

  it('caches nothing with PRINCIPAL_CACHE_TTL_MS=0', () => {
    const cache = cacheWith({ PRINCIPAL_CACHE_TTL_MS: '0' });
    expect(cache.enabled).toBe(false);
    cache.store('jwt:a', userPrincipal(), cache.ticket());
    expect(cache.get('jwt:a')).toBeUndefined();
  });

  it('stays bounded: the oldest entries make room', () => {
    const cache = cacheWith();
    for (let i = 0; i < 10_050; i++) cache.store(`key:${i}`, keyPrincipal(), cache.ticket());
    expect(cache.get('key:0')).toBeUndefined();
    expect(cache.get('key:10049')).toBeDefined();
  });
});

describe('PrincipalCache across instances through Redis', () => {
  const opened: Array<{ cache: PrincipalCache; redis: Redis }> = [];

  async function instance(): Promise<PrincipalCache> {
    const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    const cache = cacheWith({ REDIS_URL }, redis);
    opened.push({ cache, redis });
    expect(cache.enabled).toBe(false); // nothing is cached until invalidations can be heard
    cache.onApplicationBootstrap();
    await eventually(() => cache.enabled, 'the cache subscribes');
    return cache;
  }

  afterEach(async () => {
    for (const { cache, redis } of opened.splice(0)) {
      await cache.onApplicationShutdown();
      await redis.quit().catch(() => undefined);
    }
  });

  it('drops the matching entries on the other instances', async () => {
    const [a, b] = [await instance(), await instance()];
    const user = userPrincipal();
    const bystander = userPrincipal();
    for (const cache of [a, b]) {
      cache.store('jwt:user', user, cache.ticket());
      cache.store('jwt:bystander', bystander, cache.ticket());
    }
    await a.invalidate({ scope: 'user', id: user.id! });
    expect(a.get('jwt:user')).toBeUndefined();
    await eventually(() => b.get('jwt:user') === undefined, 'instance B drops the user');
    expect(b.get('jwt:bystander')?.principal).toBe(bystander);
  });

  it('makes a read in flight on another instance unstorable', async () => {
    const [a, b] = [await instance(), await instance()];
    const ticket = b.ticket();
    const generationBefore = ticket;
    await a.invalidate({ scope: 'token', id: randomUUID() });
    await eventually(() => b.ticket() !== generationBefore, 'instance B hears of the write');
    b.store('jwt:raced', userPrincipal(), ticket);
    expect(b.get('jwt:raced')).toBeUndefined();
  });

  it('treats an unreadable message as "anything may have changed"', async () => {
    const b = await instance();
    b.store('jwt:any', userPrincipal(), b.ticket());
    const publisher = new Redis(REDIS_URL);
    try {
      await publisher.publish(PRINCIPAL_INVALIDATION_CHANNEL, '{"scope":"everything?"}');
    } finally {
      await publisher.quit();
    }
    await eventually(() => b.get('jwt:any') === undefined, 'instance B clears');
  });

  it('stops caching (and forgets everything) while its subscription is down', async () => {
    const b = await instance();
    b.store('jwt:any', userPrincipal(), b.ticket());
    const subscriber = (b as unknown as { subscriber: Redis }).subscriber;
    let closed = false;
    subscriber.once('close', () => {
      closed = true;
      expect(b.enabled).toBe(false);
    });
    subscriber.disconnect(true); // drop the connection; ioredis reconnects
    await eventually(() => closed, 'the subscription closes');
    await eventually(() => b.enabled, 'the cache resubscribes');
    expect(b.get('jwt:any')).toBeUndefined();
  });
});
