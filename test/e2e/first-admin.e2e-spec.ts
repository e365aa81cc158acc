import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import supertest from 'supertest';
import { createApp, type OpsDeckApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { runCli } from '../support/cli.js';
import { auditRows, expectErrorEnvelope } from '../support/http-assertions.js';
import { bearer, unique } from '../support/identity.js';
import { startTestApp } from '../support/test-app.js';
import { testDatabaseUrl } from '../support/test-database.js';

const PASSWORD_FILE = 'initial-admin-password';

interface Booted {
  readonly opsdeck: OpsDeckApp;
  readonly http: ReturnType<typeof supertest>;
  /** What the start-up wrote to stdout (the generated password is announced there, not in the log). */
  readonly stdout: string;
}

/**
 * Starts OpsDeck on a fresh or earlier-used embedded database under dataDir (DATABASE_URL is empty, so the
 * shared test database is never used: it has an admin already). Unlike startTestApp, dataDir survives close().
 */
async function boot(dataDir: string, env: Record<string, string>): Promise<Booted> {
  const config = loadConfig({
    env: {
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      RATE_LIMIT_PER_MINUTE: '100000',
      LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
      ...env,
    },
    ignoreDotenv: true,
  });
  let stdout = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  try {
    const opsdeck = await createApp(config);
    return { opsdeck, http: supertest(opsdeck.app.getHttpServer()), stdout };
  } finally {
    spy.mockRestore();
  }
}

async function login(http: Booted['http'], email: string, password: string): Promise<string> {
  const response = await http.post('/api/v1/auth/login').send({ email, password });
  expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
  return response.body.data.access_token as string;
}

async function admins(http: Booted['http'], token: string): Promise<string[]> {
  const response = await http.get('/api/v1/users').query({ role: 'admin', per_page: 100 }).set(bearer(token)).expect(200);
  return (response.body.data as Array<{ email: string }>).map((user) => user.email).sort();
}

/** The password create-admin (or the first start) announced on stdout. */
function announcedPassword(stdout: string): string {
  const match = /generated password:\n\n {4}(\S+)\n/.exec(stdout);
  if (!match) throw new Error(`no generated password announced in:\n${stdout}`);
  return match[1];
}

const cliEnv = (dataDir: string, extra: Record<string, string> = {}): Record<string, string> => ({
  NODE_ENV: 'test',
  DATA_DIR: dataDir,
  DATABASE_URL: '',
  ADMIN_PASSWORD: '',
  ADMIN_EMAIL: '',
  ...extra,
});

describe('first admin with a generated password (ADMIN_EMAIL set, ADMIN_PASSWORD unset)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsdeck-first-admin-'));
  const email = `${unique('first')}@example.test`;
  const passwordFile = join(dataDir, PASSWORD_FILE);
  let generated: string;
  let fileStats: { mtimeMs: number; content: string };

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the admin on the first start and writes the password to DATA_DIR/initial-admin-password (0600) and stdout once', async () => {
    const app = await boot(dataDir, { ADMIN_EMAIL: email, ADMIN_PASSWORD: '' });
    try {
      expect(existsSync(passwordFile)).toBe(true);
      expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
      const content = readFileSync(passwordFile, 'utf8');
      expect(content).toMatch(/^\S+\n$/);
      generated = content.trim();
      expect(generated.length).toBeGreaterThanOrEqual(16);
      fileStats = { mtimeMs: statSync(passwordFile).mtimeMs, content };

      expect(announcedPassword(app.stdout)).toBe(generated);
      expect(app.stdout.split(generated)).toHaveLength(2);
      expect(app.stdout).toContain(email);
      expect(app.stdout).toContain(passwordFile);

      const token = await login(app.http, email, generated);
      const me = await app.http.get('/api/v1/auth/me').set(bearer(token)).expect(200);
      expect(me.body.data).toMatchObject({ kind: 'user', role: 'admin', label: email });
      expect(await admins(app.http, token)).toEqual([email]);
      const user = await app.http.get(`/api/v1/users/${me.body.data.id as string}`).set(bearer(token)).expect(200);
      expect(user.body.data.organization.name).toBe('Default');

      const { rows } = await auditRows(app, token, { action: 'user.create', resource_type: 'user' });
      const row = rows.find((entry) => entry.resource_id === me.body.data.id);
      expect(row).toMatchObject({ actor: { type: 'system', id: null, label: 'bootstrap' }, status_code: 201, outcome: 'success' });
      expect(JSON.stringify(row)).not.toContain(generated);
    } finally {
      await app.opsdeck.close();
    }
  });

  it('does not create another admin nor rewrite the file on the next start, even with another ADMIN_EMAIL', async () => {
    const otherEmail = `${unique('second-start')}@example.test`;
    const app = await boot(dataDir, { ADMIN_EMAIL: otherEmail, ADMIN_PASSWORD: '' });
    try {
      expect(readFileSync(passwordFile, 'utf8')).toBe(fileStats.content);
      expect(statSync(passwordFile).mtimeMs).toBe(fileStats.mtimeMs);
      expect(app.stdout).not.toContain('generated password');
      const token = await login(app.http, email, generated);
      expect(await admins(app.http, token)).toEqual([email]);
      const users = await app.http.get('/api/v1/users').set(bearer(token)).expect(200);
      expect(users.body.meta.total).toBe(1);
    } finally {
      await app.opsdeck.close();
    }
  });

  describe('npm run create-admin', () => {
    it('creates an additional admin, prints the generated password once and exits 0', async () => {
      const second = `${unique('cli-admin')}@example.test`;
      const result = await runCli('create-admin', ['--email', second], { env: cliEnv(dataDir) });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const password = announcedPassword(result.stdout);
      expect(result.stdout.split(password)).toHaveLength(2);
      expect(result.stdout).toContain(second);
      // It "does the same" as the first start: the password is also in the file, private to its owner.
      expect(readFileSync(passwordFile, 'utf8')).toBe(`${password}\n`);
      expect(statSync(passwordFile).mode & 0o777).toBe(0o600);

      const app = await boot(dataDir, {});
      try {
        const token = await login(app.http, second, password);
        const me = await app.http.get('/api/v1/auth/me').set(bearer(token)).expect(200);
        expect(me.body.data.role).toBe('admin');
        expect(await admins(app.http, token)).toEqual([email, second].sort());
        // The first admin is untouched.
        await login(app.http, email, generated);
      } finally {
        await app.opsdeck.close();
      }
    });

    it('uses ADMIN_PASSWORD when set and prints no password', async () => {
      const third = `${unique('cli-configured')}@example.test`;
      const password = 'configured-cli-password-123';
      const before = readFileSync(passwordFile, 'utf8');
      const result = await runCli('create-admin', ['--email', third], { env: cliEnv(dataDir, { ADMIN_PASSWORD: password }) });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(third);
      expect(result.stdout).not.toContain(password);
      expect(result.stdout).not.toContain('generated password');
      expect(readFileSync(passwordFile, 'utf8')).toBe(before);

      const app = await boot(dataDir, {});
      try {
        expect((await app.http.get('/api/v1/auth/me').set(bearer(await login(app.http, third, password))).expect(200)).body.data.role).toBe(
          'admin',
        );
      } finally {
        await app.opsdeck.close();
      }
    });

    it('refuses an email that is taken, exits non-zero and creates nothing', async () => {
      const result = await runCli('create-admin', ['--email', email.toUpperCase()], { env: cliEnv(dataDir) });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('create-admin failed');
      expect(result.stdout).not.toContain('generated password');
    });

    it('refuses an email that is not one (nobody could ever sign in with it), exits non-zero and creates nothing', async () => {
      const result = await runCli('create-admin', ['--email', 'not-an-email'], { env: cliEnv(dataDir) });
      expect(result.code).not.toBe(0);
      expect(result.stdout).not.toContain('generated password');
      const app = await boot(dataDir, {});
      try {
        const token = await login(app.http, email, generated);
        expect(await admins(app.http, token)).not.toContain('not-an-email');
      } finally {
        await app.opsdeck.close();
      }
    });

    it('keeps the password file private even when an earlier one was left readable by others', async () => {
      chmodSync(passwordFile, 0o644);
      const result = await runCli('create-admin', ['--email', `${unique('cli-perm')}@example.test`], { env: cliEnv(dataDir) });
      expect(result.code).toBe(0);
      expect(readFileSync(passwordFile, 'utf8')).toBe(`${announcedPassword(result.stdout)}\n`);
      expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    });
  });
});

