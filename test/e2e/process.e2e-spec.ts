import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const MAIN = join(process.cwd(), 'dist', 'src', 'main.js');

interface RunningServer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs the built server exactly as `npm start` does, with only the given environment. */
function runServer(env: Record<string, string>): RunningServer {
  const child = spawn(process.execPath, [MAIN], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', JWT_SECRET: 'process-test-secret-0123456789abcdef0123', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms`);
}

describe('the built server process', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds first (pretest)`);
  });

  it('refuses to start on a bad setting and names the key and the rule', async () => {
    const server = runServer({ PORT: 'abc', LOG_LEVEL: 'loud', DATA_DIR: tmpdir() });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('server.port (PORT)');
    expect(server.output()).toContain('log.level (LOG_LEVEL)');
  });

  describe('on the embedded database', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opsdeck-process-'));
    let server: RunningServer;
    let base: string;

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = runServer({ PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info' });
      await waitForHealthy(`${base}/api/health`, 25_000);
    });

    afterAll(() => {
      server.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('writes structured JSON logs with the request id and no credentials', async () => {
      await fetch(`${base}/api/v1/health`, {
        headers: { 'X-Request-Id': 'process-test-1', Authorization: 'Bearer super-secret-token-value' },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const lines = server
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const access = lines.find((line) => line.request_id === 'process-test-1');
      expect(access).toMatchObject({ method: 'GET', route: '/api/v1/health', status: 200, level: 'info' });
      expect(access?.duration_ms).toEqual(expect.any(Number));
      expect(lines.some((line) => line.msg === 'OpsDeck is ready' && line.database === 'embedded')).toBe(true);
      expect(server.output()).not.toContain('super-secret-token-value');
    });

    it('stops on SIGTERM, closing the database, with exit code 0', async () => {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('shutdown complete');
    });
  });
});
