import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { PrincipalCache } from '../../src/auth/principal-cache.js';
import { expectErrorEnvelope, eventually } from '../support/http-assertions.js';
import { bearer, IdentityFixtures, unique, type TestOrganization } from '../support/identity.js';
import { testDatabaseUrl } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ME = '/api/v1/auth/me';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Long enough that only an invalidation, never the expiry, can explain a change seen within a test. */
const LONG_TTL = { PRINCIPAL_CACHE_TTL_MS: '60000' };

/**
 * The principal cache (PRINCIPAL_CACHE_TTL_MS) must never let a changed or revoked credential through: every
 * credential below is used once first, so its principal is cached, then changed, then used again at once.
 */
describe('principal cache, one instance', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let organization: TestOrganization;
  let database: DataSource;

  beforeAll(async () => {
    t = await startTestApp({ env: LONG_TTL });
    fixtures = new IdentityFixtures(t);
    organization = await fixtures.newOrganization();
    database = t.opsdeck.app.get(DataSource);
  });

  afterAll(async () => {
    await t.close();
  });

  const whoAmI = (token: string) => t.http.get(ME).set(bearer(token));
  const updateUser = async (id: string, body: Record<string, unknown>) =>
    t.http.put(`/api/v1/users/update/${id}`).set(bearer(await fixtures.admin())).send(body).expect(200);

  it('is in use: a change made behind the API’s back is not seen until the entry expires', async () => {
    const user = await fixtures.newUser('viewer', organization.id);
    await whoAmI(user.token).expect(200);
    await database.query("UPDATE users SET role = 'operator' WHERE id = $1", [user.id]);
    // Served from the cache: this is what makes the tests below meaningful.
    expect((await whoAmI(user.token).expect(200)).body.data.role).toBe('viewer');
  });

  it('applies a role change at once, in both directions', async () => {
    const user = await fixtures.newUser('operator', organization.id);
    const site = { name: unique('site'), url: `https://${unique('cache')}.example.test`, organization_id: organization.id };
    expect((await whoAmI(user.token).expect(200)).body.data.role).toBe('operator');

    await updateUser(user.id, { role: 'viewer' });
    expect((await whoAmI(user.token).expect(200)).body.data.role).toBe('viewer');
    expectErrorEnvelope(await t.http.post('/api/v1/sites').set(bearer(user.token)).send(site), 403, 'FORBIDDEN');

    await updateUser(user.id, { role: 'operator' });
    await t.http.post('/api/v1/sites').set(bearer(user.token)).send(site).expect(201);
  });

  it('applies a move to another organization at once', async () => {
    const user = await fixtures.newUser('viewer', organization.id);
    const destination = await fixtures.newOrganization();
    await whoAmI(user.token).expect(200);
    await updateUser(user.id, { organization_id: destination.id });
    expect((await whoAmI(user.token).expect(200)).body.data.organization_id).toBe(destination.id);
    expectErrorEnvelope(await t.http.get(`/api/v1/organizations/${organization.id}`).set(bearer(user.token)), 404);
  });

  it('applies an email change to the label the audit log records at once', async () => {
    const user = await fixtures.newUser('viewer', organization.id);
    await whoAmI(user.token).expect(200);
    const email = `${unique('renamed')}@example.test`;
    await t.http.put(`/api/v1/users/update/${user.id}`).set(bearer(user.token)).send({ email }).expect(200);
    expect((await whoAmI(user.token).expect(200)).body.data.label).toBe(email);
  });

  it('refuses the token of a user deleted through PUT is_deleted=true at once', async () => {
    const user = await fixtures.newUser('operator', organization.id);
    await whoAmI(user.token).expect(200);
    await updateUser(user.id, { is_deleted: true });
    expectErrorEnvelope(await whoAmI(user.token), 401, 'UNAUTHORIZED');
  });

  it('refuses a site-limited key at once when its site is deleted; a key of another site keeps working', async () => {
    const doomed = await fixtures.newSite(organization.id);
    const kept = await fixtures.newSite(organization.id);
    const doomedKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: doomed.id });
    const keptKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: kept.id });
    await t.http.get(ME).set('X-API-Key', doomedKey.key).expect(200);
    await t.http.get(ME).set('X-API-Key', keptKey.key).expect(200);
    await t.http.delete(`/api/v1/sites/${doomed.id}`).set(bearer(await fixtures.admin())).expect(200);
    expectErrorEnvelope(await t.http.get(ME).set('X-API-Key', doomedKey.key), 401, 'UNAUTHORIZED');
    await t.http.get(ME).set('X-API-Key', keptKey.key).expect(200);
  });

  it('refuses every cached credential of a deleted organization at once: tokens and keys', async () => {
    const doomed = await fixtures.newOrganization();
    const user = await fixtures.newUser('operator', doomed.id);
    const key = await fixtures.newApiKey({ role: 'viewer', organizationId: doomed.id });
    await whoAmI(user.token).expect(200);
    await t.http.get(ME).set(bearer(key.key)).expect(200);
    await t.http.delete(`/api/v1/organizations/${doomed.id}`).set(bearer(await fixtures.admin())).expect(200);
    expectErrorEnvelope(await whoAmI(user.token), 401, 'UNAUTHORIZED');
    expectErrorEnvelope(await t.http.get(ME).set(bearer(key.key)), 401, 'UNAUTHORIZED');
  });
});