describe('first admin with ADMIN_PASSWORD set', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsdeck-first-admin-pw-'));

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the admin with that password, writes no password file and prints no password', async () => {
    const email = `${unique('configured')}@example.test`;
    const password = 'configured-admin-password-42';
    const app = await boot(dataDir, { ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
    try {
      expect(existsSync(join(dataDir, PASSWORD_FILE))).toBe(false);
      expect(app.stdout).not.toContain(password);
      expect(app.stdout).not.toContain('generated password');
      const token = await login(app.http, email, password);
      expect(await admins(app.http, token)).toEqual([email]);
      expectErrorEnvelope(await app.http.post('/api/v1/auth/login').send({ email, password: `${password}x` }), 401, 'AUTH.INVALID_CREDENTIALS');
    } finally {
      await app.opsdeck.close();
    }
  });
});

const external = testDatabaseUrl();
(external ? describe : describe.skip)('npm run create-admin on an external PostgreSQL (TEST_DATABASE_URL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsdeck-create-admin-ext-'));

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates an admin beside the existing ones; the running service lets it sign in', async () => {
    // The service starts first, as in real life: it creates the shared database's first admin (TEST_ADMIN),
    // which the other suites sign in with whatever order they run in.
    const t = await startTestApp();
    try {
      const email = `${unique('ext-admin')}@example.test`;
      const result = await runCli('create-admin', ['--email', email], { env: cliEnv(dataDir, { DATABASE_URL: external ?? '' }) });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const password = announcedPassword(result.stdout);
      const response = await t.http.post('/api/v1/auth/login').send({ email, password }).expect(200);
      const me = await t.http.get('/api/v1/auth/me').set(bearer(response.body.data.access_token as string)).expect(200);
      expect(me.body.data.role).toBe('admin');
    } finally {
      await t.close();
    }
  });
});
