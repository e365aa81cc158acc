import type { AppConfig } from '../config/config.schema.js';
import { embeddedDatabaseDir, type DatabaseTarget } from './database-options.js';
import { EmbeddedPostgres } from './embedded-postgres.js';

export interface OpenedDatabaseTarget extends DatabaseTarget {
  /** Stops the embedded server; a no-op for an external one. */
  close(): Promise<void>;
}

/** DATABASE_URL when configured, otherwise an embedded PostgreSQL under DATA_DIR/pglite. */
export async function openDatabaseTarget(config: AppConfig): Promise<OpenedDatabaseTarget> {
  if (config.database.url) {
    return { url: config.database.url, embedded: false, close: () => Promise.resolve() };
  }
  const embedded = await EmbeddedPostgres.start(embeddedDatabaseDir(config));
  return { url: embedded.url, embedded: true, close: () => embedded.stop() };
}
