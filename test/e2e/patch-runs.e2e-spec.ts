import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { expectError, findAuditRows, items } from '../support/identity-assertions.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface PatchRunBody {
  id: string;
  site_id: string;
  started_at: string;
  finished_at: string;
  status: string;
  notes: string | null;
  modules_updated: number;
  updates: Array<{
    module: string;
    module_id: string | null;
    from_version: string;
    to_version: string;
    update_known_at: string | null;
    lag_seconds: number | null;
  }>;
  created_at: string;
}

/** A machine name no other test file uses (the module catalog is shared by every site). */
const machine = (label: string): string => `${label}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const iso = (ms: number): string => new Date(ms).toISOString();
const MINUTE = 60_000;

/**
 * Patch runs over HTTP (issue 4, deliverable 5): recording a run with its updates set-based, the lag start
 * taken from the site's version history, the list with its filters, and who may do what.
 */
describe('patch runs', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let adminToken: string;
  let organization: TestOrganization;
  let operator: TestUser;
  let viewer: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    adminToken = await fixtures.admin();
    organization = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', organization.id);
    viewer = await fixtures.newUser('viewer', organization.id);
  });

  afterAll(async () => {
    await t.close();
  });

  async function newSite(organizationId = organization.id): Promise<string> {
    const name = unique('Patch site');
    const response = await t.http
      .post('/api/v1/sites')
      .set(bearer(adminToken))
      .send({ name, url: `https://${unique('patch')}.example.test`, organization_id: organizationId });
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 201 });
    return response.body.data.id as string;
  }

  async function reportModules(
    siteId: string,
    modules: Array<{ name: string; version: string; update_available?: boolean; security_update?: boolean; latest_version?: string }>,
  ): Promise<void> {
    const response = await t.http
      .post(`/api/v1/sites/${siteId}/modules`)
      .set(bearer(adminToken))
      .send({ drupal_version: '10.2.3', modules });
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
  }

  const postRun = (siteId: string, body: object, token = operator.token) =>
    t.http.post(`/api/v1/sites/${siteId}/patch-run`).set(bearer(token)).send(body);
  const listRuns = (siteId: string, query: Record<string, string | number> = {}, token = operator.token) =>
    t.http.get(`/api/v1/sites/${siteId}/patch-run`).query(query).set(bearer(token));

  function runBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const finished = Date.now() - 10 * MINUTE;
    return {
      started_at: iso(finished - 5 * MINUTE),
      finished_at: iso(finished),
      status: 'succeeded',
      updates: [],
      ...overrides,
    };
  }

  describe('POST /api/v1/sites/{site_id}/patch-run', () => {
    it('records a run: 201 with the stored run, its updates in order, module ids from the catalog, an audit row', async () => {
      const siteId = await newSite();
      const known = machine('token');
      const unknown = machine('never_reported');
      await reportModules(siteId, [{ name: known, version: '8.x-1.13' }]);
      const current = await t.http.get(`/api/v1/sites/${siteId}/modules`).set(bearer(adminToken)).expect(200);
      const moduleId = (current.body.data as Array<{ name: string; module_id: string }>).find((module) => module.name === known)
        ?.module_id as string;
      expect(moduleId).toMatch(/^[0-9a-f-]{36}$/);

      const before = Date.now();
      const response = await postRun(
        siteId,
        runBody({
          started_at: '2026-01-05T10:00:00+01:00',
          finished_at: '2026-01-05T09:12:30.250Z',
          status: 'partial',
          notes: 'Core left for next week',
          updates: [
            { module: unknown, from_version: '2.0.0', to_version: '2.1.0' },
            { module: known, from_version: '8.x-1.13', to_version: '8.x-1.14' },
          ],
        }),
      ).expect(201);
      const run = response.body.data as PatchRunBody;
      expect(Object.keys(response.body).sort()).toEqual(['data', 'links', 'meta']);
      expect(run).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        site_id: siteId,
        started_at: '2026-01-05T09:00:00.000Z',
        finished_at: '2026-01-05T09:12:30.250Z',
        status: 'partial',
        notes: 'Core left for next week',
        modules_updated: 2,
        updates: [
          { module: unknown, module_id: null, from_version: '2.0.0', to_version: '2.1.0', update_known_at: null, lag_seconds: null },
          { module: known, module_id: moduleId, from_version: '8.x-1.13', to_version: '8.x-1.14', update_known_at: null, lag_seconds: null },
        ],
        created_at: expect.any(String),
      });
      expect(new Date(run.created_at).getTime()).toBeGreaterThanOrEqual(before - 5_000);

      const listed = await listRuns(siteId).expect(200);
      expect(items<PatchRunBody>(listed)).toEqual([run]);

      const audit = await findAuditRows(t, adminToken, { action: 'patch_run.create' }, (row) => row.resource_id === run.id);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        resource_type: 'patch_run',
        outcome: 'success',
        status_code: 201,
        actor: { type: 'user', id: operator.id },
        changes: { site_id: siteId, status: 'partial', modules_updated: 2 },
      });
    });

    it('takes the lag start from when an update was first known for the version the run updated from', async () => {
      const siteId = await newSite();
      const otherSiteId = await newSite();
      const flagged = machine('views_ext');
      const quiet = machine('pathauto');
      const beforeReport = Date.now();
      await reportModules(siteId, [
        { name: flagged, version: '8.x-1.2', update_available: true, latest_version: '8.x-1.3' },
        { name: quiet, version: '1.2.0', update_available: false, latest_version: '1.2.0' },
      ]);
      await reportModules(otherSiteId, [{ name: flagged, version: '8.x-1.2', update_available: false }]);
      const afterReport = Date.now();

      // A run that ends a minute from now (inside the clock tolerance) applies the update that was known.
      const finishedAt = afterReport + MINUTE;
      const response = await postRun(
        siteId,
        runBody({
          started_at: iso(afterReport),
          finished_at: iso(finishedAt),
          updates: [
            { module: flagged, from_version: '8.x-1.2', to_version: '8.x-1.3' },
            { module: quiet, from_version: '1.2.0', to_version: '1.3.0' },
          ],
        }),
      ).expect(201);
      const [lagged, unflagged] = (response.body.data as PatchRunBody).updates;
      const knownAt = Date.parse(lagged?.update_known_at ?? '');
      expect(knownAt).toBeGreaterThanOrEqual(beforeReport - 1_000);
      expect(knownAt).toBeLessThanOrEqual(afterReport + 1_000);
      expect(lagged?.lag_seconds).toBe(Math.round((finishedAt - knownAt) / 1000));
      expect(unflagged).toMatchObject({ update_known_at: null, lag_seconds: null });

      // Same module on another site, where no update was ever known: no lag.
      const other = await postRun(
        otherSiteId,
        runBody({ started_at: iso(afterReport), finished_at: iso(finishedAt), updates: [{ module: flagged, from_version: '8.x-1.2', to_version: '8.x-1.3' }] }),
      ).expect(201);
      expect((other.body.data as PatchRunBody).updates[0]).toMatchObject({ update_known_at: null, lag_seconds: null });

      // From a version the site never reported, or a run that ended before the update was known: no lag either.
      const otherVersion = await postRun(
        siteId,
        runBody({ started_at: iso(afterReport), finished_at: iso(finishedAt), updates: [{ module: flagged, from_version: '8.x-1.1', to_version: '8.x-1.3' }] }),
      ).expect(201);
      expect((otherVersion.body.data as PatchRunBody).updates[0]).toMatchObject({ update_known_at: null, lag_seconds: null });
      const earlier = await postRun(
        siteId,
        runBody({
          started_at: iso(beforeReport - 60 * MINUTE),
          finished_at: iso(beforeReport - 30 * MINUTE),
          updates: [{ module: flagged, from_version: '8.x-1.2', to_version: '8.x-1.3' }],
        }),
      ).expect(201);
      expect((earlier.body.data as PatchRunBody).updates[0]).toMatchObject({ update_known_at: null, lag_seconds: null });
    });

    it('accepts an empty run and one of 5,000 updates, stored in the order given', async () => {
      const siteId = await newSite();
      const empty = await postRun(siteId, runBody({ status: 'failed' })).expect(201);
      expect(empty.body.data).toMatchObject({ status: 'failed', modules_updated: 0, updates: [], notes: null });

      const prefix = machine('bulk');
      const updates = Array.from({ length: 5000 }, (_, index) => ({
        module: `${prefix}_${index}`,
        from_version: `1.0.${index}`,
        to_version: `1.1.${index}`,
      }));
      const big = await postRun(siteId, runBody({ updates })).expect(201);
      const run = big.body.data as PatchRunBody;
      expect(run.modules_updated).toBe(5000);
      expect(run.updates.map((update) => update.module)).toEqual(updates.map((update) => update.module));
      expect(run.updates[4999]).toEqual({ ...updates[4999], module_id: null, update_known_at: null, lag_seconds: null });
    });

    it('refuses a run that finishes before it started: 400 naming finished_at', async () => {
      const siteId = await newSite();
      const response = await postRun(
        siteId,
        runBody({ started_at: '2026-01-05T10:00:00Z', finished_at: '2026-01-05T09:59:59Z' }),
      );
      expect(expectError(response, 400, 'PATCH_RUN.FINISHED_BEFORE_START')).toEqual(['finished_at']);
      // The same instant written in two zones is not "before".
      await postRun(siteId, runBody({ started_at: '2026-01-05T11:00:00+01:00', finished_at: '2026-01-05T10:00:00Z' })).expect(201);
      expect((await listRuns(siteId).expect(200)).body.meta.total).toBe(1);
    });

    it('tells instants apart to the microsecond, as PostgreSQL stores them: 400, not the database check failing', async () => {
      const siteId = await newSite();
      const early = await postRun(
        siteId,
        runBody({ started_at: '2026-01-05T10:00:00.000900Z', finished_at: '2026-01-05T10:00:00.0001Z' }),
      );
      expect(expectError(early, 400, 'PATCH_RUN.FINISHED_BEFORE_START')).toEqual(['finished_at']);
      const reversed = await listRuns(siteId, { from: '2026-01-05T10:00:00.000900Z', to: '2026-01-05T10:00:00.000100Z' });
      expect(expectError(reversed, 400, 'PATCH_RUN.PERIOD_REVERSED')).toEqual(['to']);
      expect((await listRuns(siteId).expect(200)).body.meta.total).toBe(0);

      // Later by 800 microseconds, and in another zone: stored.
      await postRun(
        siteId,
        runBody({ started_at: '2026-01-05T10:00:00.000100Z', finished_at: '2026-01-05T11:00:00.0009+01:00' }),
      ).expect(201);
      expect((await listRuns(siteId).expect(200)).body.meta.total).toBe(1);
    });

    it('refuses a run finishing more than 5 minutes in the future, allows clock drift below that', async () => {
      const siteId = await newSite();
      const now = Date.now();
      const late = await postRun(siteId, runBody({ started_at: iso(now), finished_at: iso(now + 6 * MINUTE) }));
      expect(expectError(late, 400, 'PATCH_RUN.FINISHED_IN_FUTURE')).toEqual(['finished_at']);
      await postRun(siteId, runBody({ started_at: iso(now), finished_at: iso(now + 4 * MINUTE) })).expect(201);
    });

    it('refuses a module listed twice: 400 naming the repeated entry by index', async () => {
      const siteId = await newSite();
      const name = machine('dup');
      const response = await postRun(
        siteId,
        runBody({
          updates: [
            { module: name, from_version: '1.0.0', to_version: '1.0.1' },
            { module: machine('other'), from_version: '1.0.0', to_version: '1.0.1' },
            { module: name, from_version: '1.0.1', to_version: '1.0.2' },
          ],
        }),
      );
      expect(expectError(response, 400, 'PATCH_RUN.DUPLICATE_MODULE')).toEqual(['updates.2.module']);
      expect(response.body.details[0].messages[0]).toContain('updates.0');
      expect((await listRuns(siteId).expect(200)).body.meta.total).toBe(0);
    });

    it('refuses invalid bodies with 400 and field-level details, storing nothing', async () => {
      const siteId = await newSite();
      const good = { module: 'token', from_version: '8.x-1.13', to_version: '8.x-1.14' };
      const cases: Array<{ body: Record<string, unknown>; field: string }> = [
        { body: runBody({ started_at: undefined }), field: 'started_at' },
        { body: runBody({ finished_at: undefined }), field: 'finished_at' },
        { body: runBody({ finished_at: '2026-01-05T10:00:00' }), field: 'finished_at' },
        { body: runBody({ finished_at: '2026-01-05' }), field: 'finished_at' },
        { body: runBody({ started_at: 'yesterday' }), field: 'started_at' },
        { body: runBody({ started_at: '2026-02-30T10:00:00Z' }), field: 'started_at' },
        { body: runBody({ started_at: 1767600000 }), field: 'started_at' },
        { body: runBody({ status: 'done' }), field: 'status' },
        { body: runBody({ status: undefined }), field: 'status' },
        { body: runBody({ updates: undefined }), field: 'updates' },
        { body: runBody({ updates: 'token' }), field: 'updates' },
        { body: runBody({ notes: 'x'.repeat(4001) }), field: 'notes' },
        { body: runBody({ notes: 12 }), field: 'notes' },
        { body: runBody({ site_id: siteId }), field: 'site_id' },
        { body: runBody({ updates: [good, { ...good, module: 'Views' }] }), field: 'updates.1.module' },
        { body: runBody({ updates: [{ ...good, module: '1views' }] }), field: 'updates.0.module' },
        { body: runBody({ updates: [{ ...good, module: 'views-ui' }] }), field: 'updates.0.module' },
        { body: runBody({ updates: [good, good, { ...good, from_version: 'latest' }] }), field: 'updates.2.from_version' },
        { body: runBody({ updates: [{ ...good, to_version: '8.x-1.14; DROP' }] }), field: 'updates.0.to_version' },
        { body: runBody({ updates: [{ ...good, to_version: undefined }] }), field: 'updates.0.to_version' },
        { body: runBody({ updates: [{ ...good, extra: 1 }] }), field: 'updates.0.extra' },
        {
          body: runBody({ updates: Array.from({ length: 5001 }, (_, i) => ({ ...good, module: `m${i}` })) }),
          field: 'updates',
        },
      ];
      for (const { body, field } of cases) {
        const response = await postRun(siteId, body);
        expect({ field, fields: expectError(response, 400, 'VALIDATION_FAILED') }).toEqual({
          field,
          fields: expect.arrayContaining([field]),
        });
      }
      expect((await listRuns(siteId).expect(200)).body.meta.total).toBe(0);
    });

    it('refuses a malformed site id with 400 and an unknown or deleted site with 404', async () => {
      expect(expectError(await postRun('not-a-uuid', runBody()), 400, 'VALIDATION_FAILED')).toEqual(['site_id']);
      expectError(await postRun(randomUUID(), runBody()), 404, 'SITE.NOT_FOUND');
      const siteId = await newSite();
      await t.http.delete(`/api/v1/sites/${siteId}`).set(bearer(adminToken)).expect(200);
      expectError(await postRun(siteId, runBody()), 404, 'SITE.NOT_FOUND');
      expectError(await listRuns(siteId), 404, 'SITE.NOT_FOUND');
    });

    it('lets operators, admins and org-wide operator keys record; refuses viewers (403) and other organizations (404)', async () => {
      const siteId = await newSite();
      await postRun(siteId, runBody(), adminToken).expect(201);
      const key = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id });
      await t.http.post(`/api/v1/sites/${siteId}/patch-run`).set('X-API-Key', key.key).send(runBody()).expect(201);

      expectError(await postRun(siteId, runBody(), viewer.token), 403, 'FORBIDDEN');
      const viewerKey = await fixtures.newApiKey({ role: 'viewer', organizationId: organization.id });
      expectError(await t.http.post(`/api/v1/sites/${siteId}/patch-run`).set('X-API-Key', viewerKey.key).send(runBody()), 403);
      expectError(await t.http.post(`/api/v1/sites/${siteId}/patch-run`).send(runBody()), 401);

      const stranger = await fixtures.newUser('operator', (await fixtures.newOrganization()).id);
      expectError(await postRun(siteId, runBody(), stranger.token), 404, 'SITE.NOT_FOUND');
      expectError(await listRuns(siteId, {}, stranger.token), 404, 'SITE.NOT_FOUND');
      expect((await listRuns(siteId).expect(200)).body.meta.total).toBe(2);
    });

    it('lets a key limited to one site record runs for that site only, and not read them', async () => {
      const siteId = await newSite();
      const neighbourId = await newSite();
      const key = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId });
      const post = (id: string) => t.http.post(`/api/v1/sites/${id}/patch-run`).set('X-API-Key', key.key).send(runBody());
      const created = await post(siteId).expect(201);
      expectError(await post(neighbourId), 404, 'SITE.NOT_FOUND');
      expectError(await t.http.get(`/api/v1/sites/${siteId}/patch-run`).set('X-API-Key', key.key), 403, 'FORBIDDEN');

      const audit = await findAuditRows(t, adminToken, { action: 'patch_run.create' }, (row) => row.resource_id === created.body.data.id);
      expect(audit[0]?.actor).toMatchObject({ type: 'api_key', id: key.id });
      const refused = await findAuditRows(
        t,
        adminToken,
        { action: 'patch_run.create', status: '404' },
        (row) => row.resource_id === neighbourId,
      );
      expect(refused.length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('GET /api/v1/sites/{site_id}/patch-run', () => {
    let siteId: string;
    const runs: Record<string, string> = {};

    beforeAll(async () => {
      siteId = await newSite();
      const plan: Array<[string, string, string]> = [
        ['jan', '2025-01-10T08:00:00Z', 'succeeded'],
        ['feb', '2025-02-14T23:30:00Z', 'failed'],
        ['feb_end', '2025-02-28T23:59:59.999Z', 'partial'],
        ['mar', '2025-03-01T00:00:00Z', 'succeeded'],
        ['apr', '2025-04-20T12:00:00Z', 'succeeded'],
      ];
      for (const [label, finished, status] of plan) {
        const response = await postRun(
          siteId,
          runBody({ started_at: iso(Date.parse(finished) - 10 * MINUTE), finished_at: finished, status }),
        ).expect(201);
        runs[label] = response.body.data.id as string;
      }
      // Another site's runs never show.
      await postRun(await newSite(), runBody({ finished_at: '2025-02-15T00:00:00Z', started_at: '2025-02-14T00:00:00Z' })).expect(201);
    });

    const ids = (response: { body: unknown }) => items(response).map((run) => run.id);

    it('lists newest first, paginated with meta and links, to viewers too', async () => {
      const first = await listRuns(siteId, { per_page: 2 }, viewer.token).expect(200);
      expect(first.body.meta).toMatchObject({ page: 1, per_page: 2, total: 5, total_pages: 3 });
      expect(ids(first)).toEqual([runs.apr, runs.mar]);
      expect(first.body.links.next).toBe(`/api/v1/sites/${siteId}/patch-run?per_page=2&page=2`);
      const second = await t.http.get(first.body.links.next as string).set(bearer(viewer.token)).expect(200);
      expect(ids(second)).toEqual([runs.feb_end, runs.feb]);
      const past = await listRuns(siteId, { page: 9 }).expect(200);
      expect(past.body.data).toEqual([]);
      expect(past.body.meta.total).toBe(5);
    });

    it('filters by period (a date covers its whole UTC day; instants are exact) and by status', async () => {
      expect(ids(await listRuns(siteId, { from: '2025-02-01', to: '2025-02-28' }).expect(200))).toEqual([runs.feb_end, runs.feb]);
      expect(ids(await listRuns(siteId, { from: '2025-02-28T23:59:59.999Z' }).expect(200))).toEqual([
        runs.apr,
        runs.mar,
        runs.feb_end,
      ]);
      expect(ids(await listRuns(siteId, { to: '2025-02-14T23:30:00+00:00' }).expect(200))).toEqual([runs.feb, runs.jan]);
      expect(ids(await listRuns(siteId, { to: '2025-02-15T00:29:59+01:00' }).expect(200))).toEqual([runs.jan]);
      expect(ids(await listRuns(siteId, { status: 'succeeded' }).expect(200))).toEqual([runs.apr, runs.mar, runs.jan]);
      expect(ids(await listRuns(siteId, { status: 'succeeded', from: '2025-03-01', to: '2025-03-31' }).expect(200))).toEqual([
        runs.mar,
      ]);
      expect((await listRuns(siteId, { from: '2026-01-01' }).expect(200)).body.meta.total).toBe(0);
    });

    it('refuses bad filters with 400 in the error envelope', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{ from: 'last-week' }, 'from'],
        [{ from: '2025-13-01' }, 'from'],
        [{ to: '2025-02-30' }, 'to'],
        [{ to: '2025-02-01T10:00:00' }, 'to'],
        [{ status: 'done' }, 'status'],
        [{ per_page: '101' }, 'per_page'],
        [{ page: '0' }, 'page'],
        [{ site: 'x' }, 'site'],
      ];
      for (const [query, field] of cases) {
        expect(expectError(await listRuns(siteId, query), 400, 'VALIDATION_FAILED')).toContain(field);
      }
      expect(expectError(await listRuns(siteId, { from: '2025-03-01', to: '2025-02-01' }), 400, 'PATCH_RUN.PERIOD_REVERSED')).toEqual([
        'to',
      ]);
      expect(expectError(await listRuns('nope'), 400)).toEqual(['site_id']);
    });
  });

  it('resolves the lag start from a backdated version history (what the reports aggregate)', async () => {
    const siteId = await newSite();
    const name = machine('ctools');
    await reportModules(siteId, [{ name, version: '8.x-3.1', update_available: true }]);
    await t.opsdeck.app
      .get(DataSource)
      .query(
        `UPDATE module_versions SET update_known_at = '2025-01-01T00:00:00Z'
          WHERE site_id = $1 AND module_id = (SELECT id FROM modules WHERE name = $2)`,
        [siteId, name],
      );
    const response = await postRun(
      siteId,
      runBody({
        started_at: '2025-01-03T11:00:00Z',
        finished_at: '2025-01-03T12:00:00Z',
        updates: [{ module: name, from_version: '8.x-3.1', to_version: '8.x-3.2' }],
      }),
    ).expect(201);
    expect((response.body.data as PatchRunBody).updates[0]).toMatchObject({
      update_known_at: '2025-01-01T00:00:00.000Z',
      lag_seconds: 2 * 86_400 + 12 * 3_600,
    });
  });
});
