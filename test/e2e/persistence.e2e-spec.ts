import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { createApp, type OpsDeckApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { testDatabaseUrl } from '../support/test-database.js';

function bootOn(dataDir: string, databaseUrl: string): Promise<OpsDeckApp> {
  const config = loadConfig({
    env: { NODE_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: databaseUrl },
    ignoreDotenv: true,
  });
  return createApp(config);
}

async function rowCount(app: OpsDeckApp, sql: string, parameters: unknown[] = []): Promise<number> {
  const rows: Array<{ count: string }> = await app.app.get(DataSource).query(sql, parameters);
  return Number(rows[0].count);
}

/** Same steps for both back-ends: write, stop, start again on the same storage, read. */
function describePersistence(name: string, databaseUrl: () => string | undefined): void {
  describe(name, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opsdeck-persist-'));
    const marker = `persisted-${process.pid}-${Date.now()}`;

    afterAll(async () => {
      const url = databaseUrl();
      if (url) {
        const app = await bootOn(dataDir, url);
        await app.app.get(DataSource).query('DELETE FROM app_state WHERE key = $1', [marker]);
        await app.close();
      }
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('runs the migrations once and keeps written data across a restart', async () => {
      const url = databaseUrl() ?? '';
      const first = await bootOn(dataDir, url);
      const migrationsAfterFirstStart = await rowCount(first, 'SELECT count(*) FROM migrations');
      expect(migrationsAfterFirstStart).toBeGreaterThan(0);
      await first.app.get(DataSource).query("INSERT INTO app_state (key, value) VALUES ($1, '\"kept\"')", [marker]);
      await first.close();

      const second = await bootOn(dataDir, url);
      try {
        expect(await rowCount(second, 'SELECT count(*) FROM app_state WHERE key = $1', [marker])).toBe(1);
        expect(await rowCount(second, 'SELECT count(*) FROM migrations')).toBe(migrationsAfterFirstStart);
        expect(second.database.embedded).toBe(url === '');
      } finally {
        await second.close();
      }
    });

    if (!databaseUrl()) {
      it('keeps the embedded database under DATA_DIR/pglite, private to its owner', () => {
        const stats = statSync(join(dataDir, 'pglite'));
        expect(stats.isDirectory()).toBe(true);
        expect(stats.mode & 0o077).toBe(0);
      });
    }
  });
}

// An empty DATABASE_URL overrides whatever the environment has, so this always exercises PGlite.
describePersistence('embedded PostgreSQL (PGlite)', () => undefined);

const external = testDatabaseUrl();
if (external) {
  describePersistence('external PostgreSQL (TEST_DATABASE_URL)', () => external);
} else {
  describe('external PostgreSQL', () => {
    it.todo('runs when TEST_DATABASE_URL is set (CI sets it)');
  });
}
