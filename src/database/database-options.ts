import { join, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/config.schema.js';
import { MIGRATIONS } from '../../migrations/index.js';

/** Where the application's database lives: an external server, or the embedded one this process started. */
export interface DatabaseTarget {
  readonly url: string;
  readonly embedded: boolean;
}

export function embeddedDatabaseDir(config: AppConfig): string {
  return resolve(join(config.data_dir, 'pglite'));
}

/** One set of options for both the external server and the embedded one: only the URL and pool differ. */
export function buildDataSourceOptions(config: AppConfig, target: DatabaseTarget): DataSourceOptions {
  return {
    type: 'postgres',
    url: target.url,
    synchronize: false,
    migrationsRun: config.database.run_migrations,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    logging: false,
    // PGlite has a single session, so the embedded server takes exactly one connection.
    poolSize: target.embedded ? 1 : config.database.pool_size,
    applicationName: 'opsdeck',
    connectTimeoutMS: config.database.connect_timeout_ms,
    extra: {
      statement_timeout: config.database.statement_timeout_ms || undefined,
      idleTimeoutMillis: 30_000,
    },
  };
}
