import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { InjectRedis } from '../redis/redis.module.js';
import { DATABASE_TARGET } from '../database/database.module.js';
import type { DatabaseTarget } from '../database/database-options.js';
import type { DependencyCheckDto, HealthDto } from './health.dto.js';

const CHECK_TIMEOUT_MS = 2_000;
/** Probes answered within this long are reused, so polling load balancers cannot pile queries on the database. */
const CHECK_REUSE_MS = 1_000;

type DependencyChecks = [database: DependencyCheckDto, redis: DependencyCheckDto | undefined];

@Injectable()
export class HealthService {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(DATABASE_TARGET) private readonly databaseTarget: DatabaseTarget,
    @InjectRedis() private readonly redis: Redis | null,
  ) {}

  private latestChecks: { readonly result: Promise<DependencyChecks>; settledAt: number | null } | undefined;

  /** The report, or a 503 carrying it in `details` when a required dependency is down. */
  async check(): Promise<HealthDto> {
    const [database, redis] = await this.dependencyChecks();
    const healthy = database.status === 'up';
    const report: HealthDto = {
      status: healthy ? 'ok' : 'unavailable',
      version: this.config.app.version,
      uptime_seconds: Math.round(process.uptime() * 10) / 10,
      checks: redis ? { database, redis } : { database },
    };
    if (!healthy) {
      throw new AppError(HttpStatus.SERVICE_UNAVAILABLE, 'SERVICE_UNAVAILABLE', 'The database is unreachable', {
        ...report,
      });
    }
    return report;
  }

  /** One probe at a time, shared by every request while it runs and for CHECK_REUSE_MS after. */
  private dependencyChecks(): Promise<DependencyChecks> {
    const latest = this.latestChecks;
    if (latest && (latest.settledAt === null || Date.now() - latest.settledAt < CHECK_REUSE_MS)) return latest.result;
    const redis = this.redis;
    const result = Promise.all([
      this.probe(() => this.dataSource.query('SELECT 1'), this.databaseTarget.embedded ? 'embedded' : 'external'),
      redis ? this.probe(() => redis.ping(), 'redis') : Promise.resolve(undefined),
    ]);
    const entry: { readonly result: Promise<DependencyChecks>; settledAt: number | null } = { result, settledAt: null };
    void result.then(() => {
      entry.settledAt = Date.now();
    });
    this.latestChecks = entry;
    return result;
  }

  private async probe(run: () => Promise<unknown>, kind: string): Promise<DependencyCheckDto> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        run(),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
        }),
      ]);
      return { status: 'up', kind, latency_ms: elapsed(started) };
    } catch (error) {
      return { status: 'down', kind, latency_ms: elapsed(started), error: describe(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** A short reason without connection strings or stack traces. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const message = error instanceof Error ? error.message : 'unknown error';
  return message.replace(/\w+:\/\/\S+/g, '<url>').slice(0, 200);
}
