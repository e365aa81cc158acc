import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { auditRows, expectErrorEnvelope, sha256Hex, sleep, type HttpResponse } from '../support/http-assertions.js';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const KEYS = '/api/v1/api-keys';
const KEY_FORMAT = /^odk_[A-Za-z0-9_-]{43,}$/;
const LISTED_FIELDS = [
  'created_at',
  'expires_at',
  'id',
  'last_used_at',
  'name',
  'organization_id',
  'prefix',
  'revoked_at',
  'role',
  'site_id',
];

interface ListedKey {
  id: string;
  name: string;
  prefix: string;
  role: string;
  organization_id: string;
  site_id: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

describe('API keys', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let admin: string;
  let org: TestOrganization;
  let otherOrg: TestOrganization;
  let operator: TestUser;
  let viewer: TestUser;

  const create = async (body: Record<string, unknown>, token = admin): Promise<HttpResponse> =>
    t.http.post(KEYS).set(bearer(token)).send(body);

  const listed = async (id: string): Promise<ListedKey | undefined> => {
    const response = await t.http.get(KEYS).query({ per_page: 100 }).set(bearer(admin)).expect(200);
    return (response.body.data as ListedKey[]).find((key) => key.id === id);
  };

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    admin = await fixtures.admin();
    org = await fixtures.newOrganization();
    otherOrg = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', org.id);
    viewer = await fixtures.newUser('viewer', org.id);
  });

  afterAll(async () => {
    await t.close();
  });

  describe('POST /api-keys', () => {
    it('answers 201 with the key once: odk_ plus at least 32 random bytes (base64url), and its description', async () => {
      const name = unique('reporter');
      const response = await create({ name, role: 'operator', organization_id: org.id });
      expect(response.status).toBe(201);
      const data = response.body.data as ListedKey & { key: string };
      expect(Object.keys(data).sort()).toEqual([...LISTED_FIELDS, 'key'].sort());
      expect(data.key).toMatch(KEY_FORMAT);
      expect(Buffer.from(data.key.slice(4), 'base64url').length).toBeGreaterThanOrEqual(32);
      expect(data).toMatchObject({
        name,
        role: 'operator',
        organization_id: org.id,
        site_id: null,
        expires_at: null,
        last_used_at: null,
        revoked_at: null,
      });
      expect(data.prefix).toBe(data.key.slice(0, data.prefix.length));
      expect(data.prefix.startsWith('odk_')).toBe(true);
      // The prefix identifies a key without giving most of it away.
      expect(data.prefix.length).toBeLessThanOrEqual(16);
      expect(Math.abs(Date.parse(data.created_at) - Date.now())).toBeLessThan(60_000);
    });

    it('generates a different key every time', async () => {
      const keys = new Set<string>();
      for (let i = 0; i < 5; i += 1) {
        keys.add(((await create({ name: unique('k'), organization_id: org.id })).body.data as { key: string }).key);
      }
      expect(keys.size).toBe(5);
    });

    it("defaults to the viewer role and the caller's organization", async () => {
      const response = await create({ name: unique('defaults') });
      expect(response.status).toBe(201);
      const me = await t.http.get('/api/v1/auth/me').set(bearer(admin)).expect(200);
      expect(response.body.data).toMatchObject({ role: 'viewer', organization_id: me.body.data.organization_id });
    });

    it.each([
      ['no name', {}, 'name'],
      ['an empty name', { name: '' }, 'name'],
      ['an unknown role', { name: 'x', role: 'root' }, 'role'],
      ['a malformed organization_id', { name: 'x', organization_id: 'org-1' }, 'organization_id'],
      ['a malformed site_id', { name: 'x', site_id: '42' }, 'site_id'],
      ['expires_at in the past', { name: 'x', expires_at: new Date(Date.now() - 60_000).toISOString() }, 'expires_at'],
      ['expires_at that is not a date', { name: 'x', expires_at: 'next tuesday' }, 'expires_at'],
      ['a key chosen by the caller', { name: 'x', key: 'odk_mine' }, 'key'],
      ['a hash chosen by the caller', { name: 'x', key_hash: 'a'.repeat(64) }, 'key_hash'],
      ['last_used_at', { name: 'x', last_used_at: new Date().toISOString() }, 'last_used_at'],
    ])('refuses %s with 400 naming the field', async (_label, body, field) => {
      const response = await create(body);
      expectErrorEnvelope(response, 400, 'VALIDATION_FAILED');
      expect((response.body.details as Array<{ field: string }>).map((detail) => detail.field)).toContain(field);
    });

    it('refuses an organization that does not exist with 400 naming organization_id', async () => {
      const response = await create({ name: unique('ghost-org'), organization_id: randomUUID() });
      expectErrorEnvelope(response, 400, 'API_KEY.ORGANIZATION_NOT_FOUND');
      expect(response.body.details).toEqual([{ field: 'organization_id', messages: [expect.any(String)] }]);
    });
  });

  describe('GET /api-keys', () => {
    it('lists keys without the key or its hash, paginated and newest first', async () => {
      const created = (await create({ name: unique('listed'), role: 'viewer', organization_id: org.id })).body.data as ListedKey & {
        key: string;
      };
      const response = await t.http.get(KEYS).query({ per_page: 100 }).set(bearer(admin)).expect(200);
      const rows = response.body.data as ListedKey[];
      const row = rows.find((key) => key.id === created.id);
      expect(row).toBeDefined();
      expect(Object.keys(row ?? {}).sort()).toEqual(LISTED_FIELDS);
      const { key, ...withoutKey } = created;
      expect(row).toEqual(withoutKey);
      for (const listedKey of rows) expect(Object.keys(listedKey).sort()).toEqual(LISTED_FIELDS);
      const body = JSON.stringify(response.body);
      expect(body).not.toContain(key);
      expect(body).not.toContain(sha256Hex(key));
      expect(body).not.toContain(key.slice(created.prefix.length));
      const times = rows.map((listedKey) => Date.parse(listedKey.created_at));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(response.body.meta).toMatchObject({ page: 1, per_page: 100, total: expect.any(Number) });

      const paged = await t.http.get(KEYS).query({ per_page: 1, page: 2 }).set(bearer(admin)).expect(200);
      expect(paged.body.data).toHaveLength(1);
      expect(paged.body.meta).toMatchObject({ page: 2, per_page: 1 });
      expectErrorEnvelope(await t.http.get(KEYS).query({ per_page: 1000 }).set(bearer(admin)), 400, 'VALIDATION_FAILED');
    });

    it('keeps the key out of the audit log too', async () => {
      const created = (await create({ name: unique('audited'), organization_id: org.id })).body.data as ListedKey & { key: string };
      const { rows } = await auditRows(t, admin, { action: 'api_key.create', resource_type: 'api_key' });
      const row = rows.find((entry) => entry.resource_id === created.id);
      expect(row).toMatchObject({ outcome: 'success', status_code: 201 });
      const serialized = JSON.stringify(row);
      expect(serialized).not.toContain(created.key);
      expect(serialized).not.toContain(sha256Hex(created.key));
    });
  });

  describe('using a key', () => {
    it('works wherever a JWT does: an operator key sees only its own organization, via X-API-Key or Bearer', async () => {
      const { key } = await fixtures.newApiKey({ role: 'operator', organizationId: org.id });
      for (const headers of [{ 'X-API-Key': key }, bearer(key)]) {
        const list = await t.http.get('/api/v1/organizations').set(headers).expect(200);
        expect((list.body.data as Array<{ id: string }>).map((o) => o.id)).toEqual([org.id]);
        expect(list.body.meta.total).toBe(1);
        await t.http.get(`/api/v1/organizations/${org.id}`).set(headers).expect(200);
        // Another organization's resource does not exist for this key.
        expectErrorEnvelope(await t.http.get(`/api/v1/organizations/${otherOrg.id}`).set(headers), 404);
        const user = await t.http.get(`/api/v1/users/${viewer.id}`).set(headers).expect(200);
        expect(user.body.data.id).toBe(viewer.id);
      }
    });

    it("hides another organization's users from a key (404, not 403)", async () => {
      const stranger = await fixtures.newUser('viewer', otherOrg.id);
      const { key } = await fixtures.newApiKey({ role: 'operator', organizationId: org.id });
      expectErrorEnvelope(await t.http.get(`/api/v1/users/${stranger.id}`).set('X-API-Key', key), 404);
    });

    it('lets an admin key do admin things (create an organization)', async () => {
      const { key } = await fixtures.newApiKey({ role: 'admin', organizationId: org.id });
      const name = unique('made-by-key');
      const response = await t.http.post('/api/v1/organizations').set('X-API-Key', key).send({ name }).expect(201);
      expect(response.body.data.name).toBe(name);
    });

    it("refuses a viewer key's POST with 403 and changes nothing", async () => {
      const { key } = await fixtures.newApiKey({ role: 'viewer', organizationId: org.id });
      await t.http.get('/api/v1/organizations').set('X-API-Key', key).expect(200);
      const name = unique('viewer-key-org');
      expectErrorEnvelope(await t.http.post('/api/v1/organizations').set('X-API-Key', key).send({ name }), 403, 'FORBIDDEN');
      expectErrorEnvelope(await t.http.post(KEYS).set('X-API-Key', key).send({ name: unique('escalate'), role: 'admin' }), 403, 'FORBIDDEN');
      const search = await t.http.get('/api/v1/organizations').query({ name }).set(bearer(admin)).expect(200);
      expect(search.body.meta.total).toBe(0);
    });

    it('records last_used_at once the key is used', async () => {
      const { id, key } = await fixtures.newApiKey({ role: 'viewer', organizationId: org.id });
      expect((await listed(id))?.last_used_at).toBeNull();
      await t.http.get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
      const after = await listed(id);
      expect(after?.last_used_at).not.toBeNull();
      const usedAt = Date.parse(after?.last_used_at ?? '');
      expect(usedAt).toBeGreaterThanOrEqual(Date.parse(after?.created_at ?? '') - 1_000);
      expect(Math.abs(usedAt - Date.now())).toBeLessThan(60_000);
    });

    it.each([
      ['a too short', 'abc'],
      ['an empty', ''],
      ['an unknown', `odk_${'A'.repeat(43)}`],
      ['a too long', `odk_${'A'.repeat(400)}`],
    ])('refuses %s key with 401 in the envelope', async (_label, value) => {
      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', value), 401, 'UNAUTHORIZED');
    });

    it('refuses a key that differs from a real one in its last character', async () => {
      const { key } = await fixtures.newApiKey({ role: 'viewer', organizationId: org.id });
      const altered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', altered), 401, 'UNAUTHORIZED');
    });
  });

  describe('DELETE /api-keys/{id}', () => {
    it('revokes the key: it is refused at once (X-API-Key and Bearer) and listed as revoked', async () => {
      const { id, key } = await fixtures.newApiKey({ role: 'operator', organizationId: org.id });
      await t.http.get('/api/v1/auth/me').set('X-API-Key', key).expect(200);

      const revoked = await t.http.delete(`${KEYS}/${id}`).set(bearer(admin)).expect(200);
      expect(revoked.body.data).toMatchObject({ id, revoked_at: expect.any(String) });
      expect(revoked.body.data).not.toHaveProperty('key');

      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', key), 401, 'UNAUTHORIZED');
      expectErrorEnvelope(await t.http.get('/api/v1/organizations').set(bearer(key)), 401, 'UNAUTHORIZED');
      expect((await listed(id))?.revoked_at).toEqual(expect.any(String));
    });

    it('answers 404 for a key revoked already or unknown, and 400 for a malformed id', async () => {
      const { id } = await fixtures.newApiKey({ role: 'viewer', organizationId: org.id });
      await t.http.delete(`${KEYS}/${id}`).set(bearer(admin)).expect(200);
      expectErrorEnvelope(await t.http.delete(`${KEYS}/${id}`).set(bearer(admin)), 404, 'API_KEY.NOT_FOUND');
      expectErrorEnvelope(await t.http.delete(`${KEYS}/${randomUUID()}`).set(bearer(admin)), 404, 'API_KEY.NOT_FOUND');
      const malformed = await t.http.delete(`${KEYS}/not-a-uuid`).set(bearer(admin));
      expectErrorEnvelope(malformed, 400, 'VALIDATION_FAILED');
      expect(malformed.body.details).toEqual([{ field: 'id', messages: [expect.any(String)] }]);
    });
  });

  describe('expiry', () => {
    it('works until expires_at, then answers 401', async () => {
      const expiresAt = new Date(Date.now() + 2_000);
      const response = await create({ name: unique('short-lived'), organization_id: org.id, expires_at: expiresAt.toISOString() });
      expect(response.status).toBe(201);
      expect(Date.parse(response.body.data.expires_at as string)).toBe(expiresAt.getTime());
      const key = response.body.data.key as string;
      await t.http.get('/api/v1/auth/me').set('X-API-Key', key).expect(200);

      await sleep(expiresAt.getTime() - Date.now() + 750);

      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', key), 401, 'UNAUTHORIZED');
      expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set(bearer(key)), 401, 'UNAUTHORIZED');
    });
  });

  describe('site-limited keys', () => {
    // DESIGN.md §3: a key limited to one site may only post that site's module reports and patch runs (those
    // routes come with the sites issue); everything else is refused with 403, whatever the key's role. It may
    // still ask who it is.
    let key: string;
    let id: string;
    let siteId: string;
    let otherSiteId: string;

    beforeAll(async () => {
      siteId = (await fixtures.newSite(org.id)).id;
      otherSiteId = (await fixtures.newSite(otherOrg.id)).id;
      ({ key, id } = await fixtures.newApiKey({ role: 'admin', organizationId: org.id, siteId }));
    });

    it.each([
      ['a site that does not exist', () => randomUUID()],
      ['a site of another organization', () => otherSiteId],
    ])('is refused for %s with 400 naming site_id; nothing is created', async (_label, site) => {
      const before = (await t.http.get('/api/v1/api-keys?per_page=100').set(bearer(admin))).body.meta.total as number;
      const response = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(admin))
        .send({ name: 'refused', role: 'operator', organization_id: org.id, site_id: site() });
      expectErrorEnvelope(response, 400, 'API_KEY.SITE_NOT_FOUND');
      expect(response.body.details).toEqual([{ field: 'site_id', messages: [expect.any(String)] }]);
      const after = (await t.http.get('/api/v1/api-keys?per_page=100').set(bearer(admin))).body.meta.total as number;
      expect(after).toBe(before);
    });

    it('is created with its site and may ask who it is', async () => {
      expect((await listed(id))?.site_id).toBe(siteId);
      const me = await t.http.get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
      expect(me.body.data).toMatchObject({ kind: 'api_key', id, role: 'admin', site_id: siteId, organization_id: org.id });
      expect([...(me.body.data.permissions as string[])].sort()).toEqual(['module_report.write', 'patch_run.write', 'self.read']);
    });

    it.each([
      ['GET', '/api/v1/organizations'],
      ['GET', '/api/v1/users'],
      ['GET', '/api/v1/api-keys'],
      ['POST', '/api/v1/api-keys'],
      ['GET', '/api/v1/audit-logs'],
      ['POST', '/api/v1/organizations'],
      ['GET', '/api/metrics'],
    ])('refuses %s %s with 403 even for an admin-role key', async (method, path) => {
      const request = method === 'GET' ? t.http.get(path) : t.http.post(path).send({ name: unique('site-key') });
      expectErrorEnvelope(await request.set('X-API-Key', key), 403, 'FORBIDDEN');
    });

    it('refuses the organization and user routes by id with 403', async () => {
      expectErrorEnvelope(await t.http.get(`/api/v1/organizations/${org.id}`).set('X-API-Key', key), 403, 'FORBIDDEN');
      expectErrorEnvelope(await t.http.get(`/api/v1/users/${viewer.id}`).set(bearer(key)), 403, 'FORBIDDEN');
    });
  });

  describe('who may manage keys', () => {
    it.each(['operator', 'viewer'] as const)('refuses the %s user on POST, GET and DELETE with 403 and changes nothing', async (role) => {
      const user = role === 'operator' ? operator : viewer;
      const existing = await fixtures.newApiKey({ role: 'viewer', organizationId: org.id });
      const name = unique(`by-${role}`);

      expectErrorEnvelope(await create({ name, organization_id: org.id }, user.token), 403, 'FORBIDDEN');
      expectErrorEnvelope(await t.http.get(KEYS).set(bearer(user.token)), 403, 'FORBIDDEN');
      expectErrorEnvelope(await t.http.delete(`${KEYS}/${existing.id}`).set(bearer(user.token)), 403, 'FORBIDDEN');

      const all = await t.http.get(KEYS).query({ per_page: 100 }).set(bearer(admin)).expect(200);
      expect((all.body.data as ListedKey[]).some((key) => key.name === name)).toBe(false);
      expect((await listed(existing.id))?.revoked_at).toBeNull();
      await t.http.get('/api/v1/auth/me').set('X-API-Key', existing.key).expect(200);
    });

    it('refuses an operator key on POST, GET and DELETE with 403', async () => {
      const { id, key } = await fixtures.newApiKey({ role: 'operator', organizationId: org.id });
      expectErrorEnvelope(await t.http.post(KEYS).set('X-API-Key', key).send({ name: unique('x') }), 403, 'FORBIDDEN');
      expectErrorEnvelope(await t.http.get(KEYS).set('X-API-Key', key), 403, 'FORBIDDEN');
      expectErrorEnvelope(await t.http.delete(`${KEYS}/${id}`).set('X-API-Key', key), 403, 'FORBIDDEN');
      await t.http.get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
    });

    it('lets an admin key create and revoke keys', async () => {
      const { key } = await fixtures.newApiKey({ role: 'admin', organizationId: org.id });
      const created = await t.http.post(KEYS).set('X-API-Key', key).send({ name: unique('by-key'), organization_id: org.id }).expect(201);
      await t.http.delete(`${KEYS}/${created.body.data.id as string}`).set('X-API-Key', key).expect(200);
    });

    it('answers 401 without credentials', async () => {
      expectErrorEnvelope(await t.http.post(KEYS).send({ name: 'x' }), 401, 'UNAUTHORIZED');
      expectErrorEnvelope(await t.http.get(KEYS), 401, 'UNAUTHORIZED');
      expectErrorEnvelope(await t.http.delete(`${KEYS}/${randomUUID()}`), 401, 'UNAUTHORIZED');
    });
  });

  it("stops a deleted organization's keys at once", async () => {
    const doomed = await fixtures.newOrganization();
    const { key } = await fixtures.newApiKey({ role: 'operator', organizationId: doomed.id });
    await t.http.get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
    await t.http.delete(`/api/v1/organizations/${doomed.id}`).set(bearer(admin)).expect(200);
    expectErrorEnvelope(await t.http.get('/api/v1/auth/me').set('X-API-Key', key), 401, 'UNAUTHORIZED');
  });
});