describe('principal cache off (PRINCIPAL_CACHE_TTL_MS=0)', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;

  beforeAll(async () => {
    t = await startTestApp({ env: { PRINCIPAL_CACHE_TTL_MS: '0' } });
    fixtures = new IdentityFixtures(t);
  });

  afterAll(async () => {
    await t.close();
  });

  it('reads the principal from the database on every request', async () => {
    const user = await fixtures.newUser('viewer', (await fixtures.newOrganization()).id);
    await t.http.get(ME).set(bearer(user.token)).expect(200);
    await t.opsdeck.app.get(DataSource).query("UPDATE users SET role = 'operator' WHERE id = $1", [user.id]);
    expect((await t.http.get(ME).set(bearer(user.token)).expect(200)).body.data.role).toBe('operator');
  });
});

// Two instances need one database: the embedded PGlite of a test application is its own.
const external = testDatabaseUrl();
(external ? describe : describe.skip)('principal cache, two instances sharing Redis (TEST_DATABASE_URL)', () => {
  let a: TestApp;
  let b: TestApp;
  let fixtures: IdentityFixtures;
  let organization: TestOrganization;

  beforeAll(async () => {
    // One secret, so a token from either instance is genuine on both.
    const env = { ...LONG_TTL, REDIS_URL, JWT_SECRET: randomBytes(32).toString('hex') };
    a = await startTestApp({ env });
    b = await startTestApp({ env });
    fixtures = new IdentityFixtures(a);
    organization = await fixtures.newOrganization();
    // Both subscribed before anything is cached (until then neither caches at all).
    const cacheOn = (app: TestApp) => Promise.resolve(app.opsdeck.app.get(PrincipalCache).enabled || undefined);
    await eventually(() => cacheOn(a), 5_000, 'instance A subscribed');
    await eventually(() => cacheOn(b), 5_000, 'instance B subscribed');
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  /** A change made through A must reach B within the pub/sub delay, far below the 60 s TTL. */
  const onB = (request: () => Promise<{ status: number; body: { data?: Record<string, unknown> } }>, expected: (status: number, data?: Record<string, unknown>) => boolean) =>
    eventually(async () => {
      const response = await request();
      return expected(response.status, response.body.data) ? response : undefined;
    }, 1_000, 'the change is seen on instance B');

  it('refuses on B a token logged out through A', async () => {
    const user = await fixtures.newUser('viewer', organization.id);
    await b.http.get(ME).set(bearer(user.token)).expect(200);
    await a.http.post('/api/v1/auth/logout').set(bearer(user.token)).expect(200);
    await onB(() => b.http.get(ME).set(bearer(user.token)), (status) => status === 401);
  });

  it('applies on B a role change made through A', async () => {
    const user = await fixtures.newUser('viewer', organization.id);
    await b.http.get(ME).set(bearer(user.token)).expect(200);
    await a.http.put(`/api/v1/users/update/${user.id}`).set(bearer(await fixtures.admin())).send({ role: 'operator' }).expect(200);
    await onB(() => b.http.get(ME).set(bearer(user.token)), (status, data) => status === 200 && data?.role === 'operator');
  });

  it('refuses on B a user deleted through A', async () => {
    const user = await fixtures.newUser('viewer', organization.id);
    await b.http.get(ME).set(bearer(user.token)).expect(200);
    await a.http.delete(`/api/v1/users/delete/${user.id}`).set(bearer(await fixtures.admin())).expect(200);
    await onB(() => b.http.get(ME).set(bearer(user.token)), (status) => status === 401);
  });

  it('refuses on B an API key revoked through A', async () => {
    const key = await fixtures.newApiKey({ role: 'viewer', organizationId: organization.id });
    await b.http.get(ME).set('X-API-Key', key.key).expect(200);
    await a.http.delete(`/api/v1/api-keys/${key.id}`).set(bearer(await fixtures.admin())).expect(200);
    await onB(() => b.http.get(ME).set('X-API-Key', key.key), (status) => status === 401);
  });

  it('refuses on B the credentials of an organization deleted through A', async () => {
    const doomed = await fixtures.newOrganization();
    const user = await fixtures.newUser('viewer', doomed.id);
    const key = await fixtures.newApiKey({ role: 'viewer', organizationId: doomed.id });
    await b.http.get(ME).set(bearer(user.token)).expect(200);
    await b.http.get(ME).set('X-API-Key', key.key).expect(200);
    await a.http.delete(`/api/v1/organizations/${doomed.id}`).set(bearer(await fixtures.admin())).expect(200);
    await onB(() => b.http.get(ME).set(bearer(user.token)), (status) => status === 401);
    await onB(() => b.http.get(ME).set('X-API-Key', key.key), (status) => status === 401);
  });

  it('refuses on B a site-limited key whose site was deleted through A', async () => {
    const site = await fixtures.newSite(organization.id);
    const key = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: site.id });
    await b.http.get(ME).set('X-API-Key', key.key).expect(200);
    await a.http.delete(`/api/v1/sites/${site.id}`).set(bearer(await fixtures.admin())).expect(200);
    await onB(() => b.http.get(ME).set('X-API-Key', key.key), (status) => status === 401);
  });
});
