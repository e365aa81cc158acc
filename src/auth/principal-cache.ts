import { randomUUID } from 'node:crypto';
import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { InjectLogger } from '../common/logging/logging.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { InjectRedis } from '../redis/redis.module.js';
import type { Principal } from './principal.js';

/** What an identity write may have changed or revoked; every cached principal it could touch is dropped. */
export type PrincipalInvalidation =
  | { readonly scope: 'all' }
  | { readonly scope: 'token'; readonly id: string }
  | { readonly scope: 'user'; readonly id: string }
  | { readonly scope: 'api_key'; readonly id: string }
  | { readonly scope: 'organization'; readonly id: string }
  | { readonly scope: 'site'; readonly id: string };

export interface CachedPrincipal {
  readonly principal: Principal;
  /** Epoch ms after which the entry is not used: the TTL, or earlier when the credential expires. */
  readonly expiresAt: number;
  /** API keys: when last_used_at was last written (epoch ms), so the write stays once a minute. */
  lastUsedAt: number | null;
}

/** Taken before the database read; a write in between makes store() refuse the (possibly stale) result. */
export type CacheTicket = number & { readonly __brand: 'CacheTicket' };

export const PRINCIPAL_INVALIDATION_CHANNEL = 'opsdeck:principal-cache:invalidate';
const MAX_ENTRIES = 10_000;
const SCOPES: ReadonlySet<string> = new Set(['all', 'token', 'user', 'api_key', 'organization', 'site']);

/**
 * Authenticated principals by credential (a JWT's id, an API key's hash) for a few seconds, so an authenticated
 * request needs no database read. Correct by invalidation, not by expiry: every write that can change or revoke a
 * principal calls invalidate() after its commit, which drops the matching entries here and, with REDIS_URL, on
 * every other instance (pub/sub). With Redis configured the cache is used only while this instance is subscribed,
 * so a lost connection cannot leave it serving principals another instance has revoked.
 */
@Injectable()
export class PrincipalCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly entries = new Map<string, CachedPrincipal>();
  private readonly ttlMs: number;
  private readonly instanceId = randomUUID();
  private generation = 0;
  private subscriber: Redis | null = null;
  /** Without Redis there are no other instances to hear from; with it, true only while subscribed. */
  private listening: boolean;

  constructor(
    @InjectConfig() config: AppConfig,
    @InjectRedis() private readonly redis: Redis | null,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.ttlMs = config.auth.principal_cache_ttl_ms;
    this.listening = redis === null;
  }

  get enabled(): boolean {
    return this.ttlMs > 0 && this.listening;
  }

  onApplicationBootstrap(): void {
    if (!this.redis || this.ttlMs === 0) return;
    // A connection of its own: a subscribed Redis connection can do nothing else.
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true, autoResubscribe: false, lazyConnect: true });
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === PRINCIPAL_INVALIDATION_CHANNEL) this.receive(message);
    });
    subscriber.on('ready', () => {
      subscriber.subscribe(PRINCIPAL_INVALIDATION_CHANNEL).then(
        () => {
          // Whatever was published while we were not listening is unknown: start empty.
          this.dropAll();
          this.listening = true;
        },
        (error: unknown) => this.logger.warn({ err: error }, 'principal cache: subscribing failed; cache off'),
      );
    });
    subscriber.on('close', () => {
      if (this.listening) this.logger.warn('principal cache: Redis subscription lost; cache off until it is back');
      this.listening = false;
      this.dropAll();
    });
    subscriber.on('error', () => undefined); // 'close' handles it; ioredis reconnects on its own
    subscriber.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.listening = this.redis === null;
    await this.subscriber?.quit().catch(() => undefined);
    this.subscriber = null;
  }

  ticket(): CacheTicket {
    return this.generation as CacheTicket;
  }

  get(key: string, now = Date.now()): CachedPrincipal | undefined {
    if (!this.enabled) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Keeps a principal read from the database, unless an invalidation arrived since the ticket was taken (the read
   * may then predate the write). notAfter: the credential's own expiry, if any.
   */
  store(key: string, principal: Principal, ticket: CacheTicket, options: { notAfter?: Date | null; lastUsedAt?: number | null } = {}): void {
    if (!this.enabled || ticket !== this.generation) return;
    const now = Date.now();
    const expiresAt = Math.min(now + this.ttlMs, options.notAfter ? options.notAfter.getTime() : Infinity);
    if (expiresAt <= now) return;
    if (this.entries.size >= MAX_ENTRIES) this.evict(now);
    this.entries.set(key, { principal, expiresAt, lastUsedAt: options.lastUsedAt ?? null });
  }

  /** Drops what the write may have changed here, then tells the other instances. Call it after the commit. */
  async invalidate(invalidation: PrincipalInvalidation): Promise<void> {
    this.apply(invalidation);
    if (!this.redis || this.ttlMs === 0) return;
    try {
      await this.redis.publish(PRINCIPAL_INVALIDATION_CHANNEL, JSON.stringify({ origin: this.instanceId, ...invalidation }));
    } catch (error) {
      // The other instances keep their entries at most ttlMs longer.
      this.logger.warn({ err: error, invalidation }, 'principal cache: broadcasting an invalidation failed');
    }
  }

  private receive(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      parsed = null;
    }
    const invalidation = parseInvalidation(parsed);
    if (invalidation === null) {
      // Unreadable (another version?): the safe reading is "anything may have changed".
      this.apply({ scope: 'all' });
      return;
    }
    if ((parsed as { origin?: unknown }).origin === this.instanceId) return;
    this.apply(invalidation);
  }

  private apply(invalidation: PrincipalInvalidation): void {
    this.generation++;
    if (invalidation.scope === 'all') {
      this.entries.clear();
      return;
    }
    for (const [key, entry] of this.entries) {
      if (matches(entry.principal, invalidation)) this.entries.delete(key);
    }
  }

  private dropAll(): void {
    this.generation++;
    this.entries.clear();
  }

  /** Expired entries first; if the cache is still full, the oldest insertions. */
  private evict(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(key);
    }
  }
}

function matches(principal: Principal, invalidation: Exclude<PrincipalInvalidation, { scope: 'all' }>): boolean {
  switch (invalidation.scope) {
    case 'token':
      return principal.token?.jti === invalidation.id;
    case 'user':
      return principal.kind === 'user' && principal.id === invalidation.id;
    case 'api_key':
      return principal.kind === 'api_key' && principal.id === invalidation.id;
    case 'organization':
      return principal.organizationId === invalidation.id;
    case 'site':
      return principal.siteId === invalidation.id;
  }
}

function parseInvalidation(value: unknown): PrincipalInvalidation | null {
  if (typeof value !== 'object' || value === null) return null;
  const { scope, id } = value as { scope?: unknown; id?: unknown };
  if (typeof scope !== 'string' || !SCOPES.has(scope)) return null;
  if (scope === 'all') return { scope: 'all' };
  if (typeof id !== 'string') return null;
  return { scope, id } as PrincipalInvalidation;
}
