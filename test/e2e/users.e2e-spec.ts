import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { expectError, expectNoSecretKeys, findAuditRows, idsOf, items } from '../support/identity-assertions.js';
import { startTestApp, TEST_ADMIN, type TestApp } from '../support/test-app.js';

/**
 * Users at the seed's paths (issue 3, deliverable 2) and the tenancy rules around them. The database may be
 * shared with other test files: every email is unique and no assertion counts rows it did not create.
 */
describe('users', () => {
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

  const email = (label = 'user') => `${unique(label)}@example.test`;
  const password = () => `pw-${randomUUID()}`;
  const getUser = (id: string, token = adminToken) => t.http.get(`/api/v1/users/${id}`).set(bearer(token));
  const addUser = (body: Record<string, unknown>, token = adminToken) =>
    t.http.post('/api/v1/users/add').set(bearer(token)).send(body);
  const updateUser = (id: string, body: Record<string, unknown>, token = adminToken) =>
    t.http.put(`/api/v1/users/update/${id}`).set(bearer(token)).send(body);
  const deleteUser = (id: string, token = adminToken) => t.http.delete(`/api/v1/users/delete/${id}`).set(bearer(token));
  const listUsers = (query: Record<string, string | number>, token = adminToken) =>
    t.http.get('/api/v1/users').query(query).set(bearer(token));
  const login = (userEmail: string, userPassword: string) =>
    t.http.post('/api/v1/auth/login').send({ email: userEmail, password: userPassword });
  const whoAmI = (token: string) => t.http.get('/api/v1/auth/me').set(bearer(token));

  /** The user as an admin reads it, to compare before and after a refused request. */
  const snapshot = async (id: string) => (await getUser(id).expect(200)).body.data as Record<string, unknown>;

  async function team(): Promise<{ organization: TestOrganization; operator: TestUser; viewer: TestUser; colleague: TestUser }> {
    const organization = await fixtures.newOrganization();
    const operator = await fixtures.newUser('operator', organization.id);
    const viewer = await fixtures.newUser('viewer', organization.id);
    const colleague = await fixtures.newUser('viewer', organization.id);
    return { organization, operator, viewer, colleague };
  }

  describe('POST /api/v1/users/add', () => {
    it('creates a user: 201, the envelope, organization and role, never a password or hash', async () => {
      const organization = await fixtures.newOrganization();
      const address = email('Create');
      const secret = password();
      const before = Date.now();
      const response = await addUser({
        email: address.toUpperCase(),
        password: secret,
        name: 'Ada Lovelace',
        role: 'operator',
        organization_id: organization.id,
      }).expect(201);

      expect(Object.keys(response.body).sort()).toEqual(['data', 'links', 'meta']);
      expect(response.body.links).toEqual({ self: '/api/v1/users/add' });
      expect(response.body.data).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email: address.toLowerCase(),
        name: 'Ada Lovelace',
        role: 'operator',
        organization: { id: organization.id, name: organization.name },
        is_deleted: false,
        last_login_at: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(new Date(response.body.data.created_at as string).getTime()).toBeGreaterThanOrEqual(before - 5_000);
      expectNoSecretKeys(response.body);
      expect(JSON.stringify(response.body)).not.toContain(secret);

      // The new user can sign in with the password it was given.
      await fixtures.login(address, secret);
    });

    it('defaults the role to viewer and the organization to the calling admin’s', async () => {
      const response = await addUser({ email: email('Defaults'), password: password() }).expect(201);
      expect(response.body.data).toMatchObject({ role: 'viewer', organization: { id: adminOrganizationId }, name: null });
    });

    it('refuses an email already in use, in any case, with 409 naming "email"; nothing created', async () => {
      const organization = await fixtures.newOrganization();
      const existing = await fixtures.newUser('viewer', organization.id);
      for (const clash of [existing.email, existing.email.toUpperCase(), ` ${existing.email.replace(/^./, (c) => c.toUpperCase())} `]) {
        const response = await addUser({ email: clash, password: password(), organization_id: organization.id });
        expect(expectError(response, 409, 'USER.EMAIL_TAKEN')).toEqual(['email']);
      }
      const list = await listUsers({ email: existing.email, include_deleted: 'true' }).expect(200);
      expect(idsOf(list)).toEqual([existing.id]);
    });

    it('requires a password of at least 12 characters: 400 naming "password" for 11, 201 for 12', async () => {
      const address = email('ShortPw');
      const short = await addUser({ email: address, password: '12345678901' });
      expect(expectError(short, 400, 'VALIDATION_FAILED')).toEqual(['password']);
      expect((await listUsers({ email: address, include_deleted: 'true' }).expect(200)).body.meta.total).toBe(0);

      const exact = await addUser({ email: address, password: '123456789012' }).expect(201);
      expectNoSecretKeys(exact.body);
      await fixtures.login(address, '123456789012');
    });

    it('refuses bad input with 400 naming the field, and creates nothing', async () => {
      const address = email('BadInput');
      const cases: Array<{ body: Record<string, unknown>; field: string; error?: string }> = [
        { body: { email: address, password: password(), organization_id: randomUUID() }, field: 'organization_id', error: 'USER.ORGANIZATION_NOT_FOUND' },
        { body: { email: address, password: password(), organization_id: 'not-a-uuid' }, field: 'organization_id' },
        { body: { email: 'not-an-email', password: password() }, field: 'email' },
        { body: { email: 'two@@example.test', password: password() }, field: 'email' },
        { body: { password: password() }, field: 'email' },
        { body: { email: address }, field: 'password' },
        { body: { email: address, password: 123456789012345 }, field: 'password' },
        { body: { email: address, password: password(), role: 'superuser' }, field: 'role' },
        { body: { email: address, password: password(), unexpected: 'x' }, field: 'unexpected' },
        { body: { email: address, password: password(), is_deleted: true }, field: 'is_deleted' },
        { body: { email: address, password: password(), password_hash: 'x' }, field: 'password_hash' },
        { body: { email: address, password: password(), id: randomUUID() }, field: 'id' },
      ];
      for (const { body, field, error } of cases) {
        const response = await addUser(body);
        expect(expectError(response, 400, error ?? 'VALIDATION_FAILED')).toContain(field);
      }
      expect((await listUsers({ email: address, include_deleted: 'true' }).expect(200)).body.meta.total).toBe(0);
    });

    it('refuses a deleted organization as organization_id with 400', async () => {
      const organization = await fixtures.newOrganization();
      await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).expect(200);
      const response = await addUser({ email: email('DeadOrg'), password: password(), organization_id: organization.id });
      expect(expectError(response, 400, 'USER.ORGANIZATION_NOT_FOUND')).toEqual(['organization_id']);
    });

    it("refuses operators' and viewers' POST with 403 and creates nothing", async () => {
      const { organization, operator, viewer } = await team();
      for (const member of [operator, viewer]) {
        const address = email(`by-${member.role}`);
        const response = await addUser({ email: address, password: password(), organization_id: organization.id }, member.token);
        expectError(response, 403, 'FORBIDDEN');
        expect((await listUsers({ email: address, include_deleted: 'true' }).expect(200)).body.meta.total).toBe(0);
      }
    });
  });

  describe('GET /api/v1/users/{user_id}', () => {
    it('returns the user with its organization {id, name} and role, without secrets', async () => {
      const organization = await fixtures.newOrganization();
      const operator = await fixtures.newUser('operator', organization.id);
      const response = await getUser(operator.id).expect(200);
      expect(response.body.data).toMatchObject({
        id: operator.id,
        email: operator.email,
        role: 'operator',
        organization: { id: organization.id, name: organization.name },
        is_deleted: false,
      });
      expect(Object.keys(response.body.data.organization as object).sort()).toEqual(['id', 'name']);
      expect(response.body.data.last_login_at).not.toBeNull();
      expectNoSecretKeys(response.body);
    });

    it('lets members read themselves and colleagues but answers 404 for another organization’s user', async () => {
      const mine = await team();
      const theirs = await team();
      for (const member of [mine.operator, mine.viewer]) {
        const self = await getUser(member.id, member.token).expect(200);
        expect(self.body.data).toMatchObject({ id: member.id, role: member.role, organization: { id: mine.organization.id } });
        expectNoSecretKeys(self.body);
        expect((await getUser(mine.colleague.id, member.token).expect(200)).body.data.id).toBe(mine.colleague.id);
        for (const stranger of [theirs.operator, theirs.viewer]) {
          expectError(await getUser(stranger.id, member.token), 404, 'USER.NOT_FOUND');
        }
        expectError(await getUser(adminId, member.token), 404, 'USER.NOT_FOUND');
      }
    });

    it('answers 404 for an unknown id', async () => {
      expectError(await getUser(randomUUID()), 404, 'USER.NOT_FOUND');
    });
  });

  describe('GET /api/v1/users', () => {
    it('is for admins only: operators and viewers get 403', async () => {
      const { operator, viewer } = await team();
      for (const member of [operator, viewer]) {
        expectError(await listUsers({}, member.token), 403, 'FORBIDDEN');
      }
    });

    it('paginates with meta and links and filters by organization_id', async () => {
      const { organization, operator, viewer, colleague } = await team();
      const query = (page: number) => `/api/v1/users?organization_id=${organization.id}&page=${page}&per_page=2`;
      const first = await t.http.get(query(1)).set(bearer(adminToken)).expect(200);
      expect(first.body.meta).toMatchObject({ page: 1, per_page: 2, total: 3, total_pages: 2 });
      expect(first.body.links).toEqual({ self: query(1), first: query(1), prev: null, next: query(2), last: query(2) });
      const second = await t.http.get(query(2)).set(bearer(adminToken)).expect(200);
      expect(second.body.links).toMatchObject({ prev: query(1), next: null });
      const ids = [...idsOf(first), ...idsOf(second)];
      expect(ids).toEqual([operator.id, viewer.id, colleague.id]);
      expectNoSecretKeys(first.body);
      expectNoSecretKeys(second.body);
      for (const user of [...first.body.data, ...second.body.data] as Array<{ organization: { id: string; name: string } }>) {
        expect(user.organization).toEqual({ id: organization.id, name: organization.name });
      }
    });

    it('filters by role, and by a case-insensitive part of the email', async () => {
      const { organization, operator, viewer, colleague } = await team();
      const operators = await listUsers({ organization_id: organization.id, role: 'operator' }).expect(200);
      expect(idsOf(operators)).toEqual([operator.id]);
      const viewers = await listUsers({ organization_id: organization.id, role: 'viewer' }).expect(200);
      expect(idsOf(viewers)).toEqual([viewer.id, colleague.id]);
      expect((await listUsers({ organization_id: organization.id, role: 'admin' }).expect(200)).body.meta.total).toBe(0);

      // The local part of the fixture email is "<role>-<8 hex>"; search for the middle of it in upper case.
      const middle = viewer.email.slice(3, 14).toUpperCase();
      const byEmail = await listUsers({ email: middle }).expect(200);
      expect(idsOf(byEmail)).toEqual([viewer.id]);
      expect((await listUsers({ email: viewer.email.replace('-', '_') }).expect(200)).body.meta.total).toBe(0);
      expect((await listUsers({ email: viewer.email.replace('-', '%') }).expect(200)).body.meta.total).toBe(0);
    });

    it('hides deleted users unless include_deleted=true', async () => {
      const { organization, viewer, colleague, operator } = await team();
      await deleteUser(viewer.id).expect(200);
      const live = await listUsers({ organization_id: organization.id }).expect(200);
      expect(idsOf(live)).toEqual([operator.id, colleague.id]);
      const explicit = await listUsers({ organization_id: organization.id, include_deleted: 'false' }).expect(200);
      expect(explicit.body.meta.total).toBe(2);
      const all = await listUsers({ organization_id: organization.id, include_deleted: 'true' }).expect(200);
      expect(items<{ id: string; is_deleted: boolean }>(all).map((u) => [u.id, u.is_deleted])).toEqual([
        [operator.id, false],
        [viewer.id, true],
        [colleague.id, false],
      ]);
    });

    it('refuses bad filters and paging with 400 naming the parameter', async () => {
      const cases: Array<{ query: Record<string, string>; field: string }> = [
        { query: { organization_id: 'nope' }, field: 'organization_id' },
        { query: { role: 'superuser' }, field: 'role' },
        { query: { include_deleted: 'maybe' }, field: 'include_deleted' },
        { query: { per_page: '1000' }, field: 'per_page' },
        { query: { page: '0' }, field: 'page' },
        { query: { password_hash: 'x' }, field: 'password_hash' },
      ];
      for (const { query, field } of cases) {
        expect(expectError(await listUsers(query), 400, 'VALIDATION_FAILED')).toContain(field);
      }
    });
  });

  describe('PUT /api/v1/users/update/{user_id}', () => {
    it('lets a non-admin change their own name', async () => {
      const { viewer } = await team();
      const response = await updateUser(viewer.id, { name: 'Grace Hopper' }, viewer.token).expect(200);
      expect(response.body.data).toMatchObject({ id: viewer.id, name: 'Grace Hopper', role: 'viewer' });
      expectNoSecretKeys(response.body);
      expect((await snapshot(viewer.id)).name).toBe('Grace Hopper');
    });

    it.each([
      [{ role: 'admin' }, ['role']],
      [{ organization_id: '00000000-0000-4000-8000-000000000000' }, ['organization_id']],
      [{ is_deleted: true }, ['is_deleted']],
      [{ is_deleted: false }, ['is_deleted']],
      [{ role: 'operator', organization_id: '00000000-0000-4000-8000-000000000000', is_deleted: true, name: 'Sneaky' }, ['role', 'organization_id', 'is_deleted']],
    ])('refuses a non-admin setting %j on themselves: 403 USER.FIELDS_FORBIDDEN naming %j, nothing changed', async (body, fields) => {
      const { viewer, operator } = await team();
      const elsewhere = await fixtures.newOrganization();
      for (const member of [viewer, operator]) {
        const payload: Record<string, unknown> = { ...body };
        if ('organization_id' in payload) payload.organization_id = elsewhere.id;
        const before = await snapshot(member.id);
        const response = await updateUser(member.id, payload, member.token);
        expect(expectError(response, 403, 'USER.FIELDS_FORBIDDEN').sort()).toEqual([...fields].sort());
        expect(await snapshot(member.id)).toEqual(before);
        expect((await whoAmI(member.token).expect(200)).body.data).toMatchObject({
          role: member.role,
          organization_id: member.organizationId,
        });
      }
    });

    it('lets a non-admin change their own password only with the right current_password', async () => {
      const { operator } = await team();
      const next = password();
      const before = await snapshot(operator.id);

      const missing = await updateUser(operator.id, { password: next }, operator.token);
      expect(expectError(missing, 400, 'USER.CURRENT_PASSWORD_INVALID')).toEqual(['current_password']);
      const wrong = await updateUser(operator.id, { password: next, current_password: 'not-the-password' }, operator.token);
      expect(expectError(wrong, 400, 'USER.CURRENT_PASSWORD_INVALID')).toEqual(['current_password']);
      expect(await snapshot(operator.id)).toEqual(before);
      expectError(await login(operator.email, next), 401);
      await login(operator.email, operator.password).expect(200);

      const changed = await updateUser(operator.id, { password: next, current_password: operator.password }, operator.token).expect(200);
      expectNoSecretKeys(changed.body);
      expect(JSON.stringify(changed.body)).not.toContain(next);
      await login(operator.email, next).expect(200);
      expectError(await login(operator.email, operator.password), 401);
    });

    it('refuses a new password shorter than 12 characters with 400 naming "password"', async () => {
      const { viewer } = await team();
      const response = await updateUser(viewer.id, { password: 'short-pw', current_password: viewer.password }, viewer.token);
      expect(expectError(response, 400, 'VALIDATION_FAILED')).toEqual(['password']);
      await login(viewer.email, viewer.password).expect(200);
    });

    it('refuses a non-admin updating a colleague with 403 and someone of another organization with 404', async () => {
      const mine = await team();
      const theirs = await team();
      for (const member of [mine.operator, mine.viewer]) {
        const colleagueBefore = await snapshot(mine.colleague.id);
        expectError(await updateUser(mine.colleague.id, { name: 'Renamed by a colleague' }, member.token), 403, 'USER.NOT_YOURS');
        expect(await snapshot(mine.colleague.id)).toEqual(colleagueBefore);

        const strangerBefore = await snapshot(theirs.viewer.id);
        expectError(await updateUser(theirs.viewer.id, { name: 'Renamed by a stranger' }, member.token), 404, 'USER.NOT_FOUND');
        expect(await snapshot(theirs.viewer.id)).toEqual(strangerBefore);

        expectError(await updateUser(adminId, { role: 'viewer' }, member.token), 404, 'USER.NOT_FOUND');
      }
      expect((await whoAmI(adminToken).expect(200)).body.data.role).toBe('admin');
    });

    it('lets an admin set the role and the organization; the user’s token reflects them at once', async () => {
      const { viewer } = await team();
      const destination = await fixtures.newOrganization();
      const response = await updateUser(viewer.id, { role: 'operator', organization_id: destination.id, name: 'Moved' }).expect(200);
      expect(response.body.data).toMatchObject({
        id: viewer.id,
        role: 'operator',
        name: 'Moved',
        organization: { id: destination.id, name: destination.name },
      });
      expectNoSecretKeys(response.body);
      expect(await snapshot(viewer.id)).toEqual(response.body.data);
      expect((await whoAmI(viewer.token).expect(200)).body.data).toMatchObject({ role: 'operator', organization_id: destination.id });
      const visible = await t.http.get('/api/v1/organizations').set(bearer(viewer.token)).expect(200);
      expect(idsOf(visible)).toEqual([destination.id]);
    });

    it('lets an admin change a user’s password without current_password, and email (lower-cased)', async () => {
      const { viewer } = await team();
      const next = password();
      const address = email('NewAddress').toUpperCase();
      const response = await updateUser(viewer.id, { password: next, email: address }).expect(200);
      expect(response.body.data.email).toBe(address.toLowerCase());
      expectNoSecretKeys(response.body);
      await login(address.toLowerCase(), next).expect(200);
      expectError(await login(viewer.email, viewer.password), 401);
    });

    it('refuses an email another user has, in another case, with 409 naming "email"', async () => {
      const { viewer, colleague } = await team();
      for (const token of [adminToken, viewer.token]) {
        const before = await snapshot(viewer.id);
        const response = await updateUser(viewer.id, { email: colleague.email.toUpperCase() }, token);
        expect(expectError(response, 409, 'USER.EMAIL_TAKEN')).toEqual(['email']);
        expect(await snapshot(viewer.id)).toEqual(before);
      }
    });

    it('refuses an unknown organization_id from an admin with 400, and bad values or unknown fields with 400', async () => {
      const { viewer } = await team();
      const before = await snapshot(viewer.id);
      const cases: Array<{ body: Record<string, unknown>; field: string; error?: string }> = [
        { body: { organization_id: randomUUID() }, field: 'organization_id', error: 'USER.ORGANIZATION_NOT_FOUND' },
        { body: { organization_id: 'nope' }, field: 'organization_id' },
        { body: { role: 'root' }, field: 'role' },
        { body: { email: 'not-an-email' }, field: 'email' },
        { body: { is_deleted: 'yes' }, field: 'is_deleted' },
        { body: { password: 'short' }, field: 'password' },
        { body: { password_hash: '$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA' }, field: 'password_hash' },
        { body: { created_by: adminId }, field: 'created_by' },
        { body: { id: randomUUID() }, field: 'id' },
      ];
      for (const { body, field, error } of cases) {
        expect(expectError(await updateUser(viewer.id, body), 400, error ?? 'VALIDATION_FAILED')).toContain(field);
      }
      expect(await snapshot(viewer.id)).toEqual(before);
      await login(viewer.email, viewer.password).expect(200);
    });

    it.each([['email'], ['role'], ['is_deleted'], ['password'], ['organization_id']])(
      'refuses null for %s from an admin with 400 (never a 500), and changes nothing',
      async (field) => {
        const { viewer } = await team();
        const before = await snapshot(viewer.id);
        const response = await updateUser(viewer.id, { [field]: null });
        expect(expectError(response, 400)).toContain(field);
        expect(await snapshot(viewer.id)).toEqual(before);
        await login(viewer.email, viewer.password).expect(200);
      },
    );

    it('answers 404 for an unknown user', async () => {
      expectError(await updateUser(randomUUID(), { name: 'Nobody' }), 404, 'USER.NOT_FOUND');
    });
  });

  describe('DELETE /api/v1/users/delete/{user_id}', () => {
    it('soft-deletes: is_deleted true, history kept for admins, the token answers 401 at once', async () => {
      const { organization, viewer, operator } = await team();
      await whoAmI(viewer.token).expect(200);
      const response = await deleteUser(viewer.id).expect(200);
      expect(response.body.data).toMatchObject({ id: viewer.id, email: viewer.email, is_deleted: true, organization: { id: organization.id } });
      expectNoSecretKeys(response.body);

      expectError(await whoAmI(viewer.token), 401);
      expectError(await getUser(viewer.id, viewer.token), 401);
      expectError(await login(viewer.email, viewer.password), 401);

      const kept = await getUser(viewer.id).expect(200);
      expect(kept.body.data).toMatchObject({ id: viewer.id, email: viewer.email, role: 'viewer', is_deleted: true });
      // Colleagues no longer see a deleted user.
      expectError(await getUser(viewer.id, operator.token), 404, 'USER.NOT_FOUND');
      // Deleting twice is a 404.
      expectError(await deleteUser(viewer.id), 404, 'USER.NOT_FOUND');
    });

    it('frees the email for a new user; restoring the old one then clashes (409)', async () => {
      const { organization, viewer } = await team();
      await deleteUser(viewer.id).expect(200);
      const secret = password();
      const replacement = await addUser({ email: viewer.email.toUpperCase(), password: secret, organization_id: organization.id }).expect(201);
      expect(replacement.body.data).toMatchObject({ email: viewer.email, is_deleted: false });
      expect(replacement.body.data.id).not.toBe(viewer.id);
      await login(viewer.email, secret).expect(200);

      const restore = await updateUser(viewer.id, { is_deleted: false });
      expect(expectError(restore, 409, 'USER.EMAIL_TAKEN')).toEqual(['email']);
      expect((await snapshot(viewer.id)).is_deleted).toBe(true);
    });

    it('lets an admin restore a deleted user with is_deleted=false; they can sign in again', async () => {
      const { viewer } = await team();
      await deleteUser(viewer.id).expect(200);
      const restored = await updateUser(viewer.id, { is_deleted: false }).expect(200);
      expect(restored.body.data).toMatchObject({ id: viewer.id, is_deleted: false });
      const token = (await login(viewer.email, viewer.password).expect(200)).body.data.access_token as string;
      await whoAmI(token).expect(200);
    });

    it('lets an admin delete through PUT with is_deleted=true, with the same effect', async () => {
      const { viewer } = await team();
      const response = await updateUser(viewer.id, { is_deleted: true }).expect(200);
      expect(response.body.data.is_deleted).toBe(true);
      expectError(await whoAmI(viewer.token), 401);
    });

    it('refuses operators and viewers with 403, for colleagues and themselves; nothing deleted', async () => {
      const { operator, viewer, colleague } = await team();
      for (const member of [operator, viewer]) {
        for (const target of [colleague, member]) {
          expectError(await deleteUser(target.id, member.token), 403, 'FORBIDDEN');
          expect((await snapshot(target.id)).is_deleted).toBe(false);
        }
        await whoAmI(member.token).expect(200);
      }
      await whoAmI(colleague.token).expect(200);
    });

    it('answers 404 for an unknown user', async () => {
      expectError(await deleteUser(randomUUID()), 404, 'USER.NOT_FOUND');
    });
  });

  describe('malformed ids', () => {
    const malformed = ['not-a-uuid', '42', `${randomUUID()}0`, 'null'];
    const routes: Array<{ name: string; call: (id: string) => ReturnType<typeof getUser> }> = [
      { name: 'GET /users/{user_id}', call: (id) => getUser(id) },
      { name: 'PUT /users/update/{user_id}', call: (id) => updateUser(id, { name: 'x' }) },
      { name: 'DELETE /users/delete/{user_id}', call: (id) => deleteUser(id) },
    ];

    it.each(routes.map((route) => [route.name, route] as const))('%s answers 400 naming user_id', async (_name, route) => {
      for (const id of malformed) {
        expect(expectError(await route.call(encodeURIComponent(id)), 400, 'VALIDATION_FAILED')).toEqual(['user_id']);
      }
    });
  });

  describe('the last admin', () => {
    it('lets an admin be demoted or deleted while another admin remains (deterministic on a shared database)', async () => {
      // With two admins of our own there is always another admin left, whatever else shares the database.
      const organization = await fixtures.newOrganization();
      const first = await fixtures.newUser('admin', organization.id);
      const second = await fixtures.newUser('admin', organization.id);
      const demoted = await updateUser(second.id, { role: 'operator' }, first.token).expect(200);
      expect(demoted.body.data.role).toBe('operator');
      expect((await whoAmI(second.token).expect(200)).body.data.role).toBe('operator');
      await deleteUser(first.id, adminToken).expect(200);
      expectError(await whoAmI(first.token), 401);
    });

    describe('on a fresh embedded database with exactly one admin', () => {
      let fresh: TestApp;
      let freshFixtures: IdentityFixtures;
      let onlyAdminToken: string;
      let onlyAdminId: string;

      beforeAll(async () => {
        // DATABASE_URL='' forces the embedded database, whatever TEST_DATABASE_URL says.
        fresh = await startTestApp({ env: { DATABASE_URL: '' } });
        freshFixtures = new IdentityFixtures(fresh);
        onlyAdminToken = await freshFixtures.admin();
        onlyAdminId = (await fresh.http.get('/api/v1/auth/me').set(bearer(onlyAdminToken)).expect(200)).body.data.id as string;
        const admins = await fresh.http.get('/api/v1/users').query({ role: 'admin' }).set(bearer(onlyAdminToken)).expect(200);
        expect(idsOf(admins)).toEqual([onlyAdminId]);
      }, 60_000);

      afterAll(async () => {
        await fresh?.close();
      });

      const freshUpdate = (id: string, body: Record<string, unknown>, token = onlyAdminToken) =>
        fresh.http.put(`/api/v1/users/update/${id}`).set(bearer(token)).send(body);
      const freshDelete = (id: string, token = onlyAdminToken) =>
        fresh.http.delete(`/api/v1/users/delete/${id}`).set(bearer(token));
      const freshMe = (token: string) => fresh.http.get('/api/v1/auth/me').set(bearer(token));

      it('refuses demoting, deleting or un-setting the only admin with 422 USER.LAST_ADMIN; nothing changed', async () => {
        for (const role of ['operator', 'viewer']) {
          expectError(await freshUpdate(onlyAdminId, { role }), 422, 'USER.LAST_ADMIN');
        }
        expectError(await freshUpdate(onlyAdminId, { is_deleted: true }), 422, 'USER.LAST_ADMIN');
        expectError(await freshDelete(onlyAdminId), 422, 'USER.LAST_ADMIN');
        // A refused update changes nothing else either (the transaction rolls back).
        expectError(await freshUpdate(onlyAdminId, { role: 'viewer', name: 'Not applied' }), 422, 'USER.LAST_ADMIN');

        const me = await fresh.http.get(`/api/v1/users/${onlyAdminId}`).set(bearer(onlyAdminToken)).expect(200);
        expect(me.body.data).toMatchObject({ role: 'admin', is_deleted: false, name: null });
        expect((await freshMe(onlyAdminToken).expect(200)).body.data.role).toBe('admin');
      });

      it('writes a failure row with status 422 for the refused demotion', async () => {
        const requestId = unique('last-admin');
        await fresh.http
          .put(`/api/v1/users/update/${onlyAdminId}`)
          .set(bearer(onlyAdminToken))
          .set('X-Request-Id', requestId)
          .send({ role: 'viewer' })
          .expect(422);
        const rows = await findAuditRows(fresh, onlyAdminToken, { action: 'user.update', status: '422' }, (row) => row.request_id === requestId);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ resource_id: onlyAdminId, outcome: 'failure', status_code: 422, actor: { id: onlyAdminId } });
      });

      it('allows demoting once a second admin exists, and then protects the one left', async () => {
        const organization = await freshFixtures.newOrganization();
        const second = await freshFixtures.newUser('admin', organization.id);
        const firstAdminSecret = TEST_ADMIN.password;

        // The second admin demotes the first: allowed, one admin remains.
        const demoted = await freshUpdate(onlyAdminId, { role: 'operator' }, second.token).expect(200);
        expect(demoted.body.data.role).toBe('operator');
        expect((await freshMe(onlyAdminToken).expect(200)).body.data.role).toBe('operator');

        // Now the second admin is the last one.
        expectError(await freshUpdate(second.id, { role: 'viewer' }, second.token), 422, 'USER.LAST_ADMIN');
        expectError(await freshDelete(second.id, second.token), 422, 'USER.LAST_ADMIN');
        expectError(await freshDelete(second.id, onlyAdminToken), 403, 'FORBIDDEN');
        expect((await freshMe(second.token).expect(200)).body.data.role).toBe('admin');

        // Promote the first admin back, so this database ends as it began.
        await freshUpdate(onlyAdminId, { role: 'admin' }, second.token).expect(200);
        await freshDelete(second.id).expect(200);
        await freshFixtures.login(TEST_ADMIN.email, firstAdminSecret);
      });

      it('refuses deleting the organization that holds the last admin with 422: the cascade must not remove every admin', async () => {
        // An admin API key of another organization can reach the Default organization, where the only admin lives.
        const organization = await freshFixtures.newOrganization();
        const key = await freshFixtures.newApiKey({ role: 'admin', organizationId: organization.id });
        const adminOrganizationIdHere = (await freshMe(onlyAdminToken).expect(200)).body.data.organization_id as string;
        const response = await fresh.http.delete(`/api/v1/organizations/${adminOrganizationIdHere}`).set('X-API-Key', key.key);
        expectError(response, 422, 'ORGANIZATION.LAST_ADMINS');
        expect((await freshMe(onlyAdminToken).expect(200)).body.data.role).toBe('admin');
        const stillThere = await fresh.http.get(`/api/v1/organizations/${adminOrganizationIdHere}`).set(bearer(onlyAdminToken)).expect(200);
        expect(stillThere.body.data.deleted_at).toBeNull();
        const admin = await fresh.http.get(`/api/v1/users/${onlyAdminId}`).set('X-API-Key', key.key).expect(200);
        expect(admin.body.data).toMatchObject({ role: 'admin', is_deleted: false });
      });
    });
  });

  describe('audit', () => {
    it('writes one success row per create, update and delete, never with a password value', async () => {
      const organization = await fixtures.newOrganization();
      const address = email('Audited');
      const firstSecret = password();
      const secondSecret = password();
      const tag = unique('user-audit');

      const created = await t.http
        .post('/api/v1/users/add')
        .set(bearer(adminToken))
        .set('X-Request-Id', `${tag}-create`)
        .send({ email: address, password: firstSecret, role: 'operator', organization_id: organization.id })
        .expect(201);
      const id = created.body.data.id as string;
      await t.http
        .put(`/api/v1/users/update/${id}`)
        .set(bearer(adminToken))
        .set('X-Request-Id', `${tag}-update`)
        .send({ password: secondSecret, name: 'Audited Person' })
        .expect(200);
      await t.http.delete(`/api/v1/users/delete/${id}`).set(bearer(adminToken)).set('X-Request-Id', `${tag}-delete`).expect(200);

      const expectations = [
        {
          action: 'user.create',
          status: 201,
          requestId: `${tag}-create`,
          changes: { email: address.toLowerCase(), role: 'operator', organization_id: organization.id, password: '[REDACTED]' },
        },
        { action: 'user.update', status: 200, requestId: `${tag}-update`, changes: { name: { from: null, to: 'Audited Person' }, password: '[REDACTED]' } },
        { action: 'user.delete', status: 200, requestId: `${tag}-delete`, changes: { is_deleted: { from: false, to: true } } },
      ];
      for (const expected of expectations) {
        const rows = await findAuditRows(
          t,
          adminToken,
          { action: expected.action, resource_type: 'user', actor: adminId },
          (row) => row.resource_id === id,
        );
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          actor: { type: 'user', id: adminId, label: TEST_ADMIN.email },
          organization_id: adminOrganizationId,
          resource_type: 'user',
          outcome: 'success',
          status_code: expected.status,
          request_id: expected.requestId,
        });
        expect(rows[0].changes).toEqual(expected.changes);
        const serialized = JSON.stringify(rows[0]);
        expect(serialized).not.toContain(firstSecret);
        expect(serialized).not.toContain(secondSecret);
        expect(serialized).not.toMatch(/\$argon2/);
      }
    });

    it("records a non-admin's own password change without the password, current or new", async () => {
      const { viewer } = await team();
      const next = password();
      const requestId = unique('self-pw');
      await t.http
        .put(`/api/v1/users/update/${viewer.id}`)
        .set(bearer(viewer.token))
        .set('X-Request-Id', requestId)
        .send({ password: next, current_password: viewer.password })
        .expect(200);
      const rows = await findAuditRows(t, adminToken, { action: 'user.update', actor: viewer.id }, (row) => row.request_id === requestId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ resource_id: viewer.id, outcome: 'success', status_code: 200, actor: { id: viewer.id, label: viewer.email } });
      const serialized = JSON.stringify(rows[0]);
      expect(serialized).not.toContain(next);
      expect(serialized).not.toContain(viewer.password);
    });

    it("writes failure rows for a viewer's refused create (403) and a refused mass assignment (403)", async () => {
      const { viewer } = await team();
      const createId = unique('viewer-add');
      await t.http
        .post('/api/v1/users/add')
        .set(bearer(viewer.token))
        .set('X-Request-Id', createId)
        .send({ email: email('nope'), password: password() })
        .expect(403);
      const createRows = await findAuditRows(t, adminToken, { action: 'user.create', actor: viewer.id }, (row) => row.request_id === createId);
      expect(createRows).toHaveLength(1);
      expect(createRows[0]).toMatchObject({ outcome: 'failure', status_code: 403, resource_type: 'user' });

      const escalateId = unique('viewer-escalate');
      await t.http
        .put(`/api/v1/users/update/${viewer.id}`)
        .set(bearer(viewer.token))
        .set('X-Request-Id', escalateId)
        .send({ role: 'admin' })
        .expect(403);
      const escalateRows = await findAuditRows(t, adminToken, { action: 'user.update', actor: viewer.id }, (row) => row.request_id === escalateId);
      expect(escalateRows).toHaveLength(1);
      expect(escalateRows[0]).toMatchObject({ outcome: 'failure', status_code: 403, resource_id: viewer.id });
    });
  });
});
