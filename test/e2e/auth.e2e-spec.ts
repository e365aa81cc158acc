import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { expectErrorEnvelope, type HttpResponse } from '../support/http-assertions.js';
import { bearer, IdentityFixtures, unique, type TestUser } from '../support/identity.js';
import { startTestApp, TEST_ADMIN, type TestApp } from '../support/test-app.js';

const LOGIN = '/api/v1/auth/login';
const ME = '/api/v1/auth/me';
const LOGOUT = '/api/v1/auth/logout';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ALL_PERMISSIONS = [
  'api_key.manage',
  'audit.read',
  'container.read',
  'container.write',
  'idrac.read',
  'idrac.write',
  'metrics.read',
  'module_report.write',
  'operation.cancel',
  'operation.read',
  'organization.read',
  'organization.write',
  'patch_run.write',
  'profile.update',
  'self.read',
  'site.read',
  'site.write',
  'user.admin',
  'user.read',
];
const VIEWER_PERMISSIONS = [
  'container.read',
  'idrac.read',
  'operation.read',
  'organization.read',
  'profile.update',
  'self.read',
  'site.read',
  'user.read',
];
const OPERATOR_PERMISSIONS = [
  ...VIEWER_PERMISSIONS,
  'container.write',
  'idrac.write',
  'module_report.write',
  'operation.cancel',
  'patch_run.write',
  'site.write',
].sort();

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}

/** The claims OpsDeck itself puts in an access token, for `sub`, valid for an hour unless overridden. */
function claims(sub: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = nowSeconds();
  return { sub, jti: randomUUID(), typ: 'access', iat, exp: iat + 3600, ...overrides };
}

const sign = (payload: Record<string, unknown>, secret: string, algorithm: jwt.Algorithm = 'HS256'): string =>
  jwt.sign(payload, secret, { algorithm });

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** The parts of two error envelopes that must not differ (everything but the time and the request id). */
const comparable = (response: HttpResponse): Record<string, unknown> => {
  const rest = { ...(response.body as Record<string, unknown>) };
  delete rest.timestamp;
  delete rest.request_id;
  return rest;
};

