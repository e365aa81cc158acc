import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseDotenv } from 'dotenv';
import { runCli } from '../support/cli.js';
import { eventuallyAuditRow, expectErrorEnvelope, sha256Hex } from '../support/http-assertions.js';
import { bearer, IdentityFixtures, unique } from '../support/identity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TOKEN_FORMAT = /^odt_[A-Za-z0-9_-]{43,}$/;

/** Runs `npm run generate-new-token` (the built CLI) on the given .env file; returns the printed token. */
async function generateToken(envFile: string): Promise<{ token: string; stdout: string }> {
  const result = await runCli('generate-new-token', [envFile]);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const token = result.stdout.split('\n')[0];
  expect(token).toMatch(TOKEN_FORMAT);
  return { token, stdout: result.stdout };
}

const hashLines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => /^\s*API_TOKEN_HASH\s*=/.test(line));

describe('bootstrap token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bootstrap-'));

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('generate-new-token', () => {
    it('prints a new odt_ token once and writes its SHA-256 as API_TOKEN_HASH into a new .env (0600)', async () => {
      const envFile = join(dir, 'fresh.env');
      const { token, stdout } = await generateToken(envFile);

      expect(Buffer.from(token.slice(4), 'base64url').length).toBeGreaterThanOrEqual(32);
      expect(stdout.split(token)).toHaveLength(2);
      expect(stdout).toContain(envFile);
      expect(readFileSync(envFile, 'utf8')).toBe(`API_TOKEN_HASH=${sha256Hex(token)}\n`);
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      expect(parseDotenv(readFileSync(envFile)).API_TOKEN_HASH).toBe(sha256Hex(token));
    });

    it('replaces an earlier API_TOKEN_HASH, keeps every other line and tightens the mode to 0600', async () => {
      const envFile = join(dir, 'existing.env');
      const others = [
        'PORT=3100',
        '# API_TOKEN_HASH=a commented line is not a setting',
        'MY_API_TOKEN_HASH=not-ours',
        'JWT_SECRET=keep-me-keep-me-keep-me-keep-me-keep-me',
        'LOG_LEVEL=debug',
      ];
      writeFileSync(envFile, `${others[0]}\nAPI_TOKEN_HASH=${'0'.repeat(64)}\n${others.slice(1).join('\n')}\n  API_TOKEN_HASH = ${'1'.repeat(64)}\n`);
      chmodSync(envFile, 0o644);

      const first = await generateToken(envFile);
      expect(hashLines(envFile)).toEqual([`API_TOKEN_HASH=${sha256Hex(first.token)}`]);
      expect(readFileSync(envFile, 'utf8').split('\n').filter((line) => !line.startsWith('API_TOKEN_HASH='))).toEqual([...others, '']);
      expect(statSync(envFile).mode & 0o777).toBe(0o600);

      const second = await generateToken(envFile);
      expect(second.token).not.toBe(first.token);
      expect(hashLines(envFile)).toEqual([`API_TOKEN_HASH=${sha256Hex(second.token)}`]);
      expect(readFileSync(envFile, 'utf8')).toBe(`${[...others, `API_TOKEN_HASH=${sha256Hex(second.token)}`].join('\n')}\n`);
      expect(parseDotenv(readFileSync(envFile))).toMatchObject({
        PORT: '3100',
        JWT_SECRET: 'keep-me-keep-me-keep-me-keep-me-keep-me',
        API_TOKEN_HASH: sha256Hex(second.token),
      });
    });

    it('writes .env in the working directory when no file is named', async () => {
      const cwd = mkdtempSync(join(dir, 'cwd-'));
      const result = await runCli('generate-new-token', [], { cwd });
      expect(result.code).toBe(0);
      const token = result.stdout.split('\n')[0];
      expect(readFileSync(join(cwd, '.env'), 'utf8')).toBe(`API_TOKEN_HASH=${sha256Hex(token)}\n`);
      expect(statSync(join(cwd, '.env')).mode & 0o777).toBe(0o600);
    });
  });

  describe('an OpsDeck started with that API_TOKEN_HASH', () => {
    let t: TestApp;
    let token: string;
    let replacedToken: string;

    beforeAll(async () => {
      const envFile = join(dir, 'app.env');
      replacedToken = (await generateToken(envFile)).token;
      token = (await generateToken(envFile)).token;
      const hash = parseDotenv(readFileSync(envFile)).API_TOKEN_HASH;
      t = await startTestApp({ env: { API_TOKEN_HASH: hash } });
    });

    afterAll(async () => {
      await t.close();
    });

    it('accepts the token as an admin through X-API-Key and Authorization: Bearer', async () => {
      const admin = await t.http.get('/api/v1/auth/me').set(bearer(await new IdentityFixtures(t).admin())).expect(200);
      for (const headers of [{ 'X-API-Key': token }, bearer(token)]) {
        const me = await t.http.get('/api/v1/auth/me').set(headers).expect(200);
        expect(me.body.data).toEqual({
          kind: 'bootstrap',
          id: null,
          label: 'bootstrap-token',
          role: 'admin',
          organization_id: null,
          site_id: null,
          permissions: admin.body.data.permissions,
        });
      }
    });

    it('refuses the token it replaced, and anything close to the real one', async () => {
      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', replacedToken), 401, 'UNAUTHORIZED');
      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', `${token}x`), 401, 'UNAUTHORIZED');
      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', token.slice(0, -1)), 401, 'UNAUTHORIZED');
      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', sha256Hex(token)), 401, 'UNAUTHORIZED');
    });

    it('can do what an admin does, and the audit log names the bootstrap token as the actor', async () => {
      const name = unique('bootstrapped');
      const created = await t.http.post('/api/v1/organizations').set('X-API-Key', token).send({ name }).expect(201);
      const organizationId = created.body.data.id as string;
      expect(created.body.data.created_by).toBeNull();

      const row = await eventuallyAuditRow(t, await new IdentityFixtures(t).admin(), { action: 'organization.create' }, (entry) => entry.resource_id === organizationId);
      expect(row).toMatchObject({
        actor: { type: 'bootstrap', id: null, label: 'bootstrap-token' },
        organization_id: null,
        resource_type: 'organization',
        outcome: 'success',
      });

      const user = await t.http
        .post('/api/v1/users/add')
        .set(bearer(token))
        .send({ email: `${unique('boot')}@example.test`, password: 'a-long-enough-password', organization_id: organizationId })
        .expect(201);
      const userRow = await eventuallyAuditRow(t, token, { action: 'user.create', actor: 'bootstrap-token' }, (entry) => entry.resource_id === user.body.data.id);
      expect(userRow.actor.type).toBe('bootstrap');

      const key = await t.http.post('/api/v1/api-keys').set(bearer(token)).send({ name: unique('boot-key'), organization_id: organizationId }).expect(201);
      await t.http.get('/api/v1/auth/me').set('X-API-Key', key.body.data.key as string).expect(200);
    });

    it('needs an explicit organization_id where an admin would default to its own', async () => {
      const response = await t.http.post('/api/v1/api-keys').set('X-API-Key', token).send({ name: unique('no-org') });
      expectErrorEnvelope(response, 400, 'API_KEY.ORGANIZATION_REQUIRED');
    });

    it('opens /api/metrics', async () => {
      const metrics = await t.http.get('/api/metrics').set('X-API-Key', token).expect(200);
      expect(metrics.text).toContain('http_requests_total');
      expectErrorEnvelope(await t.http.get('/api/metrics'), 401, 'UNAUTHORIZED');
    });

    it('cannot be logged out (422): it is revoked by generating a new one', async () => {
      expectErrorEnvelope(await t.http.post('/api/v1/auth/logout').set(bearer(token)), 422, 'AUTH.NOT_A_SESSION');
      await t.http.get('/api/v1/auth/me').set(bearer(token)).expect(200);
    });
  });

  describe('an OpsDeck without API_TOKEN_HASH', () => {
    it('has no bootstrap token', async () => {
      const envFile = join(dir, 'unused.env');
      const { token } = await generateToken(envFile);
      expect(existsSync(envFile)).toBe(true);
      const t = await startTestApp();
      try {
        expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', token), 401, 'UNAUTHORIZED');
        expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set(bearer(token)), 401, 'UNAUTHORIZED');
      } finally {
        await t.close();
      }
    });
  });
});
