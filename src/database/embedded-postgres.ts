import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PostgreSQL's defaults size buffers for a dedicated server; inside this process they would be most of its
 * memory (shared_buffers alone is 128 MB). These fit an operations team's data and keep idle RSS low.
 */
const EMBEDDED_POSTGRESQL_CONF = [
  'shared_buffers = 8MB',
  'work_mem = 4MB',
  'maintenance_work_mem = 16MB',
  'temp_buffers = 4MB',
  'wal_buffers = 1MB',
];

/**
 * PostgreSQL compiled to WebAssembly (PGlite), persisted on disk and served on a loopback port so the
 * application reaches it through the same `pg` driver and migrations as an external server.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const db = await PGlite.create(dataDir, { postgresqlconf: EMBEDDED_POSTGRESQL_CONF });
    // PGlite has one session: a single socket connection keeps transactions from interleaving.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    return new EmbeddedPostgres(db, server, `postgresql://postgres@${server.getServerConn()}/postgres`);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}
