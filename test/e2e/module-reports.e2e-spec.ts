import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { expectError, findAuditRows } from '../support/identity-assertions.js';
import {
  byName,
  machineName,
  report,
  reportedState,
  SiteClient,
  stateOfReport,
  type Credentials,
  type ModuleReport,
  type ReportedModule,
  type SiteModule,
} from '../support/sites.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface ReportResult {
  site_id: string;
  received_at: string;
  modules: number;
  added: number;
  version_changed: number;
  removed: number;
  statuses: Record<string, number>;
}

const NO_STATUSES = { current: 0, update_available: 0, security_update: 0, unsupported: 0, revoked: 0, unknown: 0 };

/** The versions drupal-version.ts documents as Drupal's own spellings; all must be accepted. */
const ACCEPTED_VERSIONS = [
  '8.x-1.2',
  '8.x-1.2-beta1',
  '7.x-3.x-dev',
  '8.x-1.0+15-dev',
  '1.2.3',
  '10.2.0-rc1',
  '2.1.x-dev',
  '1.x-dev',
  '7.98',
  '10.2.3',
  '7.x-dev',
  '7.x-1.0-unstable3',
  '2.0.0-alpha12',
  '8.x-1.0-beta1+5-dev',
];

/** Shuffles a copy (Fisher-Yates), so concurrent reports list the same names in different orders. */
function shuffled<T>(values: readonly T[]): T[] {
  const copy = [...values];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

/** `count` modules named `<prefix>_<n>` at one version. */
const bulk = (prefix: string, count: number, version = '8.x-1.0', from = 0): ReportedModule[] =>
  Array.from({ length: count }, (_, index) => ({ name: `${prefix}_${from + index}`, version }));

const withoutLastSeen = (modules: readonly SiteModule[]) => modules.map(({ last_seen_at: _ignored, ...rest }) => rest);

/**
 * Module reports (issue 4, deliverables 2 and 3): ingestion, the site's current modules, version history,
 * site-reported statuses, validation and limits, who may report, and concurrent reports. Every module name is
 * unique to its test, so a shared database (and release histories other files import) cannot interfere.
 */
describe('module reports', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let client: SiteClient;
  let adminToken: string;
  let admin: Credentials;
  let organization: TestOrganization;
  let operator: TestUser;
  let viewer: TestUser;
  let operatorAuth: Credentials;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    client = new SiteClient(t);
    adminToken = await fixtures.admin();
    admin = { token: adminToken };
    organization = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', organization.id);
    viewer = await fixtures.newUser('viewer', organization.id);
    operatorAuth = { token: operator.token };
  });

  afterAll(async () => {
    await t.close();
  });

  const newSite = async (organizationId = organization.id): Promise<string> => (await fixtures.newSite(organizationId)).id;

  async function ingest(siteId: string, body: ModuleReport, credentials: Credentials = operatorAuth): Promise<ReportResult> {
    const response = await client.postReport(siteId, body, credentials);
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
    return response.body.data as ReportResult;
  }

  /** Everything a refused report could have changed, as an admin sees it. */
  async function siteState(siteId: string) {
    const site = (await client.getSite(siteId, admin).expect(200)).body.data as Record<string, unknown>;
    const modules = await client.allModules(siteId, admin);
    const versions = await Promise.all(modules.map((module) => client.allVersions(module.module_id, admin)));
    return { site, modules, versions };
  }

  describe('POST /api/v1/sites/{site_id}/modules', () => {
    it('ingests a report: the result counts, the site\'s current modules, the site\'s Drupal and PHP versions', async () => {
      const siteId = await newSite();
      const [views, pathauto, olivero, core] = [machineName('views'), machineName('pathauto'), machineName('olivero'), machineName('core')];
      const before = Date.now();
      const response = await client
        .postReport(
          siteId,
          report(
            [
              { name: views, version: '8.x-1.2' },
              { name: pathauto, project: views, version: '8.x-1.2', status: 'disabled' },
              { name: olivero, version: '10.2.3', type: 'theme' },
              { name: core, version: '10.2.3', type: 'core' },
            ],
            { drupal_version: '10.2.3', php_version: '8.3.4' },
          ),
          operatorAuth,
        )
        .set('X-Request-Id', 'module-report-envelope')
        .expect(200);
      const after = Date.now();
      expect(Object.keys(response.body).sort()).toEqual(['data', 'links', 'meta']);
      expect(response.body.meta).toEqual({ request_id: 'module-report-envelope' });
      const result = response.body.data as ReportResult;
      expect(result).toEqual({
        site_id: siteId,
        received_at: expect.any(String),
        modules: 4,
        added: 4,
        version_changed: 0,
        removed: 0,
        statuses: { ...NO_STATUSES, unknown: 4 },
      });
      expect(new Date(result.received_at).toISOString()).toBe(result.received_at);
      expect(new Date(result.received_at).getTime()).toBeGreaterThanOrEqual(before - 5_000);
      expect(new Date(result.received_at).getTime()).toBeLessThanOrEqual(after + 5_000);

      const site = (await client.getSite(siteId, operatorAuth).expect(200)).body.data as Record<string, unknown>;
      expect(site).toMatchObject({ drupal_version: '10.2.3', php_version: '8.3.4', last_report_at: expect.any(String) });

      const listed = await client.listModules(siteId, operatorAuth).expect(200);
      expect(listed.body.meta).toMatchObject({ page: 1, per_page: 20, total: 4, total_pages: 1 });
      const modules = byName(listed.body.data as SiteModule[]);
      const common = {
        module_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        recommended_version: null,
        update_status: 'unknown',
        status_source: 'none',
        status_reason: expect.anything(),
        update_available_since: null,
        first_seen_at: result.received_at,
        last_seen_at: result.received_at,
      };
      expect(modules.get(views)).toEqual({ ...common, name: views, project: views, type: 'module', status: 'enabled', installed_version: '8.x-1.2' });
      expect(modules.get(pathauto)).toEqual({ ...common, name: pathauto, project: views, type: 'module', status: 'disabled', installed_version: '8.x-1.2' });
      expect(modules.get(olivero)).toEqual({ ...common, name: olivero, project: olivero, type: 'theme', status: 'enabled', installed_version: '10.2.3' });
      expect(modules.get(core)).toEqual({ ...common, name: core, project: core, type: 'core', status: 'enabled', installed_version: '10.2.3' });

      // A later report without php_version clears it.
      await ingest(siteId, { drupal_version: '10.3.0', modules: [{ name: views, version: '8.x-1.2' }] });
      expect((await client.getSite(siteId, admin).expect(200)).body.data).toMatchObject({ drupal_version: '10.3.0', php_version: null });
      // The site's last report is the one just received, at the moment the report says it was received.
      expect(site.last_report_at).toBe(result.received_at);
    });

    it('changes nothing but the timestamps when the same report arrives twice', async () => {
      const siteId = await newSite();
      const names = [machineName('a'), machineName('b'), machineName('c')];
      const body = report([
        { name: names[0], version: '8.x-1.2', security_update: true, latest_version: '8.x-1.5' },
        { name: names[1], version: '2.0.0', update_available: false },
        { name: names[2], version: '1.x-dev', type: 'theme', status: 'disabled' },
      ]);
      const first = await ingest(siteId, body);
      const before = await client.allModules(siteId, admin);
      const versionsBefore = await Promise.all(before.map((module) => client.allVersions(module.module_id, admin)));

      const second = await ingest(siteId, body);
      expect(second).toEqual({ ...first, received_at: expect.any(String), added: 0, version_changed: 0, removed: 0 });
      expect(new Date(second.received_at).getTime()).toBeGreaterThan(new Date(first.received_at).getTime());

      const after = await client.allModules(siteId, admin);
      expect(withoutLastSeen(after)).toEqual(withoutLastSeen(before));
      for (const module of after) {
        expect(module.last_seen_at).toBe(second.received_at);
        expect(module.first_seen_at).toBe(first.received_at);
      }
      // The flagged module keeps the moment its update became known.
      const flagged = byName(after).get(names[0]);
      expect(flagged?.update_available_since).not.toBeNull();
      expect(flagged?.update_available_since).toBe(byName(before).get(names[0])?.update_available_since);

      const versionsAfter = await Promise.all(after.map((module) => client.allVersions(module.module_id, admin)));
      versionsAfter.forEach((versions, index) => {
        const earlier = versionsBefore[index];
        expect(versions).toHaveLength(1);
        expect(versions[0]).toMatchObject({
          version: earlier?.[0]?.version,
          first_seen_at: first.received_at,
          last_seen_at: second.received_at,
          site_count: 1,
          sites: [{ site_id: siteId, first_seen_at: first.received_at, last_seen_at: second.received_at, current: true }],
        });
      });
      expect((await client.getSite(siteId, admin).expect(200)).body.data.last_report_at).toBe(second.received_at);
    });

    it('records a version change and keeps the version history with first and last seen', async () => {
      const siteId = await newSite();
      const [token, stable] = [machineName('token'), machineName('stable')];
      const first = await ingest(siteId, report([{ name: token, version: '8.x-1.2' }, { name: stable, version: '1.0.0' }]));
      const second = await ingest(siteId, report([{ name: token, version: '8.x-1.3' }, { name: stable, version: '1.0.0' }]));
      expect(second).toMatchObject({ modules: 2, added: 0, version_changed: 1, removed: 0 });
      const third = await ingest(siteId, report([{ name: token, version: '8.x-1.3' }, { name: stable, version: '1.0.0' }]));
      expect(third).toMatchObject({ added: 0, version_changed: 0, removed: 0 });

      const current = byName(await client.allModules(siteId, admin)).get(token) as SiteModule;
      expect(current).toMatchObject({ installed_version: '8.x-1.3', first_seen_at: first.received_at, last_seen_at: third.received_at });

      const versions = await client.allVersions(current.module_id, admin);
      expect(versions).toEqual([
        {
          module_id: current.module_id,
          module_name: token,
          version: '8.x-1.3',
          first_seen_at: second.received_at,
          last_seen_at: third.received_at,
          site_count: 1,
          sites: [expect.objectContaining({ site_id: siteId, first_seen_at: second.received_at, last_seen_at: third.received_at, current: true })],
        },
        {
          module_id: current.module_id,
          module_name: token,
          version: '8.x-1.2',
          first_seen_at: first.received_at,
          last_seen_at: first.received_at,
          site_count: 1,
          sites: [expect.objectContaining({ site_id: siteId, first_seen_at: first.received_at, last_seen_at: first.received_at, current: false })],
        },
      ]);

      // Going back to an old version: it is current again and its last sighting moves.
      const fourth = await ingest(siteId, report([{ name: token, version: '8.x-1.2' }, { name: stable, version: '1.0.0' }]));
      expect(fourth).toMatchObject({ added: 0, version_changed: 1, removed: 0 });
      const back = await client.allVersions(current.module_id, admin);
      expect(back.map((version) => [version.version, version.first_seen_at, version.last_seen_at, version.sites[0]?.current])).toEqual([
        ['8.x-1.2', first.received_at, fourth.received_at, true],
        ['8.x-1.3', second.received_at, third.received_at, false],
      ]);
    });

    it('marks modules missing from a report removed, and added again when they come back', async () => {
      const siteId = await newSite();
      const [kept, dropped] = [machineName('kept'), machineName('dropped')];
      await ingest(siteId, report([{ name: kept, version: '1.0.0' }, { name: dropped, version: '2.0.0' }]));
      const droppedId = byName(await client.allModules(siteId, admin)).get(dropped)?.module_id as string;

      const without = await ingest(siteId, report([{ name: kept, version: '1.0.0' }]));
      expect(without).toMatchObject({ modules: 1, added: 0, version_changed: 0, removed: 1, statuses: { ...NO_STATUSES, unknown: 1 } });
      const listed = await client.listModules(siteId, admin).expect(200);
      expect(listed.body.meta.total).toBe(1);
      expect((listed.body.data as SiteModule[]).map((module) => module.name)).toEqual([kept]);
      // History remains: the version was seen, and is no longer current.
      const history = await client.allVersions(droppedId, admin);
      expect(history).toHaveLength(1);
      expect(history[0]?.sites).toEqual([expect.objectContaining({ site_id: siteId, current: false })]);

      const again = await ingest(siteId, report([{ name: kept, version: '1.0.0' }, { name: dropped, version: '2.0.0' }]));
      expect(again).toMatchObject({ modules: 2, added: 1, version_changed: 0, removed: 0 });
      const returned = byName(await client.allModules(siteId, admin)).get(dropped);
      expect(returned).toMatchObject({ installed_version: '2.0.0', last_seen_at: again.received_at });
      expect((await client.allVersions(droppedId, admin))[0]?.sites).toEqual([
        expect.objectContaining({ site_id: siteId, current: true, last_seen_at: again.received_at }),
      ]);

      // Back at another version than it left with: added, not a version change.
      await ingest(siteId, report([{ name: kept, version: '1.0.0' }]));
      const changed = await ingest(siteId, report([{ name: kept, version: '1.0.0' }, { name: dropped, version: '2.1.0' }]));
      expect(changed).toMatchObject({ added: 1, version_changed: 0, removed: 0 });
    });

    it('takes an empty module list as "nothing installed": everything is removed', async () => {
      const siteId = await newSite();
      await ingest(siteId, report(bulk(machineName('gone'), 5)));
      const result = await ingest(siteId, report([]));
      expect(result).toMatchObject({ modules: 0, added: 0, version_changed: 0, removed: 5, statuses: NO_STATUSES });
      const listed = await client.listModules(siteId, admin).expect(200);
      expect(listed.body.data).toEqual([]);
      expect(listed.body.meta).toMatchObject({ total: 0 });
      expect((await ingest(siteId, report([]))).removed).toBe(0);
    });

    it('accepts every version spelling Drupal writes, as module, latest and core versions', async () => {
      const siteId = await newSite();
      const prefix = machineName('ver');
      const modules = ACCEPTED_VERSIONS.map((version, index) => ({ name: `${prefix}_${index}`, version, latest_version: version }));
      const result = await ingest(siteId, report(modules, { drupal_version: '7.98' }));
      expect(result).toMatchObject({ modules: ACCEPTED_VERSIONS.length, added: ACCEPTED_VERSIONS.length });
      const stored = byName(await client.allModules(siteId, admin));
      ACCEPTED_VERSIONS.forEach((version, index) => {
        expect({ version, stored: stored.get(`${prefix}_${index}`)?.installed_version }).toEqual({ version, stored: version });
      });
      for (const drupalVersion of ACCEPTED_VERSIONS) {
        await ingest(siteId, report([], { drupal_version: drupalVersion }));
        expect((await client.getSite(siteId, admin).expect(200)).body.data.drupal_version).toBe(drupalVersion);
      }
    });

    it('accepts machine names of 1 to 128 characters', async () => {
      const siteId = await newSite();
      const long = machineName('l').padEnd(128, '9');
      const short = String.fromCharCode(97 + Math.floor(Math.random() * 26));
      await ingest(siteId, report([{ name: long, version: '1.0.0' }, { name: short, version: '1.0.0' }]));
      const names = (await client.allModules(siteId, admin)).map((module) => module.name);
      expect(names.sort()).toEqual([long, short].sort());
    });
  });

  describe('bad reports', () => {
    let siteId: string;
    let known: string;

    beforeAll(async () => {
      siteId = await newSite();
      known = machineName('known');
      await ingest(siteId, report([{ name: known, version: '8.x-1.0', security_update: true, latest_version: '8.x-1.1' }]));
    });

    /** Posts a refused report and checks the site, its modules and their versions are exactly as before. */
    async function refused(body: unknown, status: number, error?: string, credentials: Credentials = operatorAuth): Promise<string[]> {
      const before = await siteState(siteId);
      const response = await client.postReport(siteId, body, credentials);
      const fields = expectError(response, status, error);
      expect(await siteState(siteId)).toEqual(before);
      return fields;
    }

    it('refuses invalid machine names with 400 naming modules.<index>.name', async () => {
      const invalid: unknown[] = ['Views', '1views', 'views-ui', 'views ui', '_views', '', 'vïews', 'a'.repeat(129), 'views.ui', 42, null];
      const modules = [{ name: machineName('ok'), version: '1.0.0' }, ...invalid.map((name) => ({ name, version: '1.0.0' }))];
      const fields = await refused(report(modules as unknown as ReportedModule[]), 400, 'VALIDATION_FAILED');
      expect(fields.sort()).toEqual(invalid.map((_, index) => `modules.${index + 1}.name`).sort());
      // project follows the same rule.
      const byProject = await refused(report([{ name: machineName('ok'), project: 'Not-A-Project', version: '1.0.0' }]), 400, 'VALIDATION_FAILED');
      expect(byProject).toEqual(['modules.0.project']);
    });

    it('refuses invalid version strings with 400 naming modules.<index>.version', async () => {
      const invalid: unknown[] = ['', 'latest', 'v1.2.3', '1.2.3.4', '1.2.3-RC1', '1.2.3 ', ' 1.2.3', '8.x-', 'x.y.z', `1.${'1'.repeat(70)}`, 1.2, null];
      const modules = invalid.map((version) => ({ name: machineName('bad'), version }));
      const fields = await refused(report(modules as unknown as ReportedModule[]), 400, 'VALIDATION_FAILED');
      expect(fields.sort()).toEqual(invalid.map((_, index) => `modules.${index}.version`).sort());
    });

    it('refuses strings that match the version alphabet but are no Drupal version (as parseDrupalVersion refuses them)', async () => {
      // drupal-version.spec.ts lists these as not versions Drupal writes: they must not get into the history either.
      const invalid = ['10', '8.x-1', '8.x-1.2.3', '1.x', '1.x.3-dev', '8.x-1.x', '1.2.3-dev', '1.2.3+4', '1.x-beta1-dev', '1.x+3-dev'];
      const modules = invalid.map((version) => ({ name: machineName('almost'), version }));
      const fields = await refused(report(modules), 400, 'VALIDATION_FAILED');
      expect(fields.sort()).toEqual(invalid.map((_, index) => `modules.${index}.version`).sort());
    });

    it('names every offending field of every entry, and the top-level fields', async () => {
      const modules: unknown[] = [
        { name: machineName('ok'), version: '1.0.0' },
        { name: machineName('ok'), version: '1.0.0', type: 'plugin' },
        { name: machineName('ok'), version: '1.0.0', status: 'on' },
        { name: machineName('ok'), version: '1.0.0', update_available: 'yes' },
        { name: machineName('ok'), version: '1.0.0', security_update: 1 },
        { name: machineName('ok'), version: '1.0.0', latest_version: 'newest' },
        { version: '1.0.0' },
        { name: machineName('ok') },
        { name: machineName('ok'), version: '1.0.0', colour: 'red' },
        { name: 'Bad', version: 'bad' },
      ];
      const fields = await refused({ drupal_version: 'ten', php_version: 'eight', modules }, 400, 'VALIDATION_FAILED');
      expect(fields.sort()).toEqual(
        [
          'drupal_version',
          'php_version',
          'modules.1.type',
          'modules.2.status',
          'modules.3.update_available',
          'modules.4.security_update',
          'modules.5.latest_version',
          'modules.6.name',
          'modules.7.version',
          'modules.8.colour',
          'modules.9.name',
          'modules.9.version',
        ].sort(),
      );
      expect(await refused({ modules: [] }, 400, 'VALIDATION_FAILED')).toEqual(['drupal_version']);
      expect(await refused({ ...report([]), site_id: randomUUID() }, 400, 'VALIDATION_FAILED')).toEqual(['site_id']);
    });

    it('refuses a modules value that is not an array of objects with 400 naming modules', async () => {
      const module = { name: machineName('x'), version: '1.0.0' };
      for (const modules of ['token', 5, null, { 0: module }, { name: module.name, version: '1.0.0' }, true]) {
        const fields = await refused({ drupal_version: '10.2.3', modules }, 400, 'VALIDATION_FAILED');
        expect({ modules, fields }).toEqual({ modules, fields: expect.arrayContaining(['modules']) });
      }
      expect(await refused({ drupal_version: '10.2.3' }, 400, 'VALIDATION_FAILED')).toContain('modules');
      for (const modules of [[module, 'token'], [null], [[module]], [7]]) {
        const fields = await refused({ drupal_version: '10.2.3', modules }, 400, 'VALIDATION_FAILED');
        expect({ modules, fields: fields.every((field) => field.startsWith('modules')) && fields.length > 0 }).toEqual({ modules, fields: true });
      }
      for (const raw of ['[]', '"modules"', 'null', '{"drupal_version": "10.2.3", "modules": [', 'not json']) {
        const before = await siteState(siteId);
        const response = await t.http.post(`/api/v1/sites/${siteId}/modules`).set(bearer(operator.token)).set('Content-Type', 'application/json').send(raw);
        expectError(response, 400);
        expect(await siteState(siteId)).toEqual(before);
      }
    });

    it('refuses duplicate machine names with 400 naming the later index', async () => {
      const [a, b] = [machineName('dup'), machineName('dup')];
      const fields = await refused(
        report([
          { name: a, version: '1.0.0' },
          { name: b, version: '1.0.0' },
          { name: a, version: '1.0.0' },
          { name: known, version: '8.x-1.0' },
          { name: a, version: '2.0.0' },
        ]),
        400,
        'MODULE_REPORT.DUPLICATE_MODULE',
      );
      expect(fields).toEqual(['modules.2.name', 'modules.4.name']);
    });

    it('refuses 5,001 modules with 413 MODULE_REPORT.TOO_MANY_MODULES', async () => {
      await refused(report(bulk(machineName('many'), 5001)), 413, 'MODULE_REPORT.TOO_MANY_MODULES');
    });

    it('refuses a body over the byte limit with 413, even when it is a valid report', async () => {
      const limit = t.opsdeck.config.server.body_limit_bytes;
      const json = JSON.stringify(report(bulk(machineName('big'), 10)));
      // Trailing whitespace keeps it valid JSON; only its size is wrong.
      const body = json + ' '.repeat(limit + 1 - json.length + 1024);
      const before = await siteState(siteId);
      const response = await t.http.post(`/api/v1/sites/${siteId}/modules`).set(bearer(operator.token)).set('Content-Type', 'application/json').send(body);
      expectError(response, 413, 'PAYLOAD_TOO_LARGE');
      expect(await siteState(siteId)).toEqual(before);
    });

    it('refuses viewers (403), other organizations and unknown or deleted sites (404), anonymous callers (401)', async () => {
      const stranger = await fixtures.newUser('operator', (await fixtures.newOrganization()).id);
      const viewerKey = await fixtures.newApiKey({ role: 'viewer', organizationId: organization.id });
      const body = report([{ name: machineName('nope'), version: '1.0.0' }]);
      await refused(body, 403, 'FORBIDDEN', { token: viewer.token });
      await refused(body, 403, 'FORBIDDEN', { apiKey: viewerKey.key });
      await refused(body, 404, 'SITE.NOT_FOUND', { token: stranger.token });
      const before = await siteState(siteId);
      expectError(await t.http.post(`/api/v1/sites/${siteId}/modules`).send(body), 401);
      expect(await siteState(siteId)).toEqual(before);
      expectError(await client.postReport(randomUUID(), body, operatorAuth), 404, 'SITE.NOT_FOUND');

      const deleted = await newSite();
      await t.http.delete(`/api/v1/sites/${deleted}`).set(bearer(adminToken)).expect(200);
      expectError(await client.postReport(deleted, body, operatorAuth), 404, 'SITE.NOT_FOUND');
      expectError(await client.postReport(deleted, body, admin), 404, 'SITE.NOT_FOUND');
    });
  });

  describe('limits', () => {
    it('accepts 5,000 modules, reasonably fast, and lists them all', async () => {
      const siteId = await newSite();
      const prefix = machineName('big');
      const modules = bulk(prefix, 5000, '8.x-1.0').map((module, index) =>
        index % 10 === 0 ? { ...module, security_update: true, latest_version: '8.x-1.1' } : module,
      );
      const started = Date.now();
      const first = await ingest(siteId, report(modules));
      const firstMs = Date.now() - started;
      expect(first).toMatchObject({ modules: 5000, added: 5000, version_changed: 0, removed: 0, statuses: { ...NO_STATUSES, security_update: 500, unknown: 4500 } });

      const againStarted = Date.now();
      const again = await ingest(siteId, report(modules));
      const againMs = Date.now() - againStarted;
      expect(again).toMatchObject({ modules: 5000, added: 0, version_changed: 0, removed: 0 });

      // Half of them change version, a fifth disappear.
      const changed = modules.slice(0, 4000).map((module, index) => (index % 2 === 0 ? { ...module, version: '8.x-1.1' } : module));
      const thirdStarted = Date.now();
      const third = await ingest(siteId, report(changed));
      const thirdMs = Date.now() - thirdStarted;
      expect(third).toMatchObject({ modules: 4000, added: 0, version_changed: 2000, removed: 1000 });

      const page = await client.listModules(siteId, admin, { per_page: 100, page: 40 }).expect(200);
      expect(page.body.meta).toMatchObject({ total: 4000, total_pages: 40 });
      expect(page.body.data).toHaveLength(100);
      // Set-based ingestion: far below a query per module even on the embedded database.
      expect(firstMs).toBeLessThan(15_000);
      // Set-based: a report against 5,000 current modules costs about what the first one did, not quadratically more.
      const bound = Math.max(2 * firstMs, 5_000);
      expect({ firstMs, againMs, thirdMs, withinBound: againMs <= bound && thirdMs <= bound }).toEqual({
        firstMs,
        againMs,
        thirdMs,
        withinBound: true,
      });
    }, 120_000);
  });

  describe('site-limited API keys', () => {
    it('may report their own site only; every other route is refused', async () => {
      const own = await newSite();
      const other = await newSite();
      const key = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: own });
      const keyAuth: Credentials = { apiKey: key.key };
      const name = machineName('bykey');
      const result = await ingest(own, report([{ name, version: '1.0.0' }]), keyAuth);
      expect(result).toMatchObject({ site_id: own, added: 1 });
      expect((await client.allModules(own, admin)).map((module) => module.name)).toEqual([name]);

      expectError(await client.postReport(other, report([{ name, version: '1.0.0' }]), keyAuth), 404, 'SITE.NOT_FOUND');
      expect(await client.allModules(other, admin)).toEqual([]);
      expectError(await t.http.get('/api/v1/sites').set('X-API-Key', key.key), 403, 'FORBIDDEN');
      expectError(await client.listModules(own, keyAuth), 403, 'FORBIDDEN');
      const moduleId = (await client.allModules(own, admin))[0]?.module_id;
      expectError(await client.listVersions(moduleId, keyAuth), 403, 'FORBIDDEN');

      const [row] = await findAuditRows(t, adminToken, { resource_type: 'site', action: 'module_report.create' }, (entry) => entry.resource_id === own);
      expect(row).toMatchObject({ actor: { type: 'api_key', id: key.id }, outcome: 'success', changes: expect.objectContaining({ added: 1 }) });
    });
  });

  describe('GET /api/v1/sites/{site_id}/modules', () => {
    let siteId: string;
    let names: Record<'sec' | 'secOnly' | 'upd' | 'cur1' | 'cur2' | 'unk', string>;

    beforeAll(async () => {
      siteId = await newSite();
      const tag = randomUUID().replace(/-/g, '').slice(0, 8);
      // Names chosen so that alphabetical order alone would give a different order than urgency.
      names = {
        sec: `z_sec_${tag}`,
        secOnly: `y_sec_${tag}`,
        upd: `a_upd_${tag}`,
        cur1: `b_cur_${tag}`,
        cur2: `c_cur_${tag}`,
        unk: `d_unk_${tag}`,
      };
      await ingest(
        siteId,
        report([
          { name: names.cur1, version: '8.x-1.5', latest_version: '8.x-1.5' },
          { name: names.unk, version: '3.0.0' },
          { name: names.upd, version: '1.0.0', update_available: true, latest_version: '1.1.0' },
          { name: names.sec, version: '8.x-1.2', security_update: true, update_available: true, latest_version: '8.x-1.5' },
          { name: names.secOnly, version: '2.0.0', security_update: true, update_available: false },
          { name: names.cur2, version: '2.0.0', update_available: false },
        ]),
      );
    });

    it('lists security updates first, then updates, unknown, current; by name within each', async () => {
      const listed = await client.listModules(siteId, { token: viewer.token }).expect(200);
      expect((listed.body.data as SiteModule[]).map((module) => module.name)).toEqual([
        names.secOnly,
        names.sec,
        names.upd,
        names.unk,
        names.cur1,
        names.cur2,
      ]);
    });

    it("takes the site's own flags as the status, with site_report as the source and latest_version recommended", async () => {
      const modules = byName(await client.allModules(siteId, operatorAuth));
      expect(modules.get(names.sec)).toMatchObject({
        update_status: 'security_update',
        status_source: 'site_report',
        recommended_version: '8.x-1.5',
        update_available_since: expect.any(String),
      });
      expect(modules.get(names.secOnly)).toMatchObject({ update_status: 'security_update', status_source: 'site_report', recommended_version: null, update_available_since: expect.any(String) });
      expect(modules.get(names.upd)).toMatchObject({ update_status: 'update_available', status_source: 'site_report', recommended_version: '1.1.0', update_available_since: expect.any(String) });
      expect(modules.get(names.cur1)).toMatchObject({ update_status: 'current', status_source: 'site_report', recommended_version: '8.x-1.5', update_available_since: null });
      expect(modules.get(names.cur2)).toMatchObject({ update_status: 'current', status_source: 'site_report', recommended_version: null, update_available_since: null });
      expect(modules.get(names.unk)).toMatchObject({ update_status: 'unknown', status_source: 'none', recommended_version: null, update_available_since: null });
      for (const module of modules.values()) expect(typeof module.status_reason).toBe('string');
    });

    it('filters by ?status= and paginates, keeping the filter in the links', async () => {
      const current = await client.listModules(siteId, admin, { status: 'current' }).expect(200);
      expect((current.body.data as SiteModule[]).map((module) => module.name)).toEqual([names.cur1, names.cur2]);
      expect(current.body.meta).toMatchObject({ total: 2, total_pages: 1 });
      const security = await client.listModules(siteId, admin, { status: 'security_update' }).expect(200);
      expect((security.body.data as SiteModule[]).map((module) => module.name)).toEqual([names.secOnly, names.sec]);
      for (const status of ['revoked', 'unsupported']) {
        const none = await client.listModules(siteId, admin, { status }).expect(200);
        expect(none.body.data).toEqual([]);
        expect(none.body.meta).toMatchObject({ total: 0 });
      }

      const path = (page: number) => `/api/v1/sites/${siteId}/modules?page=${page}&per_page=4`;
      const first = await t.http.get(path(1)).set(bearer(adminToken)).expect(200);
      expect(first.body.meta).toMatchObject({ page: 1, per_page: 4, total: 6, total_pages: 2 });
      expect(first.body.links).toEqual({ self: path(1), first: path(1), prev: null, next: path(2), last: path(2) });
      const second = await t.http.get(first.body.links.next as string).set(bearer(adminToken)).expect(200);
      expect((second.body.data as SiteModule[]).map((module) => module.name)).toEqual([names.cur1, names.cur2]);
      const beyond = await t.http.get(path(5)).set(bearer(adminToken)).expect(200);
      expect(beyond.body.data).toEqual([]);
      expect(beyond.body.meta).toMatchObject({ page: 5, total: 6 });

      const filtered = await t.http.get(`/api/v1/sites/${siteId}/modules?status=current&per_page=1`).set(bearer(adminToken)).expect(200);
      expect(filtered.body.links).toMatchObject({
        self: `/api/v1/sites/${siteId}/modules?status=current&per_page=1&page=1`,
        next: `/api/v1/sites/${siteId}/modules?status=current&per_page=1&page=2`,
      });
    });

    it('refuses a bad status or paging with 400, and other organizations with 404', async () => {
      const badQueries: Array<Record<string, string | number>> = [{ status: 'insecure' }, { status: 'CURRENT' }, { per_page: 101 }, { page: 0 }, { colour: 'red' }];
      for (const query of badQueries) {
        expectError(await client.listModules(siteId, admin, query), 400, 'VALIDATION_FAILED');
      }
      expect(expectError(await client.listModules(siteId, admin, { status: 'bogus' }), 400, 'VALIDATION_FAILED')).toEqual(['status']);
      const stranger = await fixtures.newUser('viewer', (await fixtures.newOrganization()).id);
      expectError(await client.listModules(siteId, { token: stranger.token }), 404, 'SITE.NOT_FOUND');
      expectError(await client.listModules(randomUUID(), admin), 404, 'SITE.NOT_FOUND');
      expectError(await t.http.get(`/api/v1/sites/${siteId}/modules`), 401);
    });

    it('follows the flags of the latest report', async () => {
      const other = await newSite();
      const name = machineName('flip');
      await ingest(other, report([{ name, version: '1.0.0', security_update: true, latest_version: '1.0.1' }]));
      const flagged = byName(await client.allModules(other, admin)).get(name);
      expect(flagged).toMatchObject({ update_status: 'security_update', update_available_since: expect.any(String) });

      const result = await ingest(other, report([{ name, version: '1.0.1', latest_version: '1.0.1' }]));
      expect(result.statuses).toEqual({ ...NO_STATUSES, current: 1 });
      expect(byName(await client.allModules(other, admin)).get(name)).toMatchObject({
        installed_version: '1.0.1',
        update_status: 'current',
        status_source: 'site_report',
        recommended_version: '1.0.1',
        update_available_since: null,
      });
      await ingest(other, report([{ name, version: '1.0.1' }]));
      expect(byName(await client.allModules(other, admin)).get(name)).toMatchObject({ update_status: 'unknown', status_source: 'none', recommended_version: null });
    });
  });

  describe('GET /api/v1/modules/{module_id}/versions', () => {
    it("lists the versions seen on the sites in the caller's reach, with their sites", async () => {
      const name = machineName('shared');
      const ownA = await fixtures.newSite(organization.id, unique('A1'));
      const ownB = await fixtures.newSite(organization.id, unique('A2'));
      const otherOrganization = await fixtures.newOrganization();
      const foreign = await fixtures.newSite(otherOrganization.id, unique('B1'));
      const foreignViewer = await fixtures.newUser('viewer', otherOrganization.id);
      const thirdOrganization = await fixtures.newOrganization();
      const outsider = await fixtures.newUser('operator', thirdOrganization.id);

      const a1 = await ingest(ownA.id, report([{ name, version: '8.x-1.0' }]));
      const a2 = await ingest(ownA.id, report([{ name, version: '8.x-1.1' }]));
      const b1 = await ingest(ownB.id, report([{ name, version: '8.x-1.1' }]));
      const f1 = await ingest(foreign.id, report([{ name, version: '8.x-2.0' }]), admin);
      const moduleId = byName(await client.allModules(ownA.id, admin)).get(name)?.module_id as string;

      const mine = await client.listVersions(moduleId, { token: viewer.token }).expect(200);
      expect(mine.body.meta).toMatchObject({ page: 1, per_page: 20, total: 2, total_pages: 1 });
      const sitesSorted = [ownA, ownB].sort((x, y) => x.name.localeCompare(y.name));
      expect(mine.body.data).toEqual([
        {
          module_id: moduleId,
          module_name: name,
          version: '8.x-1.1',
          first_seen_at: a2.received_at,
          last_seen_at: b1.received_at,
          site_count: 2,
          sites: sitesSorted.map((site) => ({
            site_id: site.id,
            site_name: site.name,
            site_url: site.url,
            first_seen_at: site.id === ownA.id ? a2.received_at : b1.received_at,
            last_seen_at: site.id === ownA.id ? a2.received_at : b1.received_at,
            current: true,
          })),
        },
        {
          module_id: moduleId,
          module_name: name,
          version: '8.x-1.0',
          first_seen_at: a1.received_at,
          last_seen_at: a1.received_at,
          site_count: 1,
          sites: [{ site_id: ownA.id, site_name: ownA.name, site_url: ownA.url, first_seen_at: a1.received_at, last_seen_at: a1.received_at, current: false }],
        },
      ]);

      const theirs = await client.listVersions(moduleId, { token: foreignViewer.token }).expect(200);
      expect(theirs.body.data).toEqual([
        expect.objectContaining({ version: '8.x-2.0', site_count: 1, first_seen_at: f1.received_at, sites: [expect.objectContaining({ site_id: foreign.id })] }),
      ]);
      const all = await client.allVersions(moduleId, admin);
      expect(all.map((version) => version.version)).toEqual(['8.x-2.0', '8.x-1.1', '8.x-1.0']);

      // An organization none of whose sites runs it: the module is "not found" to it.
      expectError(await client.listVersions(moduleId, { token: outsider.token }), 404, 'MODULE.NOT_FOUND');

      // Paging.
      const paged = await client.listVersions(moduleId, admin, { per_page: 2, page: 2 }).expect(200);
      expect(paged.body.meta).toMatchObject({ page: 2, per_page: 2, total: 3, total_pages: 2 });
      expect((paged.body.data as Array<{ version: string }>).map((version) => version.version)).toEqual(['8.x-1.0']);
      const beyond = await client.listVersions(moduleId, admin, { per_page: 2, page: 3 }).expect(200);
      expect(beyond.body.data).toEqual([]);
      expect(beyond.body.meta).toMatchObject({ total: 3 });

      // A deleted site leaves the listing; when it was the only one in reach, the module is gone for that organization.
      await t.http.delete(`/api/v1/sites/${foreign.id}`).set(bearer(adminToken)).expect(200);
      expectError(await client.listVersions(moduleId, { token: foreignViewer.token }), 404, 'MODULE.NOT_FOUND');
      expect((await client.allVersions(moduleId, admin)).map((version) => version.version)).toEqual(['8.x-1.1', '8.x-1.0']);
    });

    it('answers 404 for an unknown module and 400 naming module_id for a malformed one', async () => {
      expectError(await client.listVersions(randomUUID(), admin), 404, 'MODULE.NOT_FOUND');
      expectError(await client.listVersions(randomUUID(), operatorAuth), 404, 'MODULE.NOT_FOUND');
      expect(expectError(await client.listVersions('not-a-uuid', admin), 400, 'VALIDATION_FAILED')).toEqual(['module_id']);
      expectError(await t.http.get(`/api/v1/modules/${randomUUID()}/versions`), 401);
    });
  });

  describe('a report that moves a known module to another project', () => {
    it("recomputes that module's status on the other sites running it, from the new project's history", async () => {
      const project = machineName('proj');
      const module = `${project}_views`;
      const history = `<?xml version="1.0" encoding="utf-8"?>
<project><title>${project}</title><short_name>${project}</short_name><supported_branches>1.0.</supported_branches>
<project_status>published</project_status><releases>
<release><name>${project} 1.0.1</name><version>1.0.1</version><status>published</status><date>1700001000</date>
<terms><term><name>Release type</name><value>Security update</value></term></terms></release>
<release><name>${project} 1.0.0</name><version>1.0.0</version><status>published</status><date>1700000000</date>
<terms><term><name>Release type</name><value>New features</value></term></terms></release>
</releases></project>`;
      await t.http.post('/api/v1/release-history').set(bearer(operator.token)).set('Content-Type', 'application/xml').send(history).expect(200);
      const [first, second, unrelated] = await Promise.all([newSite(), newSite(), newSite()]);
      // Reported without its project, the catalog files the module under its own name, which has no history.
      await ingest(first, report([{ name: module, version: '1.0.0' }]));
      await ingest(unrelated, report([{ name: machineName('other'), version: '1.0.0' }]));
      const before = byName(await client.allModules(first, admin)).get(module);
      expect(before).toMatchObject({ project: module, update_status: 'unknown', status_source: 'none' });

      await ingest(second, report([{ name: module, project, version: '1.0.0' }]));

      for (const siteId of [first, second]) {
        expect(byName(await client.allModules(siteId, admin)).get(module)).toMatchObject({
          project,
          update_status: 'security_update',
          recommended_version: '1.0.1',
          status_source: 'release_history',
        });
      }
      expect((await client.allModules(unrelated, admin)).map((row) => row.update_status)).toEqual(['unknown']);
    });
  });

  describe('concurrent reports', () => {
    it('applies two reports for one site one after the other: both succeed, the result is one of them', async () => {
      for (let round = 0; round < 3; round += 1) {
        const siteId = await newSite();
        const prefix = machineName('race');
        const first = report(bulk(prefix, 60, '1.0.0', 0));
        const second = report(bulk(prefix, 60, '2.0.0', 30));
        await ingest(siteId, report(bulk(prefix, 45, '1.5.0', 15)));
        const responses = await Promise.all([client.postReport(siteId, first, operatorAuth), client.postReport(siteId, second, operatorAuth)]);
        expect(responses.map((response) => response.status)).toEqual([200, 200]);
        const state = reportedState(await client.allModules(siteId, admin));
        expect([stateOfReport(first), stateOfReport(second)]).toContainEqual(state);
        // The later report's counts are relative to the earlier one's result.
        const results = responses.map((response) => response.body.data as ReportResult);
        const [earlier, later] = [...results].sort((x, y) => x.received_at.localeCompare(y.received_at));
        expect(later?.added).toBe(30);
        expect(later?.removed).toBe(30);
        expect(later?.version_changed).toBe(30);
        expect(earlier?.modules).toBe(60);
      }
    });

    it('applies reports for different sites naming the same new modules at once, without deadlocks or conflicts', async () => {
      for (let round = 0; round < 3; round += 1) {
        const sites = await Promise.all(Array.from({ length: 5 }, () => newSite()));
        const shared = bulk(machineName('shared'), 300, '8.x-1.0').map((module, index) =>
          index % 3 === 0 ? { ...module, project: `${module.name.slice(0, 20)}_p`, type: 'module' as const } : module,
        );
        const bodies = sites.map((_, index) => report([...shuffled(shared), ...bulk(machineName(`own${index}`), 20)]));
        const responses = await Promise.all(sites.map((siteId, index) => client.postReport(siteId, bodies[index], operatorAuth)));
        expect(responses.map((response): [number, unknown] => [response.status, response.body.error as unknown])).toEqual(sites.map(() => [200, undefined]));
        for (const [index, siteId] of sites.entries()) {
          expect((responses[index]?.body.data as ReportResult).added).toBe(320);
          const state = reportedState(await client.allModules(siteId, admin));
          expect(state).toEqual(stateOfReport(bodies[index]));
        }
        // One catalog entry per name: every site sees the same module id for a shared name.
        const ids = await Promise.all(sites.map(async (siteId) => byName(await client.allModules(siteId, admin)).get(shared[0]?.name)?.module_id));
        expect(new Set(ids).size).toBe(1);
      }
    });

    it('applies concurrent reports that name the project of already known modules, without deadlocks', async () => {
      for (let round = 0; round < 3; round += 1) {
        const sites = await Promise.all(Array.from({ length: 5 }, () => newSite()));
        const prefix = machineName('proj');
        const known = bulk(prefix, 300, '8.x-1.0');
        // First seen without a project (so the catalog defaults it to the name) ...
        await ingest(sites[0], report(known));
        // ... then five sites at once say which project each ships in, listing them in different orders.
        const withProject = known.map((module, index) => ({ ...module, project: `${prefix}_p${index % 7}`, type: 'module' as const }));
        const responses = await Promise.all(sites.map((siteId) => client.postReport(siteId, report(shuffled(withProject)), operatorAuth)));
        expect(responses.map((response): [number, unknown] => [response.status, response.body.error as unknown])).toEqual(
          sites.map(() => [200, undefined]),
        );
        const modules = byName(await client.allModules(sites[4], admin));
        expect(modules.get(`${prefix}_8`)?.project).toBe(`${prefix}_p1`);
      }
    });
  });
});
