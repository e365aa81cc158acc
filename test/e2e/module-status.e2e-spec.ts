import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { bearer, IdentityFixtures, type TestUser } from '../support/identity.js';
import { byName, report, SiteClient, type ReportedModule, type SiteModule } from '../support/sites.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/release-history');

/** A fresh project name, so tests sharing one database never see each other's imports. */
const projectName = (label: string): string => `${label}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;

/** The fixture with its short_name turned into `name`. */
function renamed(file: string, name: string): string {
  const xml = readFileSync(join(FIXTURES, file), 'utf8');
  return xml.replace(/<short_name>[a-z0-9_]+<\/short_name>/, `<short_name>${name}</short_name>`);
}

/** A small history written inline: releases as `[version, status, ...release types]`. */
function historyXml(name: string, supportedBranches: string, releases: ReadonlyArray<readonly string[]>, projectStatus = 'published'): string {
  const body = releases
    .map(([version = '', status = 'published', ...types], index) => {
      const terms = types.map((type) => `<term><name>Release type</name><value>${type}</value></term>`).join('');
      return `<release><name>${name} ${version}</name><version>${version}</version><status>${status}</status>
        <date>${1_700_000_000 - index * 1000}</date><terms>${terms}</terms></release>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<project><title>${name}</title><short_name>${name}</short_name><supported_branches>${supportedBranches}</supported_branches>
