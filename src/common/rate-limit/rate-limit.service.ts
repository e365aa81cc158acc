import { HttpStatus, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors/app-error.js';
import { InjectLogger } from '../logging/logging.module.js';
import { InjectConfig } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { InjectRedis } from '../../redis/redis.module.js';

export interface RateLimitPolicy {
  /** Names the counter family (`default`, `login`, ...); keys of different policies never collide. */
  readonly name: string;
  readonly points: number;
  readonly durationSeconds: number;
  /** Once over the limit, refuse for this long (defaults to the rest of the window). */
  readonly blockSeconds?: number;
}

export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  readonly resetSeconds: number;
}

/**
 * Counts requests per policy and key. With REDIS_URL the counters live in Redis so every instance shares
 * them; while Redis is unreachable each instance falls back to counting in memory rather than failing.
 */
@Injectable()
export class RateLimitService {
  private readonly limiters = new Map<string, { policy: RateLimitPolicy; limiter: RateLimiterAbstract }>();

  constructor(
    @InjectConfig() config: AppConfig,
    @InjectRedis() private readonly redis: Redis | null,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.register({ name: 'default', points: config.rate_limit.per_minute, durationSeconds: 60 });
  }

  register(policy: RateLimitPolicy): void {
    const options = {
      keyPrefix: `opsdeck:rl:${policy.name}`,
      points: policy.points,
      duration: policy.durationSeconds,
      blockDuration: policy.blockSeconds ?? 0,
    };
    const memory = new RateLimiterMemory(options);
    const limiter = this.redis
      ? new RateLimiterRedis({ ...options, storeClient: this.redis, insuranceLimiter: memory, rejectIfRedisNotReady: true })
      : memory;
    this.limiters.set(policy.name, { policy, limiter });
  }

  /** Takes one point; a 429 (with how long to wait) when the key is over the policy's limit. */
  async consume(policyName: string, key: string): Promise<RateLimitState> {
    const entry = this.limiters.get(policyName);
    if (!entry) throw new Error(`unknown rate-limit policy ${policyName}`);
    try {
      const result = await entry.limiter.consume(key);
      return this.state(entry.policy, result);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        this.logger.warn({ err: rejection, policy: policyName }, 'rate-limit store failed; request allowed');
        return { limit: entry.policy.points, remaining: entry.policy.points, resetSeconds: entry.policy.durationSeconds };
      }
      throw new RateLimitExceededError(this.state(entry.policy, rejection));
    }
  }

  private state(policy: RateLimitPolicy, result: RateLimiterRes): RateLimitState {
    return {
      limit: policy.points,
      remaining: Math.max(0, result.remainingPoints),
      resetSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)),
    };
  }
}

export class RateLimitExceededError extends AppError {
  constructor(readonly state: RateLimitState) {
    super(HttpStatus.TOO_MANY_REQUESTS, 'RATE_LIMITED', `Too many requests; retry in ${state.resetSeconds} s`, null);
  }
}
