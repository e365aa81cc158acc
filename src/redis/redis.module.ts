import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AppConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.module.js';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** Injects the shared Redis connection, or null when REDIS_URL is not configured. */
export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);

class RedisLifecycle implements OnApplicationShutdown {
  constructor(@InjectRedis() private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): Redis | null =>
        config.redis.url
          ? new Redis(config.redis.url, {
              // Callers get an error at once while Redis is down instead of queueing behind a reconnect.
              enableOfflineQueue: false,
              maxRetriesPerRequest: 1,
              connectTimeout: 2_000,
              lazyConnect: false,
            })
          : null,
    },
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
