import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { expectError, findAuditRows, idsOf, items } from '../support/identity-assertions.js';
import { startTestApp, TEST_ADMIN, type TestApp } from '../support/test-app.js';

/**
 * Organizations over HTTP (issue 3, deliverable 1 and the tenancy rules of deliverable 4). The database may be
 * shared with other test files, so every name is unique and no assertion counts rows it did not create.
 */
describe('organizations', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let adminToken: string;
  let adminId: string;
  let adminOrganizationId: string;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    adminToken = await fixtures.admin();
    const me = await t.http.get('/api/v1/auth/me').set(bearer(adminToken)).expect(200);
    adminId = me.body.data.id as string;
    adminOrganizationId = me.body.data.organization_id as string;
  });

  afterAll(async () => {
    await t.close();
  });

  const getOrganization = (id: string, token = adminToken) => t.http.get(`/api/v1/organizations/${id}`).set(bearer(token));
  const listByName = (name: string, token = adminToken) =>
    t.http.get('/api/v1/organizations').query({ name }).set(bearer(token));
  const whoAmI = (token: string) => t.http.get('/api/v1/auth/me').set(bearer(token));

  /** Creates an organization with a member of each non-admin role. */
  async function organizationWithMembers(): Promise<{ organization: TestOrganization; operator: TestUser; viewer: TestUser }> {
    const organization = await fixtures.newOrganization();
    const operator = await fixtures.newUser('operator', organization.id);
    const viewer = await fixtures.newUser('viewer', organization.id);
    return { organization, operator, viewer };
  }

  describe('POST /api/v1/organizations', () => {
    it('creates an organization: 201, the envelope, created_by the calling admin, fresh timestamps', async () => {
      const name = unique('Create Org');
      const before = Date.now();
      const response = await t.http
        .post('/api/v1/organizations')
        .set(bearer(adminToken))
        .set('X-Request-Id', 'org-create-envelope')
        .send({ name, description: 'Hosting for the ACME sites' })
        .expect(201);
      const after = Date.now();

      expect(Object.keys(response.body).sort()).toEqual(['data', 'links', 'meta']);
      expect(response.body.meta).toEqual({ request_id: 'org-create-envelope' });
      expect(response.body.links).toEqual({ self: '/api/v1/organizations' });
      const organization = response.body.data;
      expect(organization).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name,
        description: 'Hosting for the ACME sites',
        created_by: adminId,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        deleted_at: null,
      });
      for (const stamp of [organization.created_at, organization.updated_at] as string[]) {
        expect(new Date(stamp).toISOString()).toBe(stamp);
        expect(new Date(stamp).getTime()).toBeGreaterThanOrEqual(before - 5_000);
        expect(new Date(stamp).getTime()).toBeLessThanOrEqual(after + 5_000);
      }

      const reread = await getOrganization(organization.id as string).expect(200);
      expect(reread.body.data).toEqual(organization);
    });

    it('defaults the description to null and trims the name', async () => {
      const name = unique('Trimmed');
      const response = await t.http.post('/api/v1/organizations').set(bearer(adminToken)).send({ name: `  ${name}  ` }).expect(201);
      expect(response.body.data).toMatchObject({ name, description: null });
    });

    it('refuses a name that a live organization already has in another case: 409 naming "name", nothing created', async () => {
      const existing = await fixtures.newOrganization(unique('Dup Name'));
      for (const clash of [existing.name, existing.name.toUpperCase(), existing.name.toLowerCase()]) {
        const response = await t.http.post('/api/v1/organizations').set(bearer(adminToken)).send({ name: clash });
        expect(expectError(response, 409, 'ORGANIZATION.NAME_TAKEN')).toEqual(['name']);
      }
      const list = await listByName(existing.name).expect(200);
      expect(list.body.meta.total).toBe(1);
      expect(idsOf(list)).toEqual([existing.id]);
    });

    it('refuses bad bodies with 400: unknown fields, a missing, empty or too long name, a non-string description', async () => {
      const marker = unique('BadBody');
      const cases: Array<{ body: unknown; field: string }> = [
        { body: { name: marker, unexpected: true }, field: 'unexpected' },
        { body: { name: marker, created_by: randomUUID() }, field: 'created_by' },
        { body: { name: marker, id: randomUUID() }, field: 'id' },
        { body: {}, field: 'name' },
        { body: { name: '' }, field: 'name' },
        { body: { name: '   ' }, field: 'name' },
        { body: { name: 'x'.repeat(201) }, field: 'name' },
        { body: { name: 42 }, field: 'name' },
        { body: { name: marker, description: 7 }, field: 'description' },
      ];
      for (const { body, field } of cases) {
        const response = await t.http.post('/api/v1/organizations').set(bearer(adminToken)).send(body as object);
        expect(expectError(response, 400, 'VALIDATION_FAILED')).toContain(field);
      }
      const list = await listByName(marker).expect(200);
      expect(list.body.meta.total).toBe(0);
    });

    it('refuses operators and viewers with 403 and creates nothing', async () => {
      const { operator, viewer } = await organizationWithMembers();
      for (const member of [operator, viewer]) {
        const name = unique(`By ${member.role}`);
        const response = await t.http.post('/api/v1/organizations').set(bearer(member.token)).send({ name });
        expectError(response, 403, 'FORBIDDEN');
        const list = await listByName(name).expect(200);
        expect(list.body.meta.total).toBe(0);
      }
    });

    it('refuses a request without credentials with 401', async () => {
      const name = unique('Anonymous');
      expectError(await t.http.post('/api/v1/organizations').send({ name }), 401);
      expect((await listByName(name).expect(200)).body.meta.total).toBe(0);
    });
  });

  describe('GET /api/v1/organizations', () => {
    it('paginates with meta and links, filtering by a case-insensitive part of the name', async () => {
      const tag = unique('pagetag');
      const names = [`Alpha ${tag} one`, `Beta ${tag} two`, `Gamma ${tag} three`];
      const created: TestOrganization[] = [];
      for (const name of names) created.push(await fixtures.newOrganization(name));
      await fixtures.newOrganization(unique('Unrelated'));

      const filter = tag.toUpperCase();
      const query = (page: number) => `/api/v1/organizations?name=${encodeURIComponent(filter)}&page=${page}&per_page=2`;
      const first = await t.http.get(query(1)).set(bearer(adminToken)).expect(200);
      expect(first.body.meta).toMatchObject({ page: 1, per_page: 2, total: 3, total_pages: 2 });
      expect(items<{ name: string }>(first).map((o) => o.name)).toEqual(names.slice(0, 2));
      expect(first.body.links).toEqual({ self: query(1), first: query(1), prev: null, next: query(2), last: query(2) });

      const second = await t.http.get(first.body.links.next as string).set(bearer(adminToken)).expect(200);
      expect(second.body.meta).toMatchObject({ page: 2, per_page: 2, total: 3, total_pages: 2 });
      expect(idsOf(second)).toEqual([created[2].id]);
      expect(second.body.links).toMatchObject({ prev: query(1), next: null, last: query(2) });
    });

    it('matches the middle of a name, in any case, and treats % and _ literally', async () => {
      const tag = unique('mid');
      const organization = await fixtures.newOrganization(`Northern ${tag} Hosting`);
      const bySubstring = await listByName(`THERN ${tag.toUpperCase()} HOST`).expect(200);
      expect(idsOf(bySubstring)).toEqual([organization.id]);
      expect(bySubstring.body.data[0]).toMatchObject({ name: organization.name, created_by: adminId, deleted_at: null });
      expect((await listByName(`${tag}%Hosting`).expect(200)).body.meta.total).toBe(0);
      expect((await listByName(`${tag}_Hosting`).expect(200)).body.meta.total).toBe(0);
    });

    it('lets an admin see every organization (defaults to page 1 of 20)', async () => {
      const a = await fixtures.newOrganization();
      const b = await fixtures.newOrganization();
      const response = await t.http.get('/api/v1/organizations').set(bearer(adminToken)).expect(200);
      expect(response.body.meta).toMatchObject({ page: 1, per_page: 20 });
      expect(response.body.meta.total).toBeGreaterThanOrEqual(3);
      for (const organization of [a, b]) {
        expect((await listByName(organization.name).expect(200)).body.data[0].id).toBe(organization.id);
      }
    });

    it('shows operators and viewers only their own organization, whatever the filter', async () => {
      const { organization, operator, viewer } = await organizationWithMembers();
      const other = await fixtures.newOrganization();
      for (const member of [operator, viewer]) {
        const all = await t.http.get('/api/v1/organizations').set(bearer(member.token)).expect(200);
        expect(all.body.meta).toMatchObject({ total: 1, total_pages: 1 });
        expect(idsOf(all)).toEqual([organization.id]);
        expect((await listByName(other.name, member.token).expect(200)).body.meta.total).toBe(0);
        expect((await listByName(organization.name, member.token).expect(200)).body.meta.total).toBe(1);
      }
      // A viewer's machine key is kept to its organization the same way.
      const key = await fixtures.newApiKey({ role: 'viewer', organizationId: organization.id });
      expect(idsOf(await t.http.get('/api/v1/organizations').set('X-API-Key', key.key).expect(200))).toEqual([organization.id]);
      expectError(await t.http.get(`/api/v1/organizations/${other.id}`).set('X-API-Key', key.key), 404, 'ORGANIZATION.NOT_FOUND');
    });

    it('refuses out-of-range paging and unknown query parameters with 400', async () => {
      for (const query of ['per_page=1000', 'page=0', 'page=abc', 'per_page=0', 'colour=red']) {
        const response = await t.http.get(`/api/v1/organizations?${query}`).set(bearer(adminToken));
        expectError(response, 400, 'VALIDATION_FAILED');
      }
    });
  });

  describe('GET /api/v1/organizations/{org_id}', () => {
    it('returns one organization to an admin', async () => {
      const organization = await fixtures.newOrganization();
      const response = await getOrganization(organization.id).expect(200);
      expect(response.body.data).toMatchObject({ id: organization.id, name: organization.name, created_by: adminId, deleted_at: null });
      expect(response.body.links).toEqual({ self: `/api/v1/organizations/${organization.id}` });
    });

    it('lets members read their own organization but answers 404 (not 403) for another one', async () => {
      const { organization, operator, viewer } = await organizationWithMembers();
      const other = await fixtures.newOrganization();
      for (const member of [operator, viewer]) {
        expect((await getOrganization(organization.id, member.token).expect(200)).body.data.id).toBe(organization.id);
        expectError(await getOrganization(other.id, member.token), 404, 'ORGANIZATION.NOT_FOUND');
        expectError(await getOrganization(adminOrganizationId, member.token), 404, 'ORGANIZATION.NOT_FOUND');
      }
    });

    it('answers 404 for an id that does not exist, exactly as for a hidden one', async () => {
      const response = await getOrganization(randomUUID());
      expectError(response, 404, 'ORGANIZATION.NOT_FOUND');
      expect(response.body.path).toMatch(/^\/api\/v1\/organizations\/[0-9a-f-]{36}$/);
    });
  });

  describe('PUT /api/v1/organizations/{org_id}', () => {
    it('renames and describes an organization; updated_at moves, created_at and created_by stay', async () => {
      const organization = await fixtures.newOrganization();
      const before = (await getOrganization(organization.id).expect(200)).body.data;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const name = unique('Renamed');
      const response = await t.http
        .put(`/api/v1/organizations/${organization.id}`)
        .set(bearer(adminToken))
        .send({ name, description: 'new description' })
        .expect(200);
      expect(response.body.data).toMatchObject({
        id: organization.id,
        name,
        description: 'new description',
        created_by: adminId,
        created_at: before.created_at,
        deleted_at: null,
      });
      expect(new Date(response.body.data.updated_at as string).getTime()).toBeGreaterThan(
        new Date(before.updated_at as string).getTime(),
      );
      const reread = (await getOrganization(organization.id).expect(200)).body.data;
      expect(reread).toEqual(response.body.data);
      expect((await listByName(organization.name).expect(200)).body.meta.total).toBe(0);
    });

    it('changes only the fields sent', async () => {
      const organization = await fixtures.newOrganization();
      await t.http.put(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).send({ description: 'only this' }).expect(200);
      expect((await getOrganization(organization.id).expect(200)).body.data).toMatchObject({
        name: organization.name,
        description: 'only this',
      });
    });

    it('allows changing the case of its own name', async () => {
      const organization = await fixtures.newOrganization(unique('case-change'));
      const response = await t.http
        .put(`/api/v1/organizations/${organization.id}`)
        .set(bearer(adminToken))
        .send({ name: organization.name.toUpperCase() })
        .expect(200);
      expect(response.body.data.name).toBe(organization.name.toUpperCase());
    });

    it("refuses another live organization's name in any case with 409 naming \"name\", and changes nothing", async () => {
      const taken = await fixtures.newOrganization(unique('Taken'));
      const organization = await fixtures.newOrganization(unique('Wants'));
      const response = await t.http
        .put(`/api/v1/organizations/${organization.id}`)
        .set(bearer(adminToken))
        .send({ name: taken.name.toUpperCase(), description: 'should not land' });
      expect(expectError(response, 409, 'ORGANIZATION.NAME_TAKEN')).toEqual(['name']);
      expect((await getOrganization(organization.id).expect(200)).body.data).toMatchObject({
        name: organization.name,
        description: null,
      });
    });

    it('refuses unknown fields and bad values with 400 and changes nothing', async () => {
      const organization = await fixtures.newOrganization();
      const cases: Array<{ body: unknown; field: string }> = [
        { body: { name: unique('x'), deleted_at: null }, field: 'deleted_at' },
        { body: { created_by: randomUUID() }, field: 'created_by' },
        { body: { name: '' }, field: 'name' },
        { body: { name: 'x'.repeat(201) }, field: 'name' },
        { body: { description: 'x'.repeat(2001) }, field: 'description' },
      ];
      for (const { body, field } of cases) {
        const response = await t.http.put(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).send(body as object);
        expect(expectError(response, 400, 'VALIDATION_FAILED')).toContain(field);
      }
      expect((await getOrganization(organization.id).expect(200)).body.data).toMatchObject({
        name: organization.name,
        description: null,
        created_by: adminId,
      });
    });

    it('refuses a null name with 400 instead of pretending to apply it', async () => {
      const organization = await fixtures.newOrganization();
      const response = await t.http.put(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).send({ name: null });
      expect(expectError(response, 400, 'VALIDATION_FAILED')).toContain('name');
      expect((await getOrganization(organization.id).expect(200)).body.data.name).toBe(organization.name);
    });

    it('answers 404 for an unknown organization', async () => {
      const response = await t.http.put(`/api/v1/organizations/${randomUUID()}`).set(bearer(adminToken)).send({ name: unique('Ghost') });
      expectError(response, 404, 'ORGANIZATION.NOT_FOUND');
    });

    it('refuses operators and viewers with 403, even on their own organization, and changes nothing', async () => {
      const { organization, operator, viewer } = await organizationWithMembers();
      const other = await fixtures.newOrganization();
      for (const member of [operator, viewer]) {
        for (const target of [organization, other]) {
          const response = await t.http
            .put(`/api/v1/organizations/${target.id}`)
            .set(bearer(member.token))
            .send({ name: unique('Hijacked'), description: 'hijacked' });
          expectError(response, 403, 'FORBIDDEN');
          expect((await getOrganization(target.id).expect(200)).body.data).toMatchObject({ name: target.name, description: null });
        }
      }
    });
  });

  describe('DELETE /api/v1/organizations/{org_id}', () => {
    it('soft-deletes: the response shows deleted_at, then GET answers 404 and the list no longer has it', async () => {
      const organization = await fixtures.newOrganization();
      const response = await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).expect(200);
      expect(response.body.data).toMatchObject({ id: organization.id, name: organization.name, created_by: adminId });
      expect(new Date(response.body.data.deleted_at as string).toISOString()).toBe(response.body.data.deleted_at);

      expectError(await getOrganization(organization.id), 404, 'ORGANIZATION.NOT_FOUND');
      expect((await listByName(organization.name).expect(200)).body.meta.total).toBe(0);
      expectError(
        await t.http.put(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).send({ description: 'zombie' }),
        404,
        'ORGANIZATION.NOT_FOUND',
      );
      expectError(await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)), 404, 'ORGANIZATION.NOT_FOUND');
    });

    it("lets a deleted organization's name be used again, by a new organization and by a rename", async () => {
      const first = await fixtures.newOrganization(unique('Reusable'));
      await t.http.delete(`/api/v1/organizations/${first.id}`).set(bearer(adminToken)).expect(200);
      const reused = await t.http.post('/api/v1/organizations').set(bearer(adminToken)).send({ name: first.name.toUpperCase() }).expect(201);
      expect(reused.body.data.id).not.toBe(first.id);

      const second = await fixtures.newOrganization(unique('Reusable-two'));
      await t.http.delete(`/api/v1/organizations/${second.id}`).set(bearer(adminToken)).expect(200);
      const renamed = await fixtures.newOrganization();
      await t.http.put(`/api/v1/organizations/${renamed.id}`).set(bearer(adminToken)).send({ name: second.name }).expect(200);
    });

    it("cascades at once: the organization's users are deleted, their tokens and its API keys answer 401", async () => {
      const { organization, operator, viewer } = await organizationWithMembers();
      const adminMember = await fixtures.newUser('admin', organization.id);
      const operatorKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id });
      const viewerKey = await fixtures.newApiKey({ role: 'viewer', organizationId: organization.id });
      const bystanderOrganization = await organizationWithMembers();
      const bystanderKey = await fixtures.newApiKey({ role: 'viewer', organizationId: bystanderOrganization.organization.id });

      // Everything works before the delete.
      for (const member of [operator, viewer, adminMember]) await whoAmI(member.token).expect(200);
      for (const key of [operatorKey, viewerKey]) {
        await t.http.get('/api/v1/organizations').set('X-API-Key', key.key).expect(200);
      }

      const deleted = await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).expect(200);
      expect(deleted.body.data.deleted_at).not.toBeNull();

      // Tokens and keys stop working with the response, without waiting for any expiry.
      for (const member of [operator, viewer, adminMember]) {
        expectError(await whoAmI(member.token), 401);
        expectError(await t.http.get(`/api/v1/organizations/${organization.id}`).set(bearer(member.token)), 401);
        const login = await t.http.post('/api/v1/auth/login').send({ email: member.email, password: member.password });
        expectError(login, 401);
      }
      for (const key of [operatorKey, viewerKey]) {
        expectError(await t.http.get('/api/v1/organizations').set('X-API-Key', key.key), 401);
        expectError(await t.http.get('/api/v1/auth/me').set(bearer(key.key)), 401);
      }

      // The users are kept, marked deleted: an admin still reads their history.
      for (const member of [operator, viewer, adminMember]) {
        const user = await t.http.get(`/api/v1/users/${member.id}`).set(bearer(adminToken)).expect(200);
        expect(user.body.data).toMatchObject({ id: member.id, is_deleted: true, organization: { id: organization.id } });
      }
      const live = await t.http.get('/api/v1/users').query({ organization_id: organization.id }).set(bearer(adminToken)).expect(200);
      expect(live.body.meta.total).toBe(0);
      const withDeleted = await t.http
        .get('/api/v1/users')
        .query({ organization_id: organization.id, include_deleted: 'true' })
        .set(bearer(adminToken))
        .expect(200);
      expect(idsOf(withDeleted).sort()).toEqual(
        [operator.id, viewer.id, adminMember.id].sort(),
      );
      expect(items<{ is_deleted: boolean }>(withDeleted).every((u) => u.is_deleted)).toBe(true);

      // The API keys are listed as revoked.
      const keys = await t.http.get('/api/v1/api-keys').query({ per_page: 100 }).set(bearer(adminToken)).expect(200);
      for (const key of [operatorKey, viewerKey]) {
        const listed = (keys.body.data as Array<{ id: string; revoked_at: string | null }>).find((k) => k.id === key.id);
        expect(listed?.revoked_at).toEqual(expect.any(String));
      }

      // Another organization is untouched.
      await whoAmI(bystanderOrganization.viewer.token).expect(200);
      await whoAmI(bystanderOrganization.operator.token).expect(200);
      await t.http.get('/api/v1/organizations').set('X-API-Key', bystanderKey.key).expect(200);
      await getOrganization(bystanderOrganization.organization.id).expect(200);
    });

    it("frees the deleted members' emails for new users", async () => {
      const { organization, viewer } = await organizationWithMembers();
      await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).expect(200);
      const home = await fixtures.newOrganization();
      const response = await t.http
        .post('/api/v1/users/add')
        .set(bearer(adminToken))
        .send({ email: viewer.email, password: 'a-fresh-password-123', organization_id: home.id })
        .expect(201);
      expect(response.body.data.id).not.toBe(viewer.id);
      await fixtures.login(viewer.email, 'a-fresh-password-123');
    });

    it('refuses an admin deleting their own organization with 422, and changes nothing', async () => {
      const organization = await fixtures.newOrganization();
      const localAdmin = await fixtures.newUser('admin', organization.id);
      const viewer = await fixtures.newUser('viewer', organization.id);
      const response = await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(localAdmin.token));
      expectError(response, 422, 'ORGANIZATION.OWN');
      expect((await getOrganization(organization.id).expect(200)).body.data.deleted_at).toBeNull();
      await whoAmI(localAdmin.token).expect(200);
      await whoAmI(viewer.token).expect(200);

      // Another admin may (this also cleans up the extra admin on a shared database).
      await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).expect(200);
      expectError(await whoAmI(localAdmin.token), 401);
    });

    it('refuses the first admin deleting the organization it belongs to with 422', async () => {
      expectError(await t.http.delete(`/api/v1/organizations/${adminOrganizationId}`).set(bearer(adminToken)), 422, 'ORGANIZATION.OWN');
      expect((await getOrganization(adminOrganizationId).expect(200)).body.data.deleted_at).toBeNull();
    });

    it('refuses operators and viewers with 403 on their own and other organizations; nothing is deleted', async () => {
      const { organization, operator, viewer } = await organizationWithMembers();
      const other = await fixtures.newOrganization();
      for (const member of [operator, viewer]) {
        expectError(await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(member.token)), 403, 'FORBIDDEN');
        expectError(await t.http.delete(`/api/v1/organizations/${other.id}`).set(bearer(member.token)), 403, 'FORBIDDEN');
      }
      for (const target of [organization, other]) {
        expect((await getOrganization(target.id).expect(200)).body.data.deleted_at).toBeNull();
      }
      await whoAmI(operator.token).expect(200);
      await whoAmI(viewer.token).expect(200);
    });

    it('refuses an operator API key with 403 for DELETE and POST; nothing changes', async () => {
      const { organization } = await organizationWithMembers();
      const key = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id });
      expectError(await t.http.delete(`/api/v1/organizations/${organization.id}`).set('X-API-Key', key.key), 403, 'FORBIDDEN');
      expectError(
        await t.http.post('/api/v1/organizations').set('X-API-Key', key.key).send({ name: unique('ByKey') }),
        403,
        'FORBIDDEN',
      );
      await getOrganization(organization.id).expect(200);
    });
  });

  describe('malformed ids', () => {
    const malformed = ['not-a-uuid', '123', `${randomUUID()}x`, "1' OR '1'='1"];

    it.each(['GET', 'PUT', 'DELETE'] as const)('%s /organizations/{org_id} answers 400 naming org_id', async (method) => {
      for (const id of malformed) {
        const path = `/api/v1/organizations/${encodeURIComponent(id)}`;
        const request =
          method === 'GET'
            ? t.http.get(path)
            : method === 'PUT'
              ? t.http.put(path).send({ description: 'x' })
              : t.http.delete(path);
        const response = await request.set(bearer(adminToken));
        expect(expectError(response, 400, 'VALIDATION_FAILED')).toEqual(['org_id']);
      }
    });
  });

  describe('audit', () => {
    it('writes one success row per create, update and delete, with the actor and request id and the changes', async () => {
      const name = unique('Audited');
      const created = await t.http
        .post('/api/v1/organizations')
        .set(bearer(adminToken))
        .set('X-Request-Id', `${name}-create`)
        .send({ name })
        .expect(201);
      const id = created.body.data.id as string;
      const renamed = `${name}-renamed`;
      await t.http
        .put(`/api/v1/organizations/${id}`)
        .set(bearer(adminToken))
        .set('X-Request-Id', `${name}-update`)
        .send({ name: renamed })
        .expect(200);
      await t.http.delete(`/api/v1/organizations/${id}`).set(bearer(adminToken)).set('X-Request-Id', `${name}-delete`).expect(200);

      const expectations = [
        { action: 'organization.create', status: 201, requestId: `${name}-create`, changes: { name } },
        { action: 'organization.update', status: 200, requestId: `${name}-update`, changes: { name: { from: name, to: renamed } } },
        { action: 'organization.delete', status: 200, requestId: `${name}-delete`, changes: { users_deleted: 0, sites_deleted: 0, api_keys_revoked: 0 } },
      ];
      for (const expected of expectations) {
        const rows = await findAuditRows(
          t,
          adminToken,
          { action: expected.action, resource_type: 'organization', actor: adminId },
          (row) => row.resource_id === id,
        );
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          actor: { type: 'user', id: adminId, label: TEST_ADMIN.email },
          organization_id: adminOrganizationId,
          action: expected.action,
          resource_type: 'organization',
          resource_id: id,
          outcome: 'success',
          status_code: expected.status,
          request_id: expected.requestId,
          changes: expected.changes,
        });
      }
    });

    it('records the cascade counts on the delete row', async () => {
      const { organization } = await organizationWithMembers();
      await fixtures.newApiKey({ role: 'viewer', organizationId: organization.id });
      await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).expect(200);
      const rows = await findAuditRows(
        t,
        adminToken,
        { action: 'organization.delete', resource_type: 'organization', actor: adminId },
        (row) => row.resource_id === organization.id,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].changes).toEqual({ users_deleted: 2, sites_deleted: 0, api_keys_revoked: 1 });
    });

    it("writes a failure row with status 403 for a viewer's refused POST, and none for success", async () => {
      const { viewer } = await organizationWithMembers();
      const requestId = unique('viewer-post');
      await t.http
        .post('/api/v1/organizations')
        .set(bearer(viewer.token))
        .set('X-Request-Id', requestId)
        .send({ name: unique('Refused') })
        .expect(403);
      const rows = await findAuditRows(
        t,
        adminToken,
        { action: 'organization.create', resource_type: 'organization', actor: viewer.id },
        (row) => row.request_id === requestId,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor: { type: 'user', id: viewer.id, label: viewer.email },
        organization_id: viewer.organizationId,
        outcome: 'failure',
        status_code: 403,
        resource_id: null,
      });
      const successes = await findAuditRows(
        t,
        adminToken,
        { action: 'organization.create', actor: viewer.id, status: 'success' },
        () => true,
        { expectAtLeast: 0 },
      );
      expect(successes).toEqual([]);
    });

    it('writes a failure row with status 409 for a refused duplicate name, and 422 for deleting its own organization', async () => {
      const existing = await fixtures.newOrganization();
      const duplicateId = unique('dup');
      await t.http
        .post('/api/v1/organizations')
        .set(bearer(adminToken))
        .set('X-Request-Id', duplicateId)
        .send({ name: existing.name })
        .expect(409);
      const duplicateRows = await findAuditRows(
        t,
        adminToken,
        { action: 'organization.create', actor: adminId, status: '409' },
        (row) => row.request_id === duplicateId,
      );
      expect(duplicateRows).toHaveLength(1);
      expect(duplicateRows[0]).toMatchObject({ outcome: 'failure', status_code: 409 });

      const ownId = unique('own');
      await t.http.delete(`/api/v1/organizations/${adminOrganizationId}`).set(bearer(adminToken)).set('X-Request-Id', ownId).expect(422);
      const ownRows = await findAuditRows(
        t,
        adminToken,
        { action: 'organization.delete', actor: adminId, status: 'failure' },
        (row) => row.request_id === ownId,
      );
      expect(ownRows).toHaveLength(1);
      expect(ownRows[0]).toMatchObject({ resource_id: adminOrganizationId, outcome: 'failure', status_code: 422 });
    });
  });
});