describe('auth (default settings, generated JWT secret)', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let organizationId: string;
  let viewer: TestUser;
  let secret: string;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    organizationId = (await fixtures.newOrganization()).id;
    viewer = await fixtures.newUser('viewer', organizationId);
    secret = readFileSync(join(t.dataDir, 'jwt-secret'), 'utf8').trim();
  });

  afterAll(async () => {
    await t.close();
  });

  describe('POST /auth/login', () => {
    it('answers 200 with exactly {access_token, token_type: Bearer, expires_in}, an HS256 JWT that works', async () => {
      const response = await t.http.post(LOGIN).send({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }).expect(200);
      const data = response.body.data as { access_token: string; token_type: string; expires_in: number };
      expect(Object.keys(data).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
      expect(data.token_type).toBe('Bearer');
      expect(data.expires_in).toBe(3600); // config/default.json
      const { header, payload } = decode(data.access_token);
      expect(header.alg).toBe('HS256');
      expect(payload.sub).toMatch(UUID);
      expect(payload.jti).toMatch(UUID);
      expect((payload.exp as number) - (payload.iat as number)).toBe(data.expires_in);
      expect(Math.abs((payload.exp as number) - (nowSeconds() + data.expires_in))).toBeLessThanOrEqual(5);
      const me = await t.http.get(ME).set(bearer(data.access_token)).expect(200);
      expect(me.body.data).toMatchObject({ kind: 'user', id: payload.sub, label: TEST_ADMIN.email, role: 'admin' });
    });

    it('gives every login a distinct token id', async () => {
      const first = await fixtures.login(viewer.email, viewer.password);
      const second = await fixtures.login(viewer.email, viewer.password);
      expect(decode(first).payload.jti).not.toBe(decode(second).payload.jti);
    });

    it('treats the email case-insensitively and ignores surrounding spaces', async () => {
      await t.http.post(LOGIN).send({ email: `  ${viewer.email.toUpperCase()} `, password: viewer.password }).expect(200);
    });

    it('answers an unknown email and a wrong password with the same 401', async () => {
      const unknown = await t.http.post(LOGIN).send({ email: `${unique('nobody')}@example.test`, password: viewer.password });
      const wrong = await t.http.post(LOGIN).send({ email: viewer.email, password: `${viewer.password}x` });
      expectErrorEnvelope(unknown, 401, 'AUTH.INVALID_CREDENTIALS');
      expectErrorEnvelope(wrong, 401, 'AUTH.INVALID_CREDENTIALS');
      expect(comparable(unknown)).toEqual(comparable(wrong));
      expect(Object.keys(unknown.headers).sort()).toEqual(Object.keys(wrong.headers).sort());
      expect(JSON.stringify(wrong.body)).not.toContain(viewer.password);
    });

    it('takes about as long for an unknown email as for a wrong password (argon2 runs for both)', async () => {
      const time = async (email: string, password: string): Promise<number> => {
        const started = performance.now();
        const response = await t.http.post(LOGIN).send({ email, password });
        const elapsed = performance.now() - started;
        expect(response.status).toBe(401);
        return elapsed;
      };
      const unknownEmail = (): string => `${unique('ghost')}@example.test`;
      // Warm-up: the first unknown email pays for the throw-away hash once.
      for (let i = 0; i < 2; i += 1) {
        await time(unknownEmail(), 'wrong-password-123');
        await time(viewer.email, 'wrong-password-123');
      }
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 10; i += 1) {
        unknown.push(await time(unknownEmail(), 'wrong-password-123'));
        wrong.push(await time(viewer.email, 'wrong-password-123'));
      }
      const [fast, slow] = [median(unknown), median(wrong)].sort((a, b) => a - b);
      expect(slow / fast).toBeLessThan(3);
      expect(slow - fast).toBeLessThan(150);
    });

    it.each([
      ['no body', undefined, 'email'],
      ['an empty object', {}, 'email'],
      ['no password', { email: 'a@example.test' }, 'password'],
      ['no email', { password: 'some-password-1' }, 'email'],
      ['an email that is not one', { email: 'not-an-email', password: 'some-password-1' }, 'email'],
      ['a numeric password', { email: 'a@example.test', password: 12345678901234 }, 'password'],
      ['an empty password', { email: 'a@example.test', password: '' }, 'password'],
      ['an unknown field', { email: 'a@example.test', password: 'some-password-1', remember_me: true }, 'remember_me'],
      ['an array', [{ email: 'a@example.test', password: 'some-password-1' }], ''],
    ])('refuses %s with 400 VALIDATION_FAILED naming the field', async (_label, body, field) => {
      const request = t.http.post(LOGIN).set('Content-Type', 'application/json');
      const response = body === undefined ? await request : await request.send(body);
      expectErrorEnvelope(response, 400, 'VALIDATION_FAILED');
      const fields = (response.body.details as Array<{ field: string }>).map((detail) => detail.field);
      expect(fields).toContain(field);
    });

    it('refuses malformed JSON with 400 MALFORMED_JSON and a non-JSON body with 415', async () => {
      const malformed = await t.http.post(LOGIN).set('Content-Type', 'application/json').send('{"email": "a@b.c", ');
      expectErrorEnvelope(malformed, 400, 'MALFORMED_JSON');
      const form = await t.http.post(LOGIN).type('form').send({ email: TEST_ADMIN.email, password: TEST_ADMIN.password });
      expectErrorEnvelope(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('GET /auth/me', () => {
    it('describes a viewer: kind, id, label, role, organization and read-only permissions', async () => {
      const response = await t.http.get(ME).set(bearer(viewer.token)).expect(200);
      expect(response.body.data).toEqual({
        kind: 'user',
        id: viewer.id,
        label: viewer.email,
        role: 'viewer',
        organization_id: organizationId,
        site_id: null,
        permissions: VIEWER_PERMISSIONS,
      });
    });

    it('describes an operator and an admin with their permissions', async () => {
      const operator = await fixtures.newUser('operator', organizationId);
      const asOperator = await t.http.get(ME).set(bearer(operator.token)).expect(200);
      expect(asOperator.body.data).toMatchObject({ kind: 'user', id: operator.id, role: 'operator', organization_id: organizationId });
      expect(asOperator.body.data.permissions).toEqual(OPERATOR_PERMISSIONS);

      const asAdmin = await t.http.get(ME).set(bearer(await fixtures.admin())).expect(200);
      expect(asAdmin.body.data).toMatchObject({ kind: 'user', role: 'admin', label: TEST_ADMIN.email, site_id: null });
      expect(asAdmin.body.data.organization_id).toMatch(UUID);
      expect(asAdmin.body.data.permissions).toEqual(ALL_PERMISSIONS);
    });

    it('describes an API key, through X-API-Key and through Authorization: Bearer', async () => {
      const key = await fixtures.newApiKey({ role: 'operator', organizationId });
      const expected = {
        kind: 'api_key',
        id: key.id,
        label: key.key.slice(0, 12),
        role: 'operator',
        organization_id: organizationId,
        site_id: null,
        permissions: OPERATOR_PERMISSIONS,
      };
      const viaHeader = await t.http.get(ME).set('X-API-Key', key.key).expect(200);
      expect(viaHeader.body.data).toEqual(expected);
      const viaBearer = await t.http.get(ME).set(bearer(key.key)).expect(200);
      expect(viaBearer.body.data).toEqual(expected);
    });

    it('answers 401 in the error envelope without credentials', async () => {
      expectErrorEnvelope(await t.http.get(ME), 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /auth/logout', () => {
    it('revokes exactly the presented token: it is refused afterwards, another token of the same user still works', async () => {
      const user = await fixtures.newUser('viewer', organizationId);
      const other = await fixtures.login(user.email, user.password);
      await t.http.get(ME).set(bearer(user.token)).expect(200);

      await t.http.post(LOGOUT).set(bearer(user.token)).expect(200);

      expectErrorEnvelope(await t.http.get(ME).set(bearer(user.token)), 401, 'UNAUTHORIZED');
      expectErrorEnvelope(await t.http.post(LOGOUT).set(bearer(user.token)), 401, 'UNAUTHORIZED');
      const stillValid = await t.http.get(ME).set(bearer(other)).expect(200);
      expect(stillValid.body.data.id).toBe(user.id);
      // A fresh login after logout works as well.
      await t.http.get(ME).set(bearer(await fixtures.login(user.email, user.password))).expect(200);
    });

    it('refuses to log out an API key with 422; the key keeps working', async () => {
      const key = await fixtures.newApiKey({ role: 'viewer', organizationId });
      expectErrorEnvelope(await t.http.post(LOGOUT).set('X-API-Key', key.key), 422, 'AUTH.NOT_A_SESSION');
      expectErrorEnvelope(await t.http.post(LOGOUT).set(bearer(key.key)), 422, 'AUTH.NOT_A_SESSION');
      await t.http.get(ME).set('X-API-Key', key.key).expect(200);
    });

    it('answers 401 without credentials', async () => {
      expectErrorEnvelope(await t.http.post(LOGOUT), 401, 'UNAUTHORIZED');
    });
  });

  describe('tokens that must be refused', () => {
    const expectRefused = async (authorization: string): Promise<void> => {
      const response = await t.http.get(ME).set('Authorization', authorization);
      expectErrorEnvelope(response, 401, 'UNAUTHORIZED');
    };

    it('keeps the generated secret in DATA_DIR/jwt-secret, readable by its owner only', () => {
      expect(statSync(join(t.dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
      expect(secret.length).toBeGreaterThanOrEqual(32);
    });

    it('accepts a token signed here with the same secret and claims (so the refusals below are meaningful)', async () => {
      const response = await t.http.get(ME).set(bearer(sign(claims(viewer.id), secret))).expect(200);
      expect(response.body.data.id).toBe(viewer.id);
    });

    it('refuses an expired token', async () => {
      await expectRefused(`Bearer ${sign(claims(viewer.id, { iat: nowSeconds() - 7200, exp: nowSeconds() - 60 }), secret)}`);
    });

    it('refuses a token that is not valid yet (nbf in the future)', async () => {
      await expectRefused(`Bearer ${sign(claims(viewer.id, { nbf: nowSeconds() + 600 }), secret)}`);
    });

    it('refuses a token without an expiry', async () => {
      const noExpiry = claims(viewer.id);
      delete noExpiry.exp;
      await expectRefused(`Bearer ${sign(noExpiry, secret)}`);
    });

    it('refuses a forged token (signed with another secret)', async () => {
      await expectRefused(`Bearer ${sign(claims(viewer.id), `${secret}-but-not-quite-the-same`)}`);
      await expectRefused(`Bearer ${sign(claims(viewer.id), 'x'.repeat(64))}`);
    });

    it('refuses alg=none tokens, with or without a signature', async () => {
      const payload = base64url(claims(viewer.id));
      for (const alg of ['none', 'None', 'NONE']) {
        await expectRefused(`Bearer ${base64url({ alg, typ: 'JWT' })}.${payload}.`);
      }
      const genuineSignature = sign(claims(viewer.id), secret).split('.')[2];
      await expectRefused(`Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${genuineSignature}`);
    });

    it('refuses tokens signed with the right secret but another algorithm (HS384, HS512)', async () => {
      await expectRefused(`Bearer ${sign(claims(viewer.id), secret, 'HS384')}`);
      await expectRefused(`Bearer ${sign(claims(viewer.id), secret, 'HS512')}`);
    });

    it('refuses an RS256 token', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await expectRefused(`Bearer ${sign(claims(viewer.id), pem, 'RS256')}`);
    });

    it('refuses a genuine token whose payload was altered (another sub, a later exp)', async () => {
      const [header, , signature] = sign(claims(viewer.id), secret).split('.');
      const admin = decode(await fixtures.admin()).payload.sub as string;
      await expectRefused(`Bearer ${header}.${base64url(claims(admin))}.${signature}`);
      await expectRefused(`Bearer ${header}.${base64url(claims(viewer.id, { exp: nowSeconds() + 999_999 }))}.${signature}`);
    });

    it('refuses tokens with claims OpsDeck does not issue (no typ, wrong typ, a sub or jti that is not a UUID)', async () => {
      const noType = claims(viewer.id);
      delete noType.typ;
      await expectRefused(`Bearer ${sign(noType, secret)}`);
      await expectRefused(`Bearer ${sign(claims(viewer.id, { typ: 'refresh' }), secret)}`);
      await expectRefused(`Bearer ${sign(claims('admin'), secret)}`);
      await expectRefused(`Bearer ${sign(claims(viewer.id, { jti: 'not-a-uuid' }), secret)}`);
    });

    it('refuses garbage', async () => {
      await expectRefused('Bearer garbage');
      await expectRefused('Bearer not.a.jwt');
      await expectRefused('Bearer eyJhbGciOiJIUzI1NiJ9.e30.');
      await expectRefused(`Bearer ${'a'.repeat(5000)}.${'b'.repeat(10)}.${'c'.repeat(10)}`);
      await expectRefused('Bearer ');
      await expectRefused('Bearer');
      await expectRefused('Bearer two tokens');
    });

    it('refuses a token without the "Bearer" scheme, and other schemes', async () => {
      await expectRefused(viewer.token);
      await expectRefused(`Token ${viewer.token}`);
      await expectRefused(`Basic ${Buffer.from(`${viewer.email}:${viewer.password}`).toString('base64')}`);
      // A bad Authorization header is not rescued by a good X-API-Key either.
      const key = await fixtures.newApiKey({ role: 'viewer', organizationId });
      const response = await t.http.get(ME).set('Authorization', 'Bearer garbage').set('X-API-Key', key.key);
      expectErrorEnvelope(response, 401, 'UNAUTHORIZED');
    });

    it('refuses a correctly signed token whose sub is a random UUID', async () => {
      await expectRefused(`Bearer ${sign(claims(randomUUID()), secret)}`);
    });

    it('refuses a token whose jti was revoked by logout, even re-signed with a new expiry', async () => {
      const user = await fixtures.newUser('viewer', organizationId);
      const { jti } = decode(user.token).payload;
      await t.http.post(LOGOUT).set(bearer(user.token)).expect(200);
      await expectRefused(`Bearer ${user.token}`);
      await expectRefused(`Bearer ${sign(claims(user.id, { jti }), secret)}`);
      // The same claims with a fresh jti are fine: only that token id was revoked.
      await t.http.get(ME).set(bearer(sign(claims(user.id), secret))).expect(200);
    });

    it('refuses the token of a deleted user at once', async () => {
      const user = await fixtures.newUser('operator', organizationId);
      await t.http.get(ME).set(bearer(user.token)).expect(200);
      await t.http.delete(`/api/v1/users/delete/${user.id}`).set(bearer(await fixtures.admin())).expect(200);
      await expectRefused(`Bearer ${user.token}`);
      await expectRefused(`Bearer ${sign(claims(user.id), secret)}`);
      expectErrorEnvelope(await t.http.post(LOGIN).send({ email: user.email, password: user.password }), 401, 'AUTH.INVALID_CREDENTIALS');
    });

    it('refuses the tokens of users of a deleted organization at once', async () => {
      const organization = await fixtures.newOrganization();
      const user = await fixtures.newUser('viewer', organization.id);
      await t.http.get(ME).set(bearer(user.token)).expect(200);
      await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(await fixtures.admin())).expect(200);
      await expectRefused(`Bearer ${user.token}`);
    });

    it('refuses a token issued by another OpsDeck with its own secret', async () => {
      const other = await startTestApp();
      try {
        const foreign = await new IdentityFixtures(other).admin();
        await other.http.get(ME).set(bearer(foreign)).expect(200);
        await expectRefused(`Bearer ${foreign}`);
      } finally {
        await other.close();
      }
    });
  });
});

describe('auth with JWT_SECRET and JWT_EXPIRES_IN configured', () => {
  const SECRET = `configured-secret-${randomUUID()}`;
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { JWT_SECRET: SECRET, JWT_EXPIRES_IN: '120' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers expires_in = JWT_EXPIRES_IN and signs tokens for that long with JWT_SECRET', async () => {
    const response = await t.http.post(LOGIN).send({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }).expect(200);
    const { access_token: token, expires_in: expiresIn } = response.body.data as { access_token: string; expires_in: number };
    expect(expiresIn).toBe(120);
    const verified = jwt.verify(token, SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect((verified.exp ?? 0) - (verified.iat ?? 0)).toBe(120);
  });

  it('accepts a token signed with JWT_SECRET and refuses one signed with a generated secret', async () => {
    const adminId = (await t.http.get(ME).set(bearer(await new IdentityFixtures(t).admin())).expect(200)).body.data.id as string;
    await t.http.get(ME).set(bearer(sign(claims(adminId), SECRET))).expect(200);
    expectErrorEnvelope(await t.http.get(ME).set(bearer(sign(claims(adminId), `${SECRET}!`))), 401, 'UNAUTHORIZED');
  });
});

describe('login rate limit per client (LOGIN_RATE_LIMIT_PER_MINUTE=3, no proxy trusted)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '3' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('refuses the 4th attempt from one client with 429, Retry-After and the envelope, for any account and any X-Forwarded-For', async () => {
    // Three different accounts and three different (untrusted, so ignored) X-Forwarded-For values: one client.
    for (let i = 1; i <= 3; i += 1) {
      const response = await t.http
        .post(LOGIN)
        .set('X-Forwarded-For', `203.0.113.${i}`)
        .send({ email: `${unique('guess')}@example.test`, password: 'wrong-password-123' });
      expectErrorEnvelope(response, 401, 'AUTH.INVALID_CREDENTIALS');
    }
    // The 4th: yet another account, another forwarded address, even the right password: still refused.
    const limited = await t.http
      .post(LOGIN)
      .set('X-Forwarded-For', '203.0.113.4')
      .send({ email: TEST_ADMIN.email, password: TEST_ADMIN.password });
    expectErrorEnvelope(limited, 429, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body).not.toHaveProperty('data');
  });

  it('still serves other routes to that client (only logins are limited this strictly)', async () => {
    await t.http.get('/api/v1/health').expect(200);
    await t.http.get(ME).expect(401);
  });
});

describe('login rate limit per account (LOGIN_RATE_LIMIT_PER_MINUTE=3, TRUST_PROXY=true)', () => {
  // "Per account": attempts against one email are counted together whichever client they come from, so an
  // attacker spreading guesses over many addresses is still stopped. With TRUST_PROXY the client address is
  // taken from X-Forwarded-For, which lets this test play several clients.
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY: 'true' } });
  });

  afterAll(async () => {
    await t.close();
  });

  const attempt = (client: string, email: string, password = 'wrong-password-123'): Promise<HttpResponse> =>
    t.http.post(LOGIN).set('X-Forwarded-For', client).send({ email, password });

  it('refuses the 4th attempt on one account from a new client, while other accounts are unaffected', async () => {
    const target = `${unique('target')}@example.test`;
    for (let i = 1; i <= 3; i += 1) expectErrorEnvelope(await attempt(`198.51.100.${i}`, target), 401, 'AUTH.INVALID_CREDENTIALS');

    const limited = await attempt('198.51.100.4', target);
    expectErrorEnvelope(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The same account written differently is the same account.
    expectErrorEnvelope(await attempt('198.51.100.5', target.toUpperCase()), 429, 'RATE_LIMITED');

    // Not a global lock: another account from yet another client is answered normally.
    expectErrorEnvelope(await attempt('198.51.100.6', `${unique('other')}@example.test`), 401, 'AUTH.INVALID_CREDENTIALS');
    await attempt('198.51.100.7', TEST_ADMIN.email, TEST_ADMIN.password).then((response) => expect(response.status).toBe(200));
  });

  it('limits one forwarded client across different accounts', async () => {
    const client = '192.0.2.77';
    for (let i = 0; i < 3; i += 1) {
      expectErrorEnvelope(await attempt(client, `${unique('spray')}@example.test`), 401, 'AUTH.INVALID_CREDENTIALS');
    }
    expectErrorEnvelope(await attempt(client, TEST_ADMIN.email, TEST_ADMIN.password), 429, 'RATE_LIMITED');
    // Another client is not affected.
    await attempt('192.0.2.78', TEST_ADMIN.email, TEST_ADMIN.password).then((response) => expect(response.status).toBe(200));
  });
});
