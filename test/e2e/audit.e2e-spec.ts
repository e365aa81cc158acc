import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import {
  auditRows,
  eventuallyAuditRow,
  expectErrorEnvelope,
  sleep,
  type AuditRow,
} from '../support/http-assertions.js';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const AUDIT = '/api/v1/audit-logs';
const USER_AGENT = 'OpsDeck-Audit-Test/1.0 (+e2e)';
const AUDIT_ROW_FIELDS = [
  'action',
  'actor',
  'changes',
  'id',
  'ip',
  'occurred_at',
  'organization_id',
  'outcome',
  'request_id',
  'resource_id',
  'resource_type',
  'status_code',
  'user_agent',
];

const requestId = (label: string): string => `audit-${label}-${randomUUID()}`;

/** Newest first: occurred_at never increases down the list, and equal times are ordered by id, descending. */
function expectNewestFirst(rows: readonly AuditRow[]): void {
  for (let i = 1; i < rows.length; i += 1) {
    const previous = Date.parse(rows[i - 1].occurred_at);
    const current = Date.parse(rows[i].occurred_at);
    expect(current).toBeLessThanOrEqual(previous);
    if (current === previous) expect(BigInt(rows[i].id) < BigInt(rows[i - 1].id)).toBe(true);
  }
}

describe('audit log', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let admin: string;
  let org: TestOrganization;
  /** An admin used only by this file, so filtering by it is exact even on a shared database. */
  let auditor: TestUser;
  let viewer: TestUser;
  let operator: TestUser;

  const rowsOf = (query: Record<string, string | number>, token = admin) => auditRows(t, token, query);

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    admin = await fixtures.admin();
    org = await fixtures.newOrganization();
    auditor = await fixtures.newUser('admin', org.id);
    viewer = await fixtures.newUser('viewer', org.id);
    operator = await fixtures.newUser('operator', org.id);
  });

  afterAll(async () => {
    await t.close();
  });

  describe('who may read it', () => {
    it('admins (users and admin keys) may; viewers and operators get 403; no credentials 401', async () => {
      await t.http.get(AUDIT).set(bearer(admin)).expect(200);
      await t.http.get(AUDIT).set(bearer(auditor.token)).expect(200);
      const adminKey = await fixtures.newApiKey({ role: 'admin', organizationId: org.id });
      await t.http.get(AUDIT).set('X-API-Key', adminKey.key).expect(200);

      expectErrorEnvelope(await t.http.get(AUDIT).set(bearer(viewer.token)), 403, 'FORBIDDEN');
      expectErrorEnvelope(await t.http.get(AUDIT).set(bearer(operator.token)), 403, 'FORBIDDEN');
      const operatorKey = await fixtures.newApiKey({ role: 'operator', organizationId: org.id });
      expectErrorEnvelope(await t.http.get(AUDIT).set('X-API-Key', operatorKey.key), 403, 'FORBIDDEN');
      expectErrorEnvelope(await t.http.get(AUDIT), 401, 'UNAUTHORIZED');
    });
  });

  describe('what is recorded', () => {
    it('a login: the user, ip, user agent and request id', async () => {
      const user = await fixtures.newUser('viewer', org.id);
      const id = requestId('login');
      await t.http
        .post('/api/v1/auth/login')
        .set('User-Agent', USER_AGENT)
        .set('X-Request-Id', id)
        .send({ email: user.email, password: user.password })
        .expect(200);

      const row = await eventuallyAuditRow(t, admin, { action: 'auth.login', actor: user.email }, (entry) => entry.request_id === id);
      expect(Object.keys(row).sort()).toEqual(AUDIT_ROW_FIELDS);
      expect(row).toMatchObject({
        actor: { type: 'user', id: user.id, label: user.email },
        organization_id: org.id,
        action: 'auth.login',
        resource_type: 'auth',
        resource_id: user.id,
        outcome: 'success',
        status_code: 200,
        user_agent: USER_AGENT,
        request_id: id,
      });
      expect(row.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(Math.abs(Date.parse(row.occurred_at) - Date.now())).toBeLessThan(60_000);
      expect(JSON.stringify(row)).not.toContain(user.password);
    });

    it('a failed login: the attempted email as the actor label, 401, failure, and never the password', async () => {
      const id = requestId('wrong-password');
      const tried = 'not-the-password-at-all';
      await t.http
        .post('/api/v1/auth/login')
        .set('User-Agent', USER_AGENT)
        .set('X-Request-Id', id)
        .send({ email: viewer.email, password: tried })
        .expect(401);
      const wrong = await eventuallyAuditRow(t, admin, { action: 'auth.login_failed', actor: viewer.email }, (entry) => entry.request_id === id);
      expect(wrong).toMatchObject({
        actor: { type: 'anonymous', id: null, label: viewer.email },
        action: 'auth.login_failed',
        resource_type: 'auth',
        outcome: 'failure',
        status_code: 401,
        user_agent: USER_AGENT,
        request_id: id,
      });
      expect(wrong.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(JSON.stringify(wrong)).not.toContain(tried);

      const ghost = `${unique('Ghost')}@Example.test`;
      const ghostId = requestId('unknown-email');
      await t.http.post('/api/v1/auth/login').set('X-Request-Id', ghostId).send({ email: ghost, password: tried }).expect(401);
      const unknown = await eventuallyAuditRow(t, admin, { action: 'auth.login_failed', actor: ghost }, (entry) => entry.request_id === ghostId);
      expect(unknown).toMatchObject({
        actor: { type: 'anonymous', id: null, label: ghost.toLowerCase() },
        resource_id: null,
        outcome: 'failure',
        status_code: 401,
      });
    });

    it('a logout', async () => {
      const user = await fixtures.newUser('viewer', org.id);
      const id = requestId('logout');
      await t.http.post('/api/v1/auth/logout').set(bearer(user.token)).set('X-Request-Id', id).set('User-Agent', USER_AGENT).expect(200);
      const row = await eventuallyAuditRow(t, admin, { action: 'auth.logout', actor: user.id }, (entry) => entry.request_id === id);
      expect(row).toMatchObject({
        actor: { type: 'user', id: user.id, label: user.email },
        resource_type: 'auth',
        resource_id: user.id,
        outcome: 'success',
        status_code: 200,
        user_agent: USER_AGENT,
      });
    });

    it('api_key.create and api_key.revoke, by whom, without the key', async () => {
      const createId = requestId('key-create');
      const created = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(auditor.token))
        .set('X-Request-Id', createId)
        .set('User-Agent', USER_AGENT)
        .send({ name: unique('audited-key'), role: 'operator', organization_id: org.id })
        .expect(201);
      const keyId = created.body.data.id as string;
      const key = created.body.data.key as string;
      const revokeId = requestId('key-revoke');
      await t.http.delete(`/api/v1/api-keys/${keyId}`).set(bearer(auditor.token)).set('X-Request-Id', revokeId).expect(200);

      const createRow = await eventuallyAuditRow(t, admin, { action: 'api_key.create', actor: auditor.email }, (entry) => entry.resource_id === keyId);
      expect(createRow).toMatchObject({
        actor: { type: 'user', id: auditor.id, label: auditor.email },
        organization_id: org.id,
        resource_type: 'api_key',
        outcome: 'success',
        status_code: 201,
        request_id: createId,
        user_agent: USER_AGENT,
        changes: { prefix: created.body.data.prefix, role: 'operator', organization_id: org.id },
      });
      const revokeRow = await eventuallyAuditRow(t, admin, { action: 'api_key.revoke', actor: auditor.id }, (entry) => entry.resource_id === keyId);
      expect(revokeRow).toMatchObject({ resource_type: 'api_key', outcome: 'success', status_code: 200, request_id: revokeId });
      for (const row of [createRow, revokeRow]) expect(JSON.stringify(row)).not.toContain(key);
    });

    it('a user.create with the password marked as changed but never shown', async () => {
      const password = `secret-${randomUUID()}`;
      const created = await t.http
        .post('/api/v1/users/add')
        .set(bearer(auditor.token))
        .send({ email: `${unique('audited')}@example.test`, password, organization_id: org.id })
        .expect(201);
      const row = await eventuallyAuditRow(t, admin, { action: 'user.create', actor: auditor.email }, (entry) => entry.resource_id === created.body.data.id);
      expect(row).toMatchObject({ status_code: 201, outcome: 'success', resource_type: 'user' });
      expect(row.changes).toMatchObject({ password: '[REDACTED]' });
      expect(JSON.stringify(row)).not.toContain(password);
    });

    it('refused attempts at audited actions: 403 for a user without the permission, 401 without credentials', async () => {
      const forbiddenId = requestId('forbidden');
      await t.http
        .post('/api/v1/api-keys')
        .set(bearer(operator.token))
        .set('X-Request-Id', forbiddenId)
        .send({ name: unique('not-allowed') })
        .expect(403);
      const refused = await eventuallyAuditRow(t, admin, { action: 'api_key.create', status: 403 }, (entry) => entry.request_id === forbiddenId);
      expect(refused).toMatchObject({
        actor: { type: 'user', id: operator.id, label: operator.email },
        resource_type: 'api_key',
        outcome: 'failure',
        status_code: 403,
      });

      const anonymousId = requestId('anonymous');
      const target = randomUUID();
      await t.http.delete(`/api/v1/api-keys/${target}`).set('X-Request-Id', anonymousId).expect(401);
      const anonymous = await eventuallyAuditRow(t, admin, { action: 'api_key.revoke', status: 401 }, (entry) => entry.request_id === anonymousId);
      expect(anonymous).toMatchObject({ actor: { type: 'anonymous', id: null, label: null }, resource_id: target, outcome: 'failure' });
    });
  });

  describe('listing', () => {
    let first: string;
    let second: string;
    let midpoint: string;

    beforeAll(async () => {
      // Two organizations created by the auditor more than a second apart, with a point in time between them.
      first = (await t.http.post('/api/v1/organizations').set(bearer(auditor.token)).send({ name: unique('before') }).expect(201)).body.data
        .id as string;
      await sleep(600);
      midpoint = new Date().toISOString();
      await sleep(600);
      second = (await t.http.post('/api/v1/organizations').set(bearer(auditor.token)).send({ name: unique('after') }).expect(201)).body.data
        .id as string;
      await t.http.post('/api/v1/organizations').set(bearer(viewer.token)).send({ name: unique('refused') }).expect(403);
      await eventuallyAuditRow(t, admin, { actor: viewer.email, status: 403 }, (entry) => entry.action === 'organization.create');
    });

    it('is newest first, paginated with meta and links', async () => {
      const all = await rowsOf({});
      expect(all.rows.length).toBeGreaterThan(5);
      expectNewestFirst(all.rows);

      const page1 = await rowsOf({ actor: auditor.email, per_page: 2, page: 1 });
      const page2 = await rowsOf({ actor: auditor.email, per_page: 2, page: 2 });
      const total = page1.meta.total as number;
      expect(total).toBeGreaterThanOrEqual(5);
      expect(page1.meta).toMatchObject({ page: 1, per_page: 2, total, total_pages: Math.ceil(total / 2) });
      expect(page1.rows).toHaveLength(2);
      expect(page2.rows).toHaveLength(2);
      expect(page1.rows.map((row) => row.id)).not.toEqual(expect.arrayContaining(page2.rows.map((row) => row.id)));
      expectNewestFirst([...page1.rows, ...page2.rows]);
      expect(page1.response.body.links).toMatchObject({ prev: null, next: expect.stringContaining('page=2') });
      expect(page1.response.body.links.self).toMatch(/^\/api\/v1\/audit-logs\?/);
      const everything = await rowsOf({ actor: auditor.email });
      expect(everything.rows.slice(0, 4).map((row) => row.id)).toEqual([...page1.rows, ...page2.rows].map((row) => row.id));
    });

    it('filters by actor, by email (any case) or by id, to exactly that actor', async () => {
      const byEmail = await rowsOf({ actor: auditor.email });
      const byUpperEmail = await rowsOf({ actor: auditor.email.toUpperCase() });
      const byId = await rowsOf({ actor: auditor.id });
      expect(byEmail.rows.length).toBeGreaterThanOrEqual(4);
      for (const row of byId.rows) expect(row.actor.id).toBe(auditor.id);
      for (const row of byEmail.rows) expect(row.actor.label).toBe(auditor.email);
      expect(byUpperEmail.rows.map((row) => row.id)).toEqual(byEmail.rows.map((row) => row.id));
      // The login failures naming the auditor's email have no actor id; everything else is the same.
      expect(byId.rows.map((row) => row.id)).toEqual(
        byEmail.rows.filter((row) => row.actor.type !== 'anonymous').map((row) => row.id),
      );
      expect((await rowsOf({ actor: randomUUID() })).meta.total).toBe(0);
      expect((await rowsOf({ actor: `${unique('nobody')}@example.test` })).meta.total).toBe(0);
    });

    it('filters by action', async () => {
      const { rows, meta } = await rowsOf({ action: 'organization.create', actor: auditor.id });
      expect(rows.every((row) => row.action === 'organization.create')).toBe(true);
      expect(rows.map((row) => row.resource_id)).toEqual([second, first]);
      expect(meta.total).toBe(2);
      const logins = await rowsOf({ action: 'auth.login', actor: auditor.id });
      expect(logins.rows.length).toBeGreaterThanOrEqual(1);
      expect(logins.rows.every((row) => row.action === 'auth.login')).toBe(true);
    });

    it('filters by resource_type', async () => {
      const organizations = await rowsOf({ resource_type: 'organization', actor: auditor.id });
      expect(organizations.rows.map((row) => row.resource_id)).toEqual([second, first]);
      const auth = await rowsOf({ resource_type: 'auth', actor: auditor.id });
      expect(auth.rows.length).toBeGreaterThanOrEqual(1);
      expect(auth.rows.every((row) => row.resource_type === 'auth')).toBe(true);
    });

    it('filters by status: a status code, success or failure', async () => {
      const forbidden = await rowsOf({ status: 403 });
      expect(forbidden.rows.length).toBeGreaterThanOrEqual(1);
      expect(forbidden.rows.every((row) => row.status_code === 403 && row.outcome === 'failure')).toBe(true);
      expect(forbidden.rows.some((row) => row.actor.id === viewer.id && row.action === 'organization.create')).toBe(true);

      const created = await rowsOf({ status: 201, actor: auditor.id });
      expect(created.rows.length).toBeGreaterThanOrEqual(2);
      expect(created.rows.every((row) => row.status_code === 201)).toBe(true);

      const failures = await rowsOf({ status: 'failure', actor: viewer.email });
      expect(failures.rows.length).toBeGreaterThanOrEqual(2);
      expect(failures.rows.every((row) => row.outcome === 'failure')).toBe(true);
      expect(failures.rows.some((row) => row.status_code === 401)).toBe(true);
      expect(failures.rows.some((row) => row.status_code === 403)).toBe(true);

      const successes = await rowsOf({ status: 'success', actor: viewer.email });
      expect(successes.rows.length).toBeGreaterThanOrEqual(1);
      expect(successes.rows.every((row) => row.outcome === 'success')).toBe(true);

      expect((await rowsOf({ status: 599 })).meta.total).toBe(0);
    });

    it('filters by time: from and to (ISO 8601), inclusive ranges', async () => {
      const query = { action: 'organization.create', actor: auditor.id };
      const after = await rowsOf({ ...query, from: midpoint });
      expect(after.rows.map((row) => row.resource_id)).toEqual([second]);
      const before = await rowsOf({ ...query, to: midpoint });
      expect(before.rows.map((row) => row.resource_id)).toEqual([first]);
      const both = await rowsOf({ ...query, from: new Date(Date.parse(midpoint) - 3_600_000).toISOString(), to: new Date().toISOString() });
      expect(both.rows.map((row) => row.resource_id)).toEqual([second, first]);
      const future = await rowsOf({ from: new Date(Date.now() + 3_600_000).toISOString() });
      expect(future.meta.total).toBe(0);
    });

    it("includes a row in a range that starts and ends on its own occurred_at, as the API shows it", async () => {
      // "from: rows at or after", "to: rows at or before": a client paging by time passes back the timestamps
      // it was given (millisecond precision), so the row they came from must match both bounds.
      const query = { action: 'organization.create', actor: auditor.id };
      const [newest] = (await rowsOf(query)).rows;
      expect(newest.resource_id).toBe(second);
      const atOrBefore = await rowsOf({ ...query, to: newest.occurred_at });
      expect(atOrBefore.rows.map((row) => row.id)).toContain(newest.id);
      const exact = await rowsOf({ ...query, from: newest.occurred_at, to: newest.occurred_at });
      expect(exact.rows.map((row) => row.id)).toEqual([newest.id]);
    });

    it('combines filters (AND)', async () => {
      const { rows } = await rowsOf({ actor: auditor.id, action: 'organization.create', resource_type: 'organization', status: 'success', from: midpoint });
      expect(rows.map((row) => row.resource_id)).toEqual([second]);
      expect((await rowsOf({ actor: auditor.id, action: 'organization.create', status: 'failure' })).meta.total).toBe(0);
    });

    it.each([
      ['from', 'notadate'],
      ['to', 'yesterday'],
      ['status', 'abc'],
      ['status', '20'],
      ['status', '2000'],
      ['action', 'DROP TABLE'],
      ['action', "user.create'; --"],
      ['action', 'users'],
      ['resource_type', 'planet'],
      ['actor', 'a'.repeat(321)],
      ['page', '0'],
      ['per_page', '101'],
      ['sort', 'asc'],
    ].map(([field, value]) => [field, value.length > 40 ? `${value.slice(0, 8)}... (${value.length} characters)` : value, value]))(
      'refuses %s=%s with 400 VALIDATION_FAILED naming the field',
      async (field, _shown, value) => {
        const response = await t.http.get(AUDIT).query({ [field]: value }).set(bearer(admin));
        expectErrorEnvelope(response, 400, 'VALIDATION_FAILED');
        expect((response.body.details as Array<{ field: string }>).map((detail) => detail.field)).toContain(field);
      },
    );
  });

  describe('append-only', () => {
    it('has no route that changes or deletes rows (404, with admin credentials)', async () => {
      const [row] = (await rowsOf({ actor: auditor.id, per_page: 1 })).rows;
      const attempts = [
        t.http.put(AUDIT).send({}),
        t.http.patch(AUDIT).send({}),
        t.http.delete(AUDIT),
        t.http.post(AUDIT).send({ action: 'user.create' }),
        t.http.put(`${AUDIT}/${row.id}`).send({ action: 'nothing.happened' }),
        t.http.patch(`${AUDIT}/${row.id}`).send({ action: 'nothing.happened' }),
        t.http.delete(`${AUDIT}/${row.id}`),
      ];
      for (const attempt of attempts) expectErrorEnvelope(await attempt.set(bearer(admin)), 404, 'NOT_FOUND');
      const after = (await rowsOf({ actor: auditor.id })).rows.find((entry) => entry.id === row.id);
      expect(after).toEqual(row);
    });

    describe('in the database itself', () => {
      /** Runs the statement in a transaction that is always rolled back, so a missing guard cannot lose rows. */
      const attempt = async (sql: string): Promise<unknown> => {
        const runner = t.opsdeck.app.get(DataSource).createQueryRunner();
        await runner.connect();
        await runner.startTransaction();
        try {
          return await runner.query(sql);
        } finally {
          await runner.rollbackTransaction();
          await runner.release();
        }
      };

      it('refuses UPDATE', async () => {
        await expect(attempt("UPDATE audit_logs SET action = 'tampered.with' WHERE id = (SELECT max(id) FROM audit_logs)")).rejects.toThrow(
          'append-only',
        );
        await expect(attempt("UPDATE audit_logs SET actor_label = 'someone-else'")).rejects.toThrow('append-only');
      });

      it('refuses DELETE', async () => {
        await expect(attempt('DELETE FROM audit_logs WHERE id = (SELECT max(id) FROM audit_logs)')).rejects.toThrow('append-only');
        await expect(attempt('DELETE FROM audit_logs')).rejects.toThrow('append-only');
      });

      it('refuses TRUNCATE', async () => {
        await expect(attempt('TRUNCATE audit_logs')).rejects.toThrow('append-only');
      });

      it('still accepts new rows', async () => {
        await expect(
          attempt("INSERT INTO audit_logs (actor_type, action, resource_type, outcome, status_code) VALUES ('system', 'test.insert', 'test', 'success', 200)"),
        ).resolves.toBeDefined();
      });
    });
  });
});
