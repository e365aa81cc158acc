import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamicModule, Type } from '@nestjs/common';
import type { Server } from 'node:http';
import supertest from 'supertest';
import { createApp, type OpsDeckApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { testDatabaseUrl } from './test-database.js';

/** The first admin every test application creates (or finds) on its database. */
export const TEST_ADMIN = { email: 'admin@opsdeck.test', password: 'admin-password-for-tests' } as const;

export interface TestApp {
  readonly opsdeck: OpsDeckApp;
  readonly server: Server;
  readonly http: ReturnType<typeof supertest>;
  readonly dataDir: string;
  /** http://127.0.0.1:<port> when started with `listen: true` (Socket.IO clients need a real port). */
  readonly url: string | null;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables on top of the test defaults, as an operator would set them. */
  readonly env?: Record<string, string>;
  readonly extraModules?: ReadonlyArray<Type<unknown> | DynamicModule>;
  /** Listen on a loopback port, for Socket.IO clients. */
  readonly listen?: boolean;
}

/** Boots the whole application as `npm start` would, on the test database, with no listening port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsdeck-test-'));
  const databaseUrl = testDatabaseUrl();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    // Tests log in far more often than people do; the limits have tests of their own.
    RATE_LIMIT_PER_MINUTE: '100000',
    LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  };
  const config = loadConfig({ env, ignoreDotenv: true });
  const opsdeck = await createApp(config, { extraModules: options.extraModules });
  const server: Server = opsdeck.app.getHttpServer();
  let url: string | null = null;
  if (options.listen) {
    await opsdeck.app.listen(0, '127.0.0.1');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the test app is not listening on a port');
    url = `http://127.0.0.1:${address.port}`;
  }
  return {
    url,
    opsdeck,
    server,
    http: supertest(server),
    dataDir,
    close: async () => {
      await opsdeck.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
