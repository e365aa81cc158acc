import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { expectError } from '../support/identity-assertions.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface ReportSite {
  site_id: string;
  site_name: string;
  site_url: string;
  organization_id: string;
  installed_version: string;
  recommended_version: string | null;
  status: string;
  update_available_since: string | null;
}

interface ReportModule {
  module_id: string;
  name: string;
  project: string;
  security: boolean;
  worst_status: string;
  sites_affected: number;
  sites: ReportSite[];
}

interface Stats {
  runs: number;
  succeeded: number;
  failed: number;
  partial: number;
  success_rate: number | null;
  modules_updated: number;
  lag_samples: number;
  lag_median_seconds: number | null;
  lag_p90_seconds: number | null;
  lag_median_hours: number | null;
  lag_p90_hours: number | null;
}

interface ReportedModule {
  name: string;
  version: string;
  update_available?: boolean;
  security_update?: boolean;
  latest_version?: string;
}

const machine = (label: string): string => `${label}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const DAY = 86_400;

const ZERO: Stats = {
  runs: 0,
  succeeded: 0,
  failed: 0,
  partial: 0,
  success_rate: null,
  modules_updated: 0,
  lag_samples: 0,
  lag_median_seconds: null,
  lag_p90_seconds: null,
  lag_median_hours: null,
  lag_p90_hours: null,
};

/** Splits RFC 4180 text into rows of cells (quotes, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        cell += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else {
      cell += char;
    }
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/**
 * The reports over HTTP (issue 4, deliverable 6): modules needing updates (security first, then by sites
 * affected) and patch-run statistics (success, modules updated, lag median and p90, weekly trend), as the JSON
 * envelope and as CSV. Every test scopes its queries to organizations it created: the database may be shared.
 */
describe('reports', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let adminToken: string;
  let database: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    adminToken = await fixtures.admin();
    database = t.opsdeck.app.get(DataSource);
  });

  afterAll(async () => {
    await t.close();
  });

  async function newSite(organizationId: string, name = unique('Site')): Promise<{ id: string; name: string; url: string }> {
    const response = await t.http
      .post('/api/v1/sites')
      .set(bearer(adminToken))
      .send({ name, url: `https://${unique('report')}.example.test`, organization_id: organizationId });
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 201 });
    return { id: response.body.data.id as string, name, url: response.body.data.url as string };
  }

  async function reportModules(siteId: string, modules: ReportedModule[]): Promise<void> {
    const response = await t.http
      .post(`/api/v1/sites/${siteId}/modules`)
      .set(bearer(adminToken))
      .send({ drupal_version: '10.2.3', modules });
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
  }

  async function setStatus(siteId: string, module: string, status: string): Promise<void> {
    await database.query(
      `UPDATE site_modules SET update_status = $3 WHERE site_id = $1 AND module_id = (SELECT id FROM modules WHERE name = $2)`,
      [siteId, module, status],
    );
  }

  async function postRun(siteId: string, finishedAt: string, status: string, updates: object[] = []): Promise<void> {
    const started = new Date(Date.parse(finishedAt) - 30 * 60_000).toISOString();
    const response = await t.http
      .post(`/api/v1/sites/${siteId}/patch-run`)
      .set(bearer(adminToken))
      .send({ started_at: started, finished_at: finishedAt, status, updates });
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 201 });
  }

  describe('GET /api/v1/reports/module-updates', () => {
    let orgA: TestOrganization;
    let orgB: TestOrganization;
    let viewerA: TestUser;
    let viewerB: TestUser;
    let alpha: { id: string; name: string; url: string };
    let beta: { id: string; name: string; url: string };
    let formula: { id: string; name: string; url: string };
    let bravo: { id: string; name: string; url: string };
    const m = {
      sec: machine('sec'),
      many: machine('many'),
      two: machine('two'),
      rev: machine('rev'),
      uns: machine('uns'),
      one: machine('one'),
      ok: machine('ok'),
    };
    const report = (query: Record<string, string | number>, token = adminToken) =>
      t.http.get('/api/v1/reports/module-updates').query(query).set(bearer(token));
    const names = (response: { body: { data: ReportModule[] } }) => response.body.data.map((module) => module.name);

    beforeAll(async () => {
      orgA = await fixtures.newOrganization();
      orgB = await fixtures.newOrganization();
      viewerA = await fixtures.newUser('viewer', orgA.id);
      viewerB = await fixtures.newUser('viewer', orgB.id);
      alpha = await newSite(orgA.id, unique('Alpha'));
      beta = await newSite(orgA.id, unique('@Beta'));
      formula = await newSite(orgA.id, `=HYPERLINK("https://evil.example","x"), ${unique('f')}`);
      bravo = await newSite(orgB.id, unique('Bravo'));
      await reportModules(alpha.id, [
        { name: m.sec, version: '1.0.0', security_update: true, update_available: true, latest_version: '1.0.1' },
        { name: m.many, version: '2.0.0', update_available: true, latest_version: '2.1.0' },
        { name: m.rev, version: '8.x-1.0', update_available: true },
        { name: m.uns, version: '8.x-2.0', update_available: true },
        { name: m.one, version: '4.0.0', update_available: true, latest_version: '4.0.1' },
        { name: m.ok, version: '1.0.0', update_available: false, latest_version: '1.0.0' },
      ]);
      await reportModules(beta.id, [
        { name: m.many, version: '2.0.0', update_available: true, latest_version: '2.1.0' },
        { name: m.two, version: '3.0.0', update_available: true },
      ]);
      await reportModules(formula.id, [
        { name: m.many, version: '1.9.0', update_available: true, latest_version: '2.1.0' },
        { name: m.two, version: '3.0.0', update_available: true },
      ]);
      await reportModules(bravo.id, [
        { name: m.sec, version: '1.0.0', security_update: true },
        { name: m.many, version: '2.0.0', update_available: true },
      ]);
      // Statuses only a release history yields, set directly: the ranking is what is under test here.
      await setStatus(alpha.id, m.rev, 'revoked');
      await setStatus(alpha.id, m.uns, 'unsupported');
      await setStatus(beta.id, m.two, 'revoked');
    });

    it('lists the modules needing updates: security first, then by sites affected, then by worst status', async () => {
      const response = await report({ organization_id: orgA.id }).expect(200);
      expect(Object.keys(response.body).sort()).toEqual(['data', 'links', 'meta']);
      expect(response.body.meta).toMatchObject({ page: 1, per_page: 20, total: 6, total_pages: 1 });
      expect(names(response)).toEqual([m.sec, m.many, m.two, m.rev, m.uns, m.one]);
      const [sec, many, two, rev, uns, one] = response.body.data as ReportModule[];
      expect(sec).toEqual({
        module_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: m.sec,
        project: m.sec,
        security: true,
        worst_status: 'security_update',
        sites_affected: 1,
        sites: [
          {
            site_id: alpha.id,
            site_name: alpha.name,
            site_url: alpha.url,
            organization_id: orgA.id,
            installed_version: '1.0.0',
            recommended_version: '1.0.1',
            status: 'security_update',
            update_available_since: expect.any(String),
          },
        ],
      });
      expect(Date.now() - Date.parse(sec?.sites[0]?.update_available_since ?? '')).toBeLessThan(120_000);
      expect(many).toMatchObject({ security: false, worst_status: 'update_available', sites_affected: 3 });
      expect(many?.sites.map((site) => site.site_id).sort()).toEqual([alpha.id, beta.id, formula.id].sort());
      expect(many?.sites.find((site) => site.site_id === formula.id)).toMatchObject({
        installed_version: '1.9.0',
        recommended_version: '2.1.0',
        status: 'update_available',
      });
      // The worst status of the module; its sites listed worst first.
      expect(two).toMatchObject({ worst_status: 'revoked', sites_affected: 2, security: false });
      expect(two?.sites.map((site) => [site.site_id, site.status])).toEqual([
        [beta.id, 'revoked'],
        [formula.id, 'update_available'],
      ]);
      expect(rev).toMatchObject({ worst_status: 'revoked', sites_affected: 1 });
      expect(uns).toMatchObject({ worst_status: 'unsupported', sites_affected: 1 });
      expect(one).toMatchObject({ worst_status: 'update_available', sites_affected: 1 });
    });

    it('shows each caller only the sites in reach; admins see every organization', async () => {
      expect(names(await report({}, viewerA.token).expect(200))).toEqual([m.sec, m.many, m.two, m.rev, m.uns, m.one]);
      const forB = await report({}, viewerB.token).expect(200);
      expect(names(forB)).toEqual([m.sec, m.many]);
      expect((forB.body.data as ReportModule[]).flatMap((module) => module.sites.map((site) => site.site_id))).toEqual([
        bravo.id,
        bravo.id,
      ]);

      const everything = await report({ per_page: 100 }).expect(200);
      const sec = (everything.body.data as ReportModule[]).find((module) => module.name === m.sec);
      expect(sec?.sites_affected).toBe(2);
      expect(sec?.sites.map((site) => site.site_id).sort()).toEqual([alpha.id, bravo.id].sort());
    });

    it('filters by site and to security updates only', async () => {
      const betaOnly = await report({ site_id: beta.id }, viewerA.token).expect(200);
      expect(names(betaOnly)).toEqual([m.two, m.many]);
      expect((betaOnly.body.data as ReportModule[]).every((module) => module.sites_affected === 1)).toBe(true);

      const security = await report({ organization_id: orgA.id, security_only: 'true' }).expect(200);
      expect(names(security)).toEqual([m.sec]);
      expect(security.body.meta.total).toBe(1);
      const securityAll = await report({ security_only: 'true', per_page: 100 }).expect(200);
      expect((securityAll.body.data as ReportModule[]).every((module) => module.security)).toBe(true);
      expect(names(await report({ organization_id: orgA.id, security_only: 'false' }).expect(200))).toHaveLength(6);
    });

    it('pages over modules with meta and links', async () => {
      const page2 = await report({ organization_id: orgA.id, per_page: 2, page: 2 }).expect(200);
      expect(page2.body.meta).toMatchObject({ page: 2, per_page: 2, total: 6, total_pages: 3 });
      expect(names(page2)).toEqual([m.two, m.rev]);
      expect(page2.body.links.next).toContain('page=3');
      const beyond = await report({ organization_id: orgA.id, page: 5 }).expect(200);
      expect(beyond.body.data).toEqual([]);
      expect(beyond.body.meta.total).toBe(6);
    });

    it('drops modules no longer reported and sites deleted', async () => {
      const orgC = await fixtures.newOrganization();
      const first = await newSite(orgC.id);
      const second = await newSite(orgC.id);
      const gone = machine('gone');
      const stays = machine('stays');
      await reportModules(first.id, [
        { name: gone, version: '1.0.0', update_available: true },
        { name: stays, version: '1.0.0', update_available: true },
      ]);
      await reportModules(second.id, [{ name: stays, version: '1.0.0', security_update: true }]);
      expect(names(await report({ organization_id: orgC.id }).expect(200))).toEqual([stays, gone]);

      await reportModules(first.id, [{ name: stays, version: '1.0.0', update_available: true }]);
      expect(names(await report({ organization_id: orgC.id }).expect(200))).toEqual([stays]);
      await t.http.delete(`/api/v1/sites/${second.id}`).set(bearer(adminToken)).expect(200);
      const after = await report({ organization_id: orgC.id }).expect(200);
      expect(after.body.data).toEqual([
        expect.objectContaining({ name: stays, security: false, worst_status: 'update_available', sites_affected: 1 }),
      ]);
      // A site whose modules are all current: nothing to report.
      await reportModules(first.id, [{ name: stays, version: '1.0.1', update_available: false }]);
      expect((await report({ organization_id: orgC.id }).expect(200)).body).toMatchObject({ data: [], meta: { total: 0 } });
    });

    it('refuses bad filters with 400, out-of-reach scopes with 404, site-limited keys with 403', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{ organization_id: 'acme' }, 'organization_id'],
        [{ site_id: '123' }, 'site_id'],
        [{ format: 'xml' }, 'format'],
        [{ security_only: 'yes' }, 'security_only'],
        [{ per_page: '1000' }, 'per_page'],
        [{ sort: 'name' }, 'sort'],
      ];
      for (const [query, field] of cases) {
        expect(expectError(await report(query), 400, 'VALIDATION_FAILED')).toContain(field);
      }
      expectError(await report({ format: 'xml' }).set('Accept', 'text/csv'), 400, 'VALIDATION_FAILED');
      expectError(await report({ organization_id: orgB.id }, viewerA.token), 404, 'ORGANIZATION.NOT_FOUND');
      expectError(await report({ site_id: bravo.id }, viewerA.token), 404, 'SITE.NOT_FOUND');
      expectError(await report({ site_id: randomUUID() }), 404, 'SITE.NOT_FOUND');
      // An admin may name any organization; one without sites simply has nothing to report.
      expect((await report({ organization_id: randomUUID() }).expect(200)).body.data).toEqual([]);

      const key = await fixtures.newApiKey({ role: 'operator', organizationId: orgA.id, siteId: alpha.id });
      expectError(await t.http.get('/api/v1/reports/module-updates').set('X-API-Key', key.key), 403, 'FORBIDDEN');
      expectError(await t.http.get('/api/v1/reports/module-updates'), 401);
    });

    it('answers CSV for ?format=csv: every line, a header, quoting and formula neutralisation', async () => {
      const response = await report({ organization_id: orgA.id, format: 'csv', per_page: 1 }).expect(200);
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(response.headers['content-disposition']).toMatch(/^attachment; filename="module-updates-\d{4}-\d{2}-\d{2}\.csv"$/);
      expect(response.headers.vary).toMatch(/Accept/);
      const text = response.text;
      expect(text.endsWith('\r\n')).toBe(true);
      const [header, ...rows] = parseCsv(text);
      expect(header).toEqual([
        'module_id',
        'module',
        'project',
        'security',
        'worst_status',
        'sites_affected',
        'site_id',
        'site_name',
        'site_url',
        'organization_id',
        'installed_version',
        'recommended_version',
        'status',
        'update_available_since',
      ]);
      // Not paged: one line per (module, site), in the report's order.
      expect(rows).toHaveLength(1 + 3 + 2 + 1 + 1 + 1);
      expect(rows.map((row) => row[1])).toEqual([m.sec, m.many, m.many, m.many, m.two, m.two, m.rev, m.uns, m.one]);
      expect(rows[0]?.slice(1, 13)).toEqual([
        m.sec,
        m.sec,
        'true',
        'security_update',
        '1',
        alpha.id,
        alpha.name,
        alpha.url,
        orgA.id,
        '1.0.0',
        '1.0.1',
        'security_update',
      ]);
      expect(rows.find((row) => row[1] === m.rev)?.[11]).toBe('');
      // Formulas are neutralised with a leading apostrophe; quotes doubled, the cell quoted for its comma.
      const formulaRows = rows.filter((row) => row[6] === formula.id);
      expect(formulaRows).toHaveLength(2);
      expect(formulaRows[0]?.[7]).toBe(`'${formula.name}`);
      expect(text).toContain(`"'${formula.name.replace(/"/g, '""')}"`);
      expect(rows.find((row) => row[6] === beta.id)?.[7]).toBe(`'${beta.name}`);
    });

    it('answers CSV for Accept: text/csv, JSON otherwise; ?format wins over Accept', async () => {
      const csv = await report({ organization_id: orgA.id }).set('Accept', 'text/csv').expect(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(parseCsv(csv.text)).toHaveLength(10);
      const preferred = await report({ organization_id: orgA.id }).set('Accept', 'application/json;q=0.5, text/csv').expect(200);
      expect(preferred.headers['content-type']).toMatch(/^text\/csv/);

      for (const accept of ['application/json', '*/*', 'application/xml']) {
        const json = await report({ organization_id: orgA.id }).set('Accept', accept).expect(200);
        expect(json.headers['content-type']).toMatch(/^application\/json/);
        expect(json.body.data).toHaveLength(6);
      }
      const forced = await report({ organization_id: orgA.id, format: 'json' }).set('Accept', 'text/csv').expect(200);
      expect(forced.body.meta.total).toBe(6);

      const empty = await report({ organization_id: randomUUID(), format: 'csv' }).expect(200);
      expect(parseCsv(empty.text)).toHaveLength(1);
    });
  });

  describe('GET /api/v1/reports/patch-run', () => {
    let orgP: TestOrganization;
    let orgQ: TestOrganization;
    let viewerP: TestUser;
    let viewerQ: TestUser;
    let one: { id: string; name: string; url: string };
    let two: { id: string; name: string; url: string };
    let other: { id: string; name: string; url: string };
    const lagged = machine('lagged');
    const lagged2 = machine('lagged_two');
    const report = (query: Record<string, string>, token = adminToken) =>
      t.http.get('/api/v1/reports/patch-run').query(query).set(bearer(token));
    const JANUARY = { from: '2025-01-01', to: '2025-01-31' };

    beforeAll(async () => {
      orgP = await fixtures.newOrganization();
      orgQ = await fixtures.newOrganization();
      viewerP = await fixtures.newUser('viewer', orgP.id);
      viewerQ = await fixtures.newUser('viewer', orgQ.id);
      const tag = unique('x');
      one = await newSite(orgP.id, `Papa One ${tag}`);
      two = await newSite(orgP.id, `Papa Two ${tag}`);
      other = await newSite(orgQ.id);
      await reportModules(one.id, [{ name: lagged, version: '1.0.0', update_available: true }]);
      await reportModules(two.id, [
        { name: lagged, version: '1.0.0', update_available: true },
        { name: lagged2, version: '2.0.0', security_update: true },
      ]);
      await reportModules(other.id, [{ name: lagged, version: '1.0.0', update_available: true }]);
      // The updates became known on New Year's Day 2025 (reports that old cannot be sent through the API).
      await database.query(
        `UPDATE module_versions SET update_known_at = '2025-01-01T00:00:00Z' WHERE site_id = ANY($1::uuid[])`,
        [[one.id, two.id, other.id]],
      );
      const from = (module: string, version: string) => ({ module, from_version: version, to_version: `${version}-rc1` });
      await postRun(one.id, '2025-01-02T00:00:00Z', 'succeeded', [from(lagged, '1.0.0')]); // lag 1 day
      await postRun(one.id, '2025-01-08T00:00:00Z', 'failed', [from(lagged, '1.0.0')]); // failed: no lag, no updates
      await postRun(two.id, '2025-01-04T00:00:00Z', 'partial', [from(lagged, '1.0.0'), from(machine('unknown'), '1.0.0')]); // 3 days
      await postRun(two.id, '2025-01-08T00:00:00Z', 'succeeded', [from(lagged2, '2.0.0')]); // 7 days
      await postRun(two.id, '2025-01-20T12:00:00Z', 'succeeded');
      await postRun(other.id, '2025-01-05T00:00:00Z', 'succeeded', [from(lagged, '1.0.0')]);
    });

    it('reports runs, success rate, modules updated and lag percentiles overall and per site', async () => {
      const response = await report({ ...JANUARY, organization_id: orgP.id }).expect(200);
      expect(Object.keys(response.body).sort()).toEqual(['data', 'links', 'meta']);
      const data = response.body.data as { period: object; overall: Stats; sites: Array<Stats & { site_id: string }>; weekly: object[] };
      expect(data.period).toEqual({ from: '2025-01-01T00:00:00.000Z', to: '2025-01-31T23:59:59.999Z' });
      // Lags 1, 3 and 7 days: median 3 days; p90 interpolates 80% of the way from 3 to 7 days.
      expect(data.overall).toEqual({
        runs: 5,
        succeeded: 3,
        failed: 1,
        partial: 1,
        success_rate: 0.6,
        modules_updated: 4,
        lag_samples: 3,
        lag_median_seconds: 3 * DAY,
        lag_p90_seconds: 535_680,
        lag_median_hours: 72,
        lag_p90_hours: 148.8,
      });
      expect(data.sites).toEqual([
        {
          site_id: one.id,
          site_name: one.name,
          site_url: one.url,
          organization_id: orgP.id,
          runs: 2,
          succeeded: 1,
          failed: 1,
          partial: 0,
          success_rate: 0.5,
          modules_updated: 1,
          lag_samples: 1,
          lag_median_seconds: DAY,
          lag_p90_seconds: DAY,
          lag_median_hours: 24,
          lag_p90_hours: 24,
        },
        {
          site_id: two.id,
          site_name: two.name,
          site_url: two.url,
          organization_id: orgP.id,
          runs: 3,
          succeeded: 2,
          failed: 0,
          partial: 1,
          success_rate: 0.6667,
          modules_updated: 3,
          lag_samples: 2,
          lag_median_seconds: 5 * DAY,
          lag_p90_seconds: 570_240,
          lag_median_hours: 120,
          lag_p90_hours: 158.4,
        },
      ]);
    });

    it('gives a weekly trend over every week of the period, empty weeks included', async () => {
      const response = await report({ ...JANUARY, organization_id: orgP.id }).expect(200);
      const weekly = response.body.data.weekly as Array<Stats & { week_start: string }>;
      expect(weekly.map((week) => week.week_start)).toEqual(['2024-12-30', '2025-01-06', '2025-01-13', '2025-01-20', '2025-01-27']);
      expect(weekly[0]).toEqual({
        week_start: '2024-12-30',
        runs: 2,
        succeeded: 1,
        failed: 0,
        partial: 1,
        success_rate: 0.5,
        modules_updated: 3,
        lag_samples: 2,
        lag_median_seconds: 2 * DAY,
        lag_p90_seconds: 241_920,
        lag_median_hours: 48,
        lag_p90_hours: 67.2,
      });
      expect(weekly[1]).toMatchObject({ runs: 2, succeeded: 1, failed: 1, success_rate: 0.5, modules_updated: 1, lag_median_seconds: 7 * DAY });
      expect(weekly[2]).toEqual({ week_start: '2025-01-13', ...ZERO });
      expect(weekly[3]).toMatchObject({ runs: 1, succeeded: 1, success_rate: 1, modules_updated: 0, lag_samples: 0, lag_median_seconds: null });
      expect(weekly[4]).toEqual({ week_start: '2025-01-27', ...ZERO });
    });

    it('answers an empty period with zeros, no sites and empty weeks', async () => {
      const response = await report({ from: '2024-01-01', to: '2024-01-31', organization_id: orgP.id }).expect(200);
      expect(response.body.data).toEqual({
        period: { from: '2024-01-01T00:00:00.000Z', to: '2024-01-31T23:59:59.999Z' },
        overall: ZERO,
        sites: [],
        weekly: ['2024-01-01', '2024-01-08', '2024-01-15', '2024-01-22', '2024-01-29'].map((week) => ({ week_start: week, ...ZERO })),
      });
    });

    it('filters by site and keeps other organizations out; instants bound the period exactly', async () => {
      const site = await report({ ...JANUARY, site_id: two.id }, viewerP.token).expect(200);
      expect((site.body.data.sites as Array<{ site_id: string }>).map((row) => row.site_id)).toEqual([two.id]);
      expect(site.body.data.overall).toMatchObject({ runs: 3, lag_median_seconds: 5 * DAY });

      const forP = await report(JANUARY, viewerP.token).expect(200);
      expect(forP.body.data.overall.runs).toBe(5);
      const forQ = await report(JANUARY, viewerQ.token).expect(200);
      expect((forQ.body.data.sites as Array<{ site_id: string }>).map((row) => row.site_id)).toEqual([other.id]);
      expect(forQ.body.data.overall).toMatchObject({ runs: 1, lag_median_seconds: 4 * DAY });

      const wholeDay = await report({ from: '2025-01-20', to: '2025-01-20', site_id: two.id }).expect(200);
      expect(wholeDay.body.data.overall.runs).toBe(1);
      const beforeNoon = await report({ from: '2025-01-20', to: '2025-01-20T12:00:00+01:00', site_id: two.id }).expect(200);
      expect(beforeNoon.body.data.overall.runs).toBe(0);
      expect(beforeNoon.body.data.period.to).toBe('2025-01-20T11:00:00.000Z');
    });

    it('defaults to the last 90 days and measures lag from the first report that flagged the update', async () => {
      const orgR = await fixtures.newOrganization();
      const site = await newSite(orgR.id);
      const fresh = machine('fresh');
      await reportModules(site.id, [{ name: fresh, version: '1.0.0', update_available: true }]);
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      await postRun(site.id, new Date().toISOString(), 'succeeded', [{ module: fresh, from_version: '1.0.0', to_version: '1.0.1' }]);
      const response = await report({ organization_id: orgR.id }).expect(200);
      const { period, overall, weekly } = response.body.data as { period: { from: string; to: string }; overall: Stats; weekly: unknown[] };
      expect(Math.abs(Date.parse(period.to) - Date.now())).toBeLessThan(60_000);
      expect(Date.parse(period.to) - Date.parse(period.from)).toBe(90 * DAY * 1000);
      expect(weekly.length).toBeGreaterThanOrEqual(13);
      expect(overall).toMatchObject({ runs: 1, succeeded: 1, modules_updated: 1, lag_samples: 1 });
      expect(overall.lag_median_seconds).toBeGreaterThanOrEqual(2);
      expect(overall.lag_median_seconds).toBeLessThan(30);

      // January 2025 is outside the default period.
      expect((await report({ organization_id: orgP.id }).expect(200)).body.data.overall.runs).toBe(0);
    });

    it('refuses bad filters and periods with 400, out-of-reach scopes with 404, site-limited keys with 403', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{ from: 'yesterday' }, 'from'],
        [{ to: '2025-02-30' }, 'to'],
        [{ from: '2025-01-01T00:00:00' }, 'from'],
        [{ organization_id: 'acme' }, 'organization_id'],
        [{ site_id: 'nope' }, 'site_id'],
        [{ format: 'xml' }, 'format'],
        [{ page: '1' }, 'page'],
      ];
      for (const [query, field] of cases) {
        expect(expectError(await report(query), 400, 'VALIDATION_FAILED')).toContain(field);
      }
      expect(expectError(await report({ from: '2025-02-01', to: '2025-01-31' }), 400, 'REPORT.PERIOD_REVERSED')).toEqual(['to']);
      expect(expectError(await report({ from: '2022-01-01', to: '2025-01-31' }), 400, 'REPORT.PERIOD_TOO_LONG')).toEqual(['from']);
      await report({ from: '2023-02-01', to: '2025-01-31' }).expect(200);

      expectError(await report({ organization_id: orgP.id }, viewerQ.token), 404, 'ORGANIZATION.NOT_FOUND');
      expectError(await report({ site_id: one.id }, viewerQ.token), 404, 'SITE.NOT_FOUND');
      const key = await fixtures.newApiKey({ role: 'operator', organizationId: orgP.id, siteId: one.id });
      expectError(await t.http.get('/api/v1/reports/patch-run').set('X-API-Key', key.key), 403, 'FORBIDDEN');
    });

    it('answers CSV (format or Accept): an overall line, a line per site, a line per week', async () => {
      const response = await report({ ...JANUARY, organization_id: orgP.id, format: 'csv' }).expect(200);
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(response.headers['content-disposition']).toBe('attachment; filename="patch-run-report-2025-01-01-to-2025-01-31.csv"');
      const [header, ...rows] = parseCsv(response.text);
      expect(header).toEqual([
        'row_type',
        'period_from',
        'period_to',
        'week_start',
        'site_id',
        'site_name',
        'site_url',
        'organization_id',
        'runs',
        'succeeded',
        'failed',
        'partial',
        'success_rate',
        'modules_updated',
        'lag_samples',
        'lag_median_seconds',
        'lag_p90_seconds',
        'lag_median_hours',
        'lag_p90_hours',
      ]);
      expect(rows.map((row) => row[0])).toEqual(['overall', 'site', 'site', 'week', 'week', 'week', 'week', 'week']);
      expect(rows[0]).toEqual([
        'overall',
        '2025-01-01T00:00:00.000Z',
        '2025-01-31T23:59:59.999Z',
        '',
        '',
        '',
        '',
        '',
        '5',
        '3',
        '1',
        '1',
        '0.6',
        '4',
        '3',
        String(3 * DAY),
        '535680',
        '72',
        '148.8',
      ]);
      expect(rows[2]?.slice(4, 9)).toEqual([two.id, two.name, two.url, orgP.id, '3']);
      expect(rows[5]?.slice(3, 16)).toEqual(['2025-01-13', '', '', '', '', '0', '0', '0', '0', '', '0', '0', '']);

      const accepted = await report({ ...JANUARY, organization_id: orgP.id }).set('Accept', 'text/csv').expect(200);
      expect(accepted.text).toBe(response.text);
    });
  });
});
