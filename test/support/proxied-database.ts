import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { TcpProxy } from './tcp-proxy.js';
import { testDatabaseUrl } from './test-database.js';

export interface ProxiedDatabase {
  /** DATABASE_URL for the application: it points at the proxy, not at the server. */
  readonly url: string;
  readonly proxy: TcpProxy;
  close(): Promise<void>;
}

/** The test database (external or a fresh embedded one) reached through a proxy the test can cut. */
export async function startProxiedDatabase(): Promise<ProxiedDatabase> {
  const external = testDatabaseUrl();
  let embedded: EmbeddedPostgres | undefined;
  let embeddedDir: string | undefined;
  let serverUrl: URL;
  if (external) {
    serverUrl = new URL(external);
  } else {
    embeddedDir = mkdtempSync(join(tmpdir(), 'opsdeck-proxied-'));
    embedded = await EmbeddedPostgres.start(embeddedDir);
    serverUrl = new URL(embedded.url);
  }
  const proxy = new TcpProxy(serverUrl.hostname, Number(serverUrl.port || 5432));
  await proxy.start();
  const url = new URL(serverUrl.toString());
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return {
    url: url.toString(),
    proxy,
    close: async () => {
      await proxy.stop();
      await embedded?.stop();
      if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
    },
  };
}
