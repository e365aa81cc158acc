import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli, type CliResult } from '../support/cli.js';
import { findAuditRows, type AuditRow } from '../support/identity-assertions.js';
import { bearer, IdentityFixtures, type TestUser } from '../support/identity.js';
import { byName, report, SiteClient, type SiteModule } from '../support/sites.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { testDatabaseUrl } from '../support/test-database.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/release-history');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** A fresh project name, so tests sharing one database never see each other's imports. */
const projectName = (label: string): string => `${label}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;

/** The fixture with its (first) short_name turned into `name`; hostile and malformed files keep their flaw. */
const renamed = (file: string, name: string): string =>
  fixture(file).replace(/<short_name>[a-z0-9_]+<\/short_name>/, `<short_name>${name}</short_name>`);

/** The one line the CLI prints per imported project. */
const summaryLine = (project: string, status: string, releases: number, supported: string, reevaluated: number, file: string): string =>
  `${project}: ${status}, ${releases} releases, supported ${supported}, ${reevaluated} site modules re-evaluated (${file})\n`;

const FAILED = 'import-release-history failed: ';
const FORBIDDEN_XML =
  'RELEASE_HISTORY.FORBIDDEN_XML: Document type and entity declarations are not accepted in a release history\n' +
  '  body: DOCTYPE, ENTITY, ELEMENT, ATTLIST and NOTATION declarations are refused\n';

const external = testDatabaseUrl();

/**
 * `npm run import-release-history -- <file|dir>...` run as an operator would (the built CLI, its own process,
 * only the environment it is given) beside a running service on the same database: the service's API must
 * serve what the CLI imported. Needs a database both processes can open (TEST_DATABASE_URL; CI sets it).
 */
(external ? describe : describe.skip)('npm run import-release-history', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let sites: SiteClient;
  let adminToken: string;
  let operator: TestUser;
  let organizationId: string;
  let jwtSecret: string;
  const workDirs: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    sites = new SiteClient(t);
    adminToken = await fixtures.admin();
    organizationId = (await fixtures.newOrganization()).id;
    operator = await fixtures.newUser('operator', organizationId);
    // The CLI runs with the service's DATA_DIR, as on a real host, so it loads this very secret.
    jwtSecret = readFileSync(join(t.dataDir, 'jwt-secret'), 'utf8').trim();
  });

  afterAll(async () => {
    await t.close();
    for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
  });

  const importCli = (args: readonly string[]): Promise<CliResult> =>
    runCli('import-release-history', args, { env: { NODE_ENV: 'test', DATA_DIR: t.dataDir, DATABASE_URL: external ?? '' } });

  /** A temporary directory holding exactly these files (a name ending in "/" is a subdirectory). */
  function workDir(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-import-cli-'));
    workDirs.push(dir);
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    return dir;
  }

  /** The stored versions of a project as the API lists them, or null when the API does not know the project. */
  async function storedVersions(project: string): Promise<string[] | null> {
    const response = await t.http.get(`/api/v1/projects/${project}/releases`).query({ per_page: 100 }).set(bearer(operator.token));
    if (response.status === 404) return null;
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
    return (response.body.data as Array<{ version: string }>).map((release) => release.version).sort();
  }

  function importAudits(project: string): Promise<AuditRow[]> {
    return findAuditRows(t, adminToken, { action: 'release_history.import' }, (row) => row.resource_id === project, { waitMs: 0 });
  }

  /** A failed run says why on stderr only, without stack frames, secrets or anything an entity would expand to. */
  function expectCleanFailure(result: CliResult): void {
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
    expect(result.stderr.startsWith(FAILED)).toBe(true);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toMatch(/root:|lollol|passwd/);
    expect(result.stderr).not.toContain(jwtSecret);
  }

  describe('one file', () => {
    const project = projectName('token');
    let siteId: string;
    let file: string;
    let result: CliResult;

    beforeAll(async () => {
      siteId = (await fixtures.newSite(organizationId)).id;
      const reported = await sites.postReport(siteId, report([{ name: project, version: '2.0.0' }]), { token: operator.token });
      expect(reported.status).toBe(200);
      file = join(workDir({ [`${project}.xml`]: renamed('token.xml', project) }), `${project}.xml`);
      result = await importCli([file]);
    }, 60_000);

    it('exits 0 and prints one summary line naming the project, its status, releases, branches and the file', () => {
      expect(result).toEqual({ code: 0, stderr: '', stdout: summaryLine(project, 'published', 12, '1.3.,2.0.', 1, file) });
    });

    it('stores every release, which the running service then serves', async () => {
      const versions = await storedVersions(project);
      expect(versions).toHaveLength(12);
      expect(versions).toEqual(expect.arrayContaining(['2.0.x-dev', '2.0.1', '1.3.2']));
    });

    it("re-evaluates the site already reporting the project: its status now comes from the imported history", async () => {
      const module: SiteModule | undefined = byName(await sites.allModules(siteId, { token: operator.token })).get(project);
      expect(module).toMatchObject({ update_status: 'update_available', recommended_version: '2.0.1', status_source: 'release_history' });
    });

    it('audits the import once, by the system actor "import-release-history", with what changed', async () => {
      const rows = await importAudits(project);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor: { type: 'system', id: null, label: 'import-release-history' },
        organization_id: null,
        resource_type: 'release_history',
        outcome: 'success',
        status_code: 200,
        request_id: null,
        changes: { project_status: 'published', releases: 12, supported_branches: ['1.3.', '2.0.'], sites_reevaluated: 1 },
      });
      // The audit filter by actor finds it too.
      const byActor = await findAuditRows(
        t,
        adminToken,
        { action: 'release_history.import', actor: 'import-release-history' },
        (row) => row.resource_id === project,
      );
      expect(byActor.map((row) => row.id)).toEqual([rows[0]?.id]);
    });

    it('is idempotent: the same file again prints 0 site modules re-evaluated and leaves the same releases', async () => {
      const before = await storedVersions(project);
      const again = await importCli([file]);
      expect(again).toEqual({ code: 0, stderr: '', stdout: summaryLine(project, 'published', 12, '1.3.,2.0.', 0, file) });
      expect(await storedVersions(project)).toEqual(before);
    }, 60_000);
  });

  describe('a directory', () => {
    it('imports every .xml in name order (any case, <projects> documents too) and ignores other files and subdirectories', async () => {
      const [mollom, toolbar, metatag, spamalot, notXml, nested] = [
        'mollom',
        'admin_toolbar',
        'metatag',
        'spamalot',
        'not_xml',
        'nested',
      ].map(projectName);
      const multiple = fixture('multiple.xml')
        .replace('<short_name>admin_toolbar</short_name>', `<short_name>${toolbar}</short_name>`)
        .replace('<short_name>metatag</short_name>', `<short_name>${metatag}</short_name>`);
      const dir = workDir({
        'c-spamalot.XML': renamed('spamalot.xml', spamalot),
        'a-mollom.xml': renamed('mollom.xml', mollom),
        'b-multiple.xml': multiple,
        // A valid history in a file that is not .xml, and one in a subdirectory: neither is imported.
        'notes.txt': renamed('token.xml', notXml),
        'sub/d-nested.xml': renamed('token.xml', nested),
      });

      const result = await importCli([dir]);

      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        summaryLine(mollom, 'unsupported', 3, 'none', 0, join(dir, 'a-mollom.xml')) +
          summaryLine(toolbar, 'published', 2, '3.4.', 0, join(dir, 'b-multiple.xml')) +
          summaryLine(metatag, 'published', 1, '2.0.', 0, join(dir, 'b-multiple.xml')) +
          summaryLine(spamalot, 'revoked', 2, 'none', 0, join(dir, 'c-spamalot.XML')),
      );
      expect(await storedVersions(mollom)).toEqual(['8.x-1.0', '8.x-1.1', '8.x-1.x-dev']);
      expect(await storedVersions(toolbar)).toEqual(['3.4.1', '3.4.2']);
      expect(await storedVersions(metatag)).toEqual(['2.0.0']);
      expect(await storedVersions(spamalot)).toEqual(['1.0.0', '1.0.1']);
      expect(await storedVersions(notXml)).toBeNull();
      expect(await storedVersions(nested)).toBeNull();
    }, 60_000);

    it('exits 1 saying so when the directory holds no .xml file', async () => {
      const dir = workDir({ 'notes.txt': fixture('token.xml') });
      const result = await importCli([dir]);
      expectCleanFailure(result);
      expect(result.stderr).toBe(`${FAILED}no .xml files in ${dir}\n`);
    });

    it('stops at the first bad file with exit 1: files before it stay imported, files after it are not', async () => {
      const [first, broken, last] = ['first', 'broken', 'last'].map(projectName);
      const dir = workDir({
        'a.xml': renamed('token.xml', first),
        'b.xml': renamed('hostile/malformed.xml', broken),
        'c.xml': renamed('ctools.xml', last),
      });

      const result = await importCli([dir]);

      expect(result.code).toBe(1);
      expect(result.stdout).toBe(summaryLine(first, 'published', 12, '1.3.,2.0.', 0, join(dir, 'a.xml')));
      expect(result.stderr).toBe(
        `${FAILED}${join(dir, 'b.xml')}: RELEASE_HISTORY.INVALID_XML: The release history is not well-formed XML\n` +
          "  body: line 9, column 2: Expected closing tag 'release' (opened in line 8, col 3) instead of closing tag 'releases'.\n",
      );
      expect(await storedVersions(first)).toHaveLength(12);
      expect(await storedVersions(broken)).toBeNull();
      expect(await storedVersions(last)).toBeNull();
    }, 60_000);
  });

  describe('hostile and malformed files are refused with exit 1, naming the file, and store nothing', () => {
    it.each(['billion-laughs.xml', 'xxe-file.xml', 'external-dtd.xml', 'parameter-entity.xml'])(
      '%s: RELEASE_HISTORY.FORBIDDEN_XML, nothing expanded, stored or audited',
      async (name) => {
        const project = projectName('hostile');
        const file = join(workDir({ [name]: renamed(`hostile/${name}`, project) }), name);
        expect(readFileSync(file, 'utf8')).toContain(`<short_name>${project}</short_name>`);

        const result = await importCli([file]);

        expectCleanFailure(result);
        expect(result.stderr).toBe(`${FAILED}${file}: ${FORBIDDEN_XML}`);
        expect(await storedVersions(project)).toBeNull();
        expect(await importAudits(project)).toEqual([]);
      },
      60_000,
    );

    it('malformed XML: RELEASE_HISTORY.INVALID_XML with the line and column', async () => {
      const project = projectName('malformed');
      const file = join(workDir({ 'malformed.xml': renamed('hostile/malformed.xml', project) }), 'malformed.xml');

      const result = await importCli([file]);

      expectCleanFailure(result);
      expect(result.stderr).toContain(`${file}: RELEASE_HISTORY.INVALID_XML: The release history is not well-formed XML\n  body: line 9, column 2:`);
      expect(await storedVersions(project)).toBeNull();
      expect(await importAudits(project)).toEqual([]);
    }, 60_000);

    it('a wrong structure: RELEASE_HISTORY.INVALID_DOCUMENT listing every problem', async () => {
      const project = projectName('bad_versions');
      const file = join(workDir({ 'bad-versions.xml': renamed('hostile/bad-versions.xml', project) }), 'bad-versions.xml');

      const result = await importCli([file]);

      expectCleanFailure(result);
      expect(result.stderr).toBe(
        `${FAILED}${file}: RELEASE_HISTORY.INVALID_DOCUMENT: The release history is not valid\n` +
          '  project.supported_branches: "next" is not a branch like 8.x-1. or 2.0.\n' +
          '  project.releases.1.version: "latest" is not a Drupal version\n' +
          '  project.releases.2.status: must be one of published, unpublished, revoked\n' +
          '  project.releases.2.date: must be a Unix timestamp in seconds\n',
      );
      expect(await storedVersions(project)).toBeNull();
    }, 60_000);

    it('a <projects> file with one bad project is refused whole: its good project is not stored either', async () => {
      const good = projectName('good');
      const xml = `<projects>${renamed('token.xml', good).replace(/<\?xml[^>]*\?>/, '')}<project><title>x</title></project></projects>`;
      const file = join(workDir({ 'projects.xml': xml }), 'projects.xml');

      const result = await importCli([file]);

      expectCleanFailure(result);
      expect(result.stderr).toContain(`${file}: RELEASE_HISTORY.INVALID_DOCUMENT: The release history is not valid\n`);
      expect(result.stderr).toContain('  projects.1.short_name: ');
      expect(await storedVersions(good)).toBeNull();
      expect(await importAudits(good)).toEqual([]);
    }, 60_000);
  });

  describe('usage', () => {
    it.each([
      ['no argument', []],
      ['only "--"', ['--']],
    ])('%s: exit 1 with the usage line', async (_label, args) => {
      const result = await importCli(args);
      expectCleanFailure(result);
      expect(result.stderr).toBe(`${FAILED}usage: npm run import-release-history -- <file.xml|directory>...\n`);
    });

    it('a missing path: exit 1 naming it, before anything is imported, even a good file named first', async () => {
      const project = projectName('before_missing');
      const good = join(workDir({ 'good.xml': renamed('token.xml', project) }), 'good.xml');
      const missing = join(tmpdir(), `opsdeck-missing-${randomUUID()}`, 'history.xml');
      expect(existsSync(missing)).toBe(false);

      const result = await importCli([good, missing]);

      expectCleanFailure(result);
      expect(result.stderr).toBe(`${FAILED}${missing}: no such file or directory\n`);
      expect(await storedVersions(project)).toBeNull();
    });
  });
});