<project_status>${projectStatus}</project_status><releases>${body}</releases></project>`;
}

type Status = Pick<SiteModule, 'update_status' | 'recommended_version' | 'status_source'>;

/**
 * Module statuses through the whole path (issue 4, deliverable 4): a site reports its modules, OpsDeck
 * evaluates them against the imported release histories, and re-evaluates them when a history is imported.
 */
describe('module status', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let sites: SiteClient;
  let operator: TestUser;
  let organizationId: string;
  let database: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    sites = new SiteClient(t);
    organizationId = (await fixtures.newOrganization()).id;
    operator = await fixtures.newUser('operator', organizationId);
    database = t.opsdeck.app.get(DataSource);
  });

  afterAll(async () => {
    await t.close();
  });

  async function importXml(xml: string): Promise<{ project: string; sites_reevaluated: number }> {
    const response = await t.http
      .post('/api/v1/release-history')
      .set(bearer(operator.token))
      .set('Content-Type', 'application/xml')
      .send(xml);
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
    return response.body.data as { project: string; sites_reevaluated: number };
  }

  async function reportModules(siteId: string, modules: ReportedModule[], drupalVersion = '10.2.3'): Promise<void> {
    const response = await sites.postReport(siteId, report(modules, { drupal_version: drupalVersion }), { token: operator.token });
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
  }

  async function statuses(siteId: string): Promise<Map<string, SiteModule>> {
    return byName(await sites.allModules(siteId, { token: operator.token }));
  }

  const status = (module: SiteModule | undefined): Status | undefined =>
    module && { update_status: module.update_status, recommended_version: module.recommended_version, status_source: module.status_source };
  const fromHistory = (update_status: string, recommended_version: string | null): Status => ({
    update_status,
    recommended_version,
    status_source: 'release_history',
  });

  async function newSite(): Promise<string> {
    return (await fixtures.newSite(organizationId)).id;
  }

  describe('evaluated from release histories', () => {
    const projects = {
      token: projectName('token'),
      pathauto: projectName('pathauto'),
      ctools: projectName('ctools'),
      mollom: projectName('mollom'),
      spamalot: projectName('spamalot'),
      leaky: projectName('leaky_forms'),
      pulled: projectName('pulled'),
    };

    beforeAll(async () => {
      await importXml(renamed('token.xml', projects.token));
      await importXml(renamed('pathauto.xml', projects.pathauto));
      await importXml(renamed('ctools.xml', projects.ctools));
      await importXml(renamed('mollom.xml', projects.mollom));
      await importXml(renamed('spamalot.xml', projects.spamalot));
      await importXml(renamed('leaky_forms.xml', projects.leaky));
      await importXml(
        historyXml(projects.pulled, '1.0.', [
          ['1.0.2', 'published', 'Bug fixes'],
          ['1.0.1', 'unpublished', 'Bug fixes'],
          ['1.0.0', 'published', 'New features'],
        ]),
      );
    });

    /** Reports one module per site, so one project can be checked at several versions. */
    async function statusAt(project: string, version: string, extra: Partial<ReportedModule> = {}): Promise<Status | undefined> {
      const siteId = await newSite();
      await reportModules(siteId, [{ name: project, version, ...extra }]);
      return status((await statuses(siteId)).get(project));
    }

    it('semantic versions: current, update available, unsupported branch, pre-release and dev', async () => {
      const siteId = await newSite();
      await reportModules(siteId, [{ name: projects.token, version: '2.0.0' }]);
      expect(status((await statuses(siteId)).get(projects.token))).toEqual(fromHistory('update_available', '2.0.1'));

      expect(await statusAt(projects.token, '2.0.1')).toEqual(fromHistory('current', '2.0.1'));
      expect(await statusAt(projects.token, '1.3.0')).toEqual(fromHistory('update_available', '1.3.2'));
      expect(await statusAt(projects.token, '1.2.4')).toEqual(fromHistory('unsupported', '1.3.2'));
      expect(await statusAt(projects.token, '2.0.0-rc1')).toEqual(fromHistory('update_available', '2.0.1'));
      expect(await statusAt(projects.token, '2.0.x-dev')).toEqual(fromHistory('current', '2.0.x-dev'));
      expect(await statusAt(projects.token, '1.x-dev')).toEqual(fromHistory('unsupported', '2.0.1'));
    });

    it('legacy 8.x-1.x: security release, Insecure-marked and unpublished releases, dev snapshots', async () => {
      expect(await statusAt(projects.pathauto, '8.x-1.13')).toEqual(fromHistory('current', '8.x-1.13'));
      expect(await statusAt(projects.pathauto, '8.x-1.12')).toEqual(fromHistory('update_available', '8.x-1.13'));
      expect(await statusAt(projects.pathauto, '8.x-1.11')).toEqual(fromHistory('security_update', '8.x-1.13'));
      expect(await statusAt(projects.pathauto, '8.x-1.9')).toEqual(fromHistory('security_update', '8.x-1.13'));
      // Its dev release is typed "Security update": dev releases never count.
      expect(await statusAt(projects.pathauto, '8.x-1.x-dev')).toEqual(fromHistory('current', '8.x-1.x-dev'));
      expect(await statusAt(projects.pathauto, '8.x-1.11+2-dev')).toEqual(fromHistory('security_update', '8.x-1.13'));
    });

    it('an unsupported legacy branch whose successor has security releases', async () => {
      expect(await statusAt(projects.ctools, '8.x-3.14')).toEqual(fromHistory('security_update', '4.0.4'));
      expect(await statusAt(projects.ctools, '4.0.2')).toEqual(fromHistory('security_update', '4.0.4'));
      expect(await statusAt(projects.ctools, '4.0.x-dev')).toEqual(fromHistory('current', '4.0.x-dev'));
    });

    it('revoked releases and projects, unsupported and insecure projects', async () => {
      expect(await statusAt(projects.pulled, '1.0.1')).toEqual(fromHistory('revoked', '1.0.2'));
      expect(await statusAt(projects.spamalot, '1.0.0')).toEqual(fromHistory('revoked', null));
      expect(await statusAt(projects.mollom, '8.x-1.1')).toEqual(fromHistory('unsupported', null));
      expect(await statusAt(projects.leaky, '2.1.0')).toEqual(fromHistory('unsupported', null));
    });

    it('explains the status', async () => {
      const siteId = await newSite();
      await reportModules(siteId, [{ name: projects.pathauto, version: '8.x-1.10' }]);

      const module = (await statuses(siteId)).get(projects.pathauto);
      expect(module?.status_reason).toBe('8.x-1.12 is a security release newer than 8.x-1.10');
      expect(module?.update_available_since).not.toBeNull();
    });

    it("ignores the site's own flags where a release history is known", async () => {
      expect(await statusAt(projects.token, '2.0.1', { security_update: true, update_available: true, latest_version: '9.9.9' })).toEqual(
        fromHistory('current', '2.0.1'),
      );
    });

    it('answers unknown for a version the history cannot place', async () => {
      expect(await statusAt(projects.token, '7.x-1.5')).toEqual(fromHistory('unknown', null));
    });

    it('evaluates every module of a report, each by its own project', async () => {
      const siteId = await newSite();
      const submodule = `${projects.ctools}_block`;
      await reportModules(siteId, [
        { name: projects.token, version: '2.0.1' },
        { name: projects.ctools, version: '4.0.2' },
        { name: submodule, project: projects.ctools, version: '4.0.2' },
        { name: projects.spamalot, version: '1.0.1' },
      ]);

      const modules = await statuses(siteId);
      expect([projects.token, projects.ctools, submodule, projects.spamalot].map((name) => modules.get(name)?.update_status)).toEqual([
        'current',
        'security_update',
        'security_update',
        'revoked',
      ]);
    });

    /**
     * Each row below is decided by one rule of the evaluator (docs/release-history.md, "The status rules"):
     * without that rule the row's status, recommendation or reason would differ.
     */
    describe('each status rule deciding at least one case', () => {
      type Verdict = Status & Pick<SiteModule, 'status_reason'>;
      type Row = readonly [project: string, version: string, expected: Verdict];

      const explained = (update_status: string, recommended_version: string | null, status_reason: string): Verdict => ({
        ...fromHistory(update_status, recommended_version),
        status_reason,
      });

      const verdict = (module: SiteModule | undefined): Verdict | undefined =>
        module && {
          update_status: module.update_status,
          recommended_version: module.recommended_version,
          status_source: module.status_source,
          status_reason: module.status_reason,
        };

      const rules = {
        redirect: projectName('redirect'),
        captcha: projectName('captcha'),
        withdrawn: projectName('withdrawn'),
        abandoned: projectName('abandoned'),
        hidden: projectName('hidden'),
        marked: projectName('marked'),
        quietFix: projectName('quiet_fix'),
        preRelease: projectName('pre_release'),
        retired: projectName('retired'),
        branches: projectName('branches'),
      };

      beforeAll(async () => {
        // 8.x-1.9 marked Insecure after 8.x-1.8's security release; 8.x-1.10 unpublished; 8.x-1.11 fixes it, as Bug fixes.
        await importXml(renamed('redirect.xml', rules.redirect));
        // 2.0.6 is typed Unsupported inside the supported 2.0. branch.
        await importXml(renamed('captcha.xml', rules.captcha));
        // A release whose <status> is revoked, in a branch no longer supported.
        await importXml(
          historyXml(rules.withdrawn, '1.1.', [
            ['1.1.0', 'published', 'New features'],
            ['1.0.1', 'revoked', 'Bug fixes'],
            ['1.0.0', 'published', 'New features'],
          ]),
        );
        // An insecure project whose installed release is not itself marked Insecure, with a newer release.
        await importXml(
          historyXml(
            rules.abandoned,
            '',
            [
              ['2.2.0', 'published', 'Bug fixes'],
              ['2.1.0', 'published', 'Bug fixes'],
            ],
            'insecure',
          ),
        );
        await importXml(historyXml(rules.hidden, '1.0.', [['1.0.0', 'published', 'New features']], 'unpublished'));
        await importXml(
          historyXml(rules.marked, '1.0.', [
            ['1.0.2', 'published', 'Bug fixes', 'Insecure'],
            ['1.0.1', 'published', 'Bug fixes', 'Unsupported'],
            ['1.0.0', 'published', 'New features'],
          ]),
        );
        await importXml(
          historyXml(rules.quietFix, '1.0.', [
            ['1.0.1', 'unpublished', 'Security update'],
            ['1.0.0', 'published', 'New features'],
          ]),
        );
        await importXml(
          historyXml(rules.preRelease, '2.0.,2.1.', [
            ['2.1.0-beta2', 'published', 'New features'],
            ['2.1.0-beta1', 'published', 'New features'],
            ['2.0.1', 'published', 'Bug fixes'],
            ['2.0.0', 'published', 'New features'],
          ]),
        );
        await importXml(
          historyXml(
            rules.retired,
            '',
            [
              ['1.0.1', 'published', 'Security update'],
              ['1.0.0', 'published', 'New features'],
            ],
            'unsupported',
          ),
        );
        await importXml(
          historyXml(rules.branches, '1.1.,2.0.', [
            ['2.0.1', 'published', 'Security update'],
            ['2.0.0', 'published', 'New features'],
            ['1.1.0', 'published', 'New features'],
            ['1.0.1', 'published', 'Security update'],
            ['1.0.0', 'published', 'New features'],
          ]),
        );
      });

      /** Every row on a site of its own, compared at once so that each wrong row shows in the diff. */
      async function expectRows(rows: readonly Row[]): Promise<void> {
        const actual: Array<[string, string, Verdict | undefined]> = [];
        for (const [project, version] of rows) {
          const siteId = await newSite();
          await reportModules(siteId, [{ name: project, version }]);
          actual.push([project, version, verdict((await statuses(siteId)).get(project))]);
        }
        expect(actual).toEqual(rows);
      }

      it('an installed release marked Insecure, Unsupported, unpublished or revoked', async () => {
        await expectRows([
          // Insecure, no newer security release (8.x-1.8 is older), a newer usable release: security_update.
          [rules.redirect, '8.x-1.9', explained('security_update', '8.x-1.11', '8.x-1.9 is marked insecure; update to 8.x-1.11')],
          // Insecure too, but a newer security release exists: that rule comes first and names it.
          [rules.redirect, '8.x-1.7', explained('security_update', '8.x-1.11', '8.x-1.8 is a security release newer than 8.x-1.7')],
          // Insecure and nothing newer: unsupported, nothing to recommend.
          [rules.marked, '1.0.2', explained('unsupported', null, '1.0.2 is marked insecure and no newer release exists')],
          // Typed Unsupported in a supported branch.
          [rules.captcha, '2.0.6', explained('unsupported', '2.0.7', '2.0.6 is marked unsupported')],
          // <status>unpublished</status>, as updates.drupal.org withdraws a release.
          [rules.redirect, '8.x-1.10', explained('revoked', '8.x-1.11', '8.x-1.10 was unpublished on drupal.org')],
          // <status>revoked</status>; revoked outranks the unsupported 1.0. branch.
          [rules.withdrawn, '1.0.1', explained('revoked', '1.1.0', '1.0.1 was revoked on drupal.org')],
        ]);
      });

      it('project statuses: insecure with a release to move to, unpublished, unsupported', async () => {
        await expectRows([
          // Unlike leaky_forms (nothing to move to: unsupported).
          [
            rules.abandoned,
            '2.1.0',
            explained('security_update', '2.2.0', `The ${rules.abandoned} project is marked insecure; update to 2.2.0`),
          ],
          [
            rules.hidden,
            '1.0.0',
            explained('revoked', null, `The ${rules.hidden} project is unpublished on drupal.org: remove or replace it`),
          ],
          // A security release outranks the project being unsupported.
          [rules.retired, '1.0.0', explained('security_update', '1.0.1', '1.0.1 is a security release newer than 1.0.0')],
          // A version it cannot place: unsupported for an unsupported project, unknown otherwise.
          [projects.mollom, '7.x-1.3', explained('unsupported', null, `The ${projects.mollom} project is unsupported`)],
          [projects.token, '3.0.0', explained('unknown', null, `3.0.0 cannot be placed in the ${projects.token} release history`)],
        ]);
      });

      it('which releases count as security releases, and which are recommended', async () => {
        await expectRows([
          // The newer 8.x-1.x-dev is typed "Security update": a dev release never counts.
          [projects.pathauto, '8.x-1.12+3-dev', explained('update_available', '8.x-1.13', '8.x-1.13 is available')],
          // The only newer release is an unpublished security release: neither a fix nor a recommendation.
          [rules.quietFix, '1.0.0', explained('current', '1.0.0', '1.0.0 is the newest release of its supported branch')],
          // The newer releases are typed Unsupported and Insecure: never recommended.
          [rules.marked, '1.0.0', explained('current', '1.0.0', '1.0.0 is the newest release of its supported branch')],
          // A security release of another supported branch does not count ...
          [rules.branches, '1.1.0', explained('current', '1.1.0', '1.1.0 is the newest release of its supported branch')],
          // ... one of the installed branch does, even when that branch is no longer supported.
          [rules.branches, '1.0.0', explained('security_update', '1.1.0', '1.0.1 is a security release newer than 1.0.0')],
          // Pre-releases only for a site already on one; a stable site is not offered 2.1.0-beta2.
          [rules.preRelease, '2.1.0-beta1', explained('update_available', '2.1.0-beta2', '2.1.0-beta2 is available')],
          [rules.preRelease, '2.0.1', explained('current', '2.0.1', '2.0.1 is the newest release of its supported branch')],
        ]);
      });
    });
  });

  describe('drupal core', () => {
    it('keeps a security fix in the installed minor branch and never moves core to another major', async () => {
      await importXml(readFileSync(join(FIXTURES, 'drupal.xml'), 'utf8'));
      const expected: Array<[string, Status]> = [
        ['10.2.6', fromHistory('security_update', '10.2.7')],
        ['10.2.7', fromHistory('update_available', '10.3.1')],
        ['10.3.1', fromHistory('current', '10.3.1')],
        ['9.5.11', fromHistory('unsupported', null)],
      ];
      for (const [version, want] of expected) {
        const siteId = await newSite();
        await reportModules(siteId, [{ name: 'drupal', type: 'core', version }], version);
        expect([version, status((await statuses(siteId)).get('drupal'))]).toEqual([version, want]);
      }
    });
  });

  describe('site-reported flags, where no release history is known', () => {
    it('takes the security flag, the update flag, or the latest version; none at all is unknown', async () => {
      const siteId = await newSite();
      const names = ['secure', 'update', 'latest', 'told_none', 'nothing', 'unclear'].map((label) => projectName(label));
      const [secure = '', update = '', latest = '', toldNone = '', nothing = '', unclear = ''] = names;
      await reportModules(siteId, [
        { name: secure, version: '1.0.0', security_update: true, update_available: true, latest_version: '1.0.3' },
        { name: update, version: '8.x-1.2', update_available: true, latest_version: '8.x-1.4' },
        { name: latest, version: '2.1.0', latest_version: '2.1.0' },
        { name: toldNone, version: '2.1.0', update_available: false, security_update: false },
        { name: nothing, version: '1.0.0' },
        { name: unclear, version: '1.0.0', latest_version: '1.2.0' },
      ]);

      const modules = await statuses(siteId);
      expect(names.map((name) => status(modules.get(name)))).toEqual([
        { update_status: 'security_update', recommended_version: '1.0.3', status_source: 'site_report' },
        { update_status: 'update_available', recommended_version: '8.x-1.4', status_source: 'site_report' },
        { update_status: 'current', recommended_version: '2.1.0', status_source: 'site_report' },
        { update_status: 'current', recommended_version: null, status_source: 'site_report' },
        { update_status: 'unknown', recommended_version: null, status_source: 'none' },
        { update_status: 'unknown', recommended_version: '1.2.0', status_source: 'site_report' },
      ]);
      expect(modules.get(secure)?.update_available_since).not.toBeNull();
      expect(modules.get(latest)?.update_available_since).toBeNull();
    });
  });

  describe('importing a history re-evaluates the sites already reporting its project', () => {
    it('switches from the site flags to the history, counts the changes, and keeps when an update was first known', async () => {
      const project = projectName('late');
      const [first, second] = [await newSite(), await newSite()];
      await reportModules(first, [{ name: project, version: '1.0.0', update_available: true, latest_version: '1.0.1' }]);
      await reportModules(second, [{ name: project, version: '1.0.1' }]);
      const before = (await statuses(first)).get(project);
      expect(status(before)).toEqual({ update_status: 'update_available', recommended_version: '1.0.1', status_source: 'site_report' });
      expect(status((await statuses(second)).get(project))?.status_source).toBe('none');

      const imported = await importXml(
        historyXml(project, '1.0.', [
          ['1.0.2', 'published', 'Security update'],
          ['1.0.1', 'published', 'Bug fixes'],
          ['1.0.0', 'published', 'New features'],
        ]),
      );

      expect(imported.sites_reevaluated).toBe(2);
      const after = (await statuses(first)).get(project);
      expect(status(after)).toEqual(fromHistory('security_update', '1.0.2'));
      expect(after?.update_available_since).toBe(before?.update_available_since);
      expect(status((await statuses(second)).get(project))).toEqual(fromHistory('security_update', '1.0.2'));

      const known = await database.query<Array<{ site_id: string; update_known_at: Date | null }>>(
        `SELECT mv.site_id, mv.update_known_at FROM module_versions mv JOIN modules m ON m.id = mv.module_id
          WHERE m.name = $1 ORDER BY mv.version`,
        [project],
      );
      expect(known.find((row) => row.site_id === first)?.update_known_at?.toISOString()).toBe(before?.update_available_since);
      expect(known.find((row) => row.site_id === second)?.update_known_at).not.toBeNull();
    });

    it('changes nothing when the same history is imported again', async () => {
      const project = projectName('again');
      const xml = historyXml(project, '1.0.', [['1.0.1', 'published', 'Security update'], ['1.0.0']]);
      await importXml(xml);
      const siteId = await newSite();
      await reportModules(siteId, [{ name: project, version: '1.0.0' }]);
      const before = (await statuses(siteId)).get(project);

      expect((await importXml(xml)).sites_reevaluated).toBe(0);
      expect((await statuses(siteId)).get(project)).toEqual(before);
    });

    it('clears update_available_since when an update stops being needed', async () => {
      const project = projectName('cleared');
      await importXml(historyXml(project, '1.0.', [['1.0.1'], ['1.0.0']]));
      const siteId = await newSite();
      await reportModules(siteId, [{ name: project, version: '1.0.0' }]);
      expect((await statuses(siteId)).get(project)?.update_available_since).not.toBeNull();

      // The newer release is withdrawn: the installed one is current again.
      expect((await importXml(historyXml(project, '1.0.', [['1.0.1', 'unpublished'], ['1.0.0']]))).sites_reevaluated).toBe(1);
      const module = (await statuses(siteId)).get(project);
      expect(status(module)).toEqual(fromHistory('current', '1.0.0'));
      expect(module?.update_available_since).toBeNull();
    });

    it('follows a site that updates: a new report with the fixed version is current', async () => {
      const project = projectName('patched');
      await importXml(historyXml(project, '8.x-1.', [['8.x-1.5', 'published', 'Security update'], ['8.x-1.4']]));
      const siteId = await newSite();
      await reportModules(siteId, [{ name: project, version: '8.x-1.4' }]);
      expect(status((await statuses(siteId)).get(project))).toEqual(fromHistory('security_update', '8.x-1.5'));

      await reportModules(siteId, [{ name: project, version: '8.x-1.5' }]);

      const module = (await statuses(siteId)).get(project);
      expect(status(module)).toEqual(fromHistory('current', '8.x-1.5'));
      expect(module?.update_available_since).toBeNull();
    });
  });
});
