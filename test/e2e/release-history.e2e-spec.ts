import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, IdentityFixtures, type TestUser } from '../support/identity.js';
import { expectError, findAuditRows } from '../support/identity-assertions.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/release-history');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** A fresh project name, so tests sharing one database never see each other's imports. */
const projectName = (label: string): string => `${label}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;

/** The fixture with its short_name (and release names) turned into `name`. */
function renamed(file: string, name: string): string {
  const xml = fixture(file);
  const original = /<short_name>([a-z0-9_]+)<\/short_name>/.exec(xml)?.[1];
  if (!original) throw new Error(`${file} has no short_name`);
  return xml.replaceAll(`<short_name>${original}</short_name>`, `<short_name>${name}</short_name>`);
}

interface ImportSummary {
  project: string;
  title: string | null;
  project_status: string;
  releases: number;
  supported_branches: string[];
  sites_reevaluated: number;
}

interface Release {
  project: string;
  version: string;
  status: string;
  released_at: string | null;
  release_types: string[];
  security_covered: boolean | null;
  is_dev: boolean;
  is_pre_release: boolean;
}

/**
 * Release-history import over HTTP (issue 4, deliverable 4): the XML route, its media types, hostile XML,
 * the stored releases and who may do what.
 */
describe('release history', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let adminToken: string;
  let operator: TestUser;
  let viewer: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    adminToken = await fixtures.admin();
    const organization = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', organization.id);
    viewer = await fixtures.newUser('viewer', organization.id);
  });

  afterAll(async () => {
    await t.close();
  });

  const postXml = (xml: string, token = operator.token, contentType = 'application/xml') =>
    t.http.post('/api/v1/release-history').set(bearer(token)).set('Content-Type', contentType).send(xml);
  const getReleases = (name: string, query: Record<string, string | number> = {}, token = viewer.token) =>
    t.http.get(`/api/v1/projects/${name}/releases`).query(query).set(bearer(token));

  async function allReleases(name: string): Promise<Release[]> {
    const response = await getReleases(name, { per_page: 100 }).expect(200);
    return response.body.data as Release[];
  }

  describe('POST /api/v1/release-history', () => {
    it('imports a project and answers with a summary', async () => {
      const name = projectName('token');
      const response = await postXml(renamed('token.xml', name)).expect(200);

      expect(Object.keys(response.body).sort()).toEqual(['data', 'links', 'meta']);
      expect(response.body.data).toEqual({
        project: name,
        title: 'Token',
        project_status: 'published',
        releases: 12,
        supported_branches: ['1.3.', '2.0.'],
        sites_reevaluated: 0,
      } satisfies ImportSummary);
    });

    it('stores every release with its terms, status, date and coverage', async () => {
      const name = projectName('pathauto');
      await postXml(renamed('pathauto.xml', name)).expect(200);

      const releases = new Map((await allReleases(name)).map((release) => [release.version, release]));
      expect([...releases.keys()].sort()).toEqual(
        ['8.x-1.x-dev', '8.x-1.13', '8.x-1.12', '8.x-1.11', '8.x-1.10', '8.x-1.9', '8.x-1.8', '8.x-1.0-rc1'].sort(),
      );
      expect(releases.get('8.x-1.12')).toEqual({
        project: name,
        version: '8.x-1.12',
        status: 'published',
        released_at: new Date(1_700_800_000_000).toISOString(),
        release_types: ['Security update'],
        security_covered: true,
        is_dev: false,
        is_pre_release: false,
      });
      expect(releases.get('8.x-1.11')?.release_types).toEqual(['Bug fixes', 'Insecure']);
      expect(releases.get('8.x-1.9')?.status).toBe('unpublished');
      expect(releases.get('8.x-1.x-dev')?.is_dev).toBe(true);
      expect(releases.get('8.x-1.0-rc1')?.is_pre_release).toBe(true);
    });

    it('is idempotent: the same document twice leaves the same releases', async () => {
      const name = projectName('ctools');
      const xml = renamed('ctools.xml', name);
      const first = await postXml(xml).expect(200);
      const before = await allReleases(name);
      const second = await postXml(xml).expect(200);

      expect(second.body.data).toEqual(first.body.data);
      expect(await allReleases(name)).toEqual(before);
    });

    it('replaces the releases and the project status with the newer document', async () => {
      const name = projectName('token');
      await postXml(renamed('token.xml', name)).expect(200);
      const shorter = renamed('mollom.xml', name);

      const response = await postXml(shorter).expect(200);

      expect(response.body.data).toMatchObject({ project: name, title: 'Mollom', project_status: 'unsupported', releases: 3, supported_branches: [] });
      expect((await allReleases(name)).map((release) => release.version).sort()).toEqual(['8.x-1.0', '8.x-1.1', '8.x-1.x-dev']);
    });

    it('accepts text/xml with a charset', async () => {
      const name = projectName('spamalot');
      const response = await postXml(renamed('spamalot.xml', name), operator.token, 'text/xml; charset=utf-8').expect(200);

      expect(response.body.data).toMatchObject({ project: name, project_status: 'revoked', releases: 2 });
    });

    it('imports several projects wrapped in <projects> and answers with a list', async () => {
      const first = projectName('admin_toolbar');
      const second = projectName('metatag');
      const xml = fixture('multiple.xml')
        .replace('<short_name>admin_toolbar</short_name>', `<short_name>${first}</short_name>`)
        .replace('<short_name>metatag</short_name>', `<short_name>${second}</short_name>`);

      const response = await postXml(xml).expect(200);

      expect((response.body.data as ImportSummary[]).map((summary) => [summary.project, summary.releases])).toEqual([
        [first, 2],
        [second, 1],
      ]);
    });

    it('lets an admin import, and audits the import with the project as resource', async () => {
      const name = projectName('drupal');
      await postXml(renamed('drupal.xml', name), adminToken).expect(200);

      const rows = await findAuditRows(
        t,
        adminToken,
        { action: 'release_history.import' },
        (row) => row.resource_id === name && row.outcome === 'success',
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ resource_type: 'release_history', status_code: 200 });
      expect(rows[0]?.changes).toMatchObject({ project_status: 'published', releases: 12, supported_branches: ['10.2.', '10.3.'] });
    });
  });

  describe('hostile and malformed XML is refused and stores nothing', () => {
    it.each([
      ['billion-laughs.xml', 'laughs'],
      ['xxe-file.xml', 'xxe_file'],
      ['external-dtd.xml', 'external_dtd'],
      ['parameter-entity.xml', 'parameter_entity'],
    ])('%s: 400 RELEASE_HISTORY.FORBIDDEN_XML', async (file, name) => {
      const response = await postXml(fixture(`hostile/${file}`));

      expect(expectError(response, 400, 'RELEASE_HISTORY.FORBIDDEN_XML')).toEqual(['body']);
      expect(JSON.stringify(response.body)).not.toMatch(/root:|lollol/);
      expectError(await getReleases(name), 404, 'PROJECT.NOT_FOUND');
    });

    it('audits the refused import as a failure', async () => {
      const requestId = `relhist-${randomUUID()}`;
      await postXml(fixture('hostile/xxe-file.xml')).set('X-Request-Id', requestId).expect(400);

      const rows = await findAuditRows(t, adminToken, { action: 'release_history.import' }, (row) => row.request_id === requestId);
      expect(rows).toEqual([expect.objectContaining({ outcome: 'failure', status_code: 400, resource_type: 'release_history' })]);
    });

    it('refuses an undeclared entity and malformed XML with 400 RELEASE_HISTORY.INVALID_XML', async () => {
      expectError(await postXml(fixture('hostile/undeclared-entity.xml')), 400, 'RELEASE_HISTORY.INVALID_XML');
      const malformed = await postXml(fixture('hostile/malformed.xml'));
      expect(expectError(malformed, 400, 'RELEASE_HISTORY.INVALID_XML')).toEqual(['body']);
      expectError(await getReleases('malformed'), 404, 'PROJECT.NOT_FOUND');
    });

    it('names what is structurally wrong', async () => {
      const missing = await postXml(fixture('hostile/missing-short-name.xml'));
      expect(expectError(missing, 400, 'RELEASE_HISTORY.INVALID_DOCUMENT')).toEqual(['project.short_name']);

      const badVersions = await postXml(fixture('hostile/bad-versions.xml'));
      expect(expectError(badVersions, 400, 'RELEASE_HISTORY.INVALID_DOCUMENT')).toEqual([
        'project.supported_branches',
        'project.releases.1.version',
        'project.releases.2.status',
        'project.releases.2.date',
      ]);
      expectError(await getReleases('bad_versions'), 404, 'PROJECT.NOT_FOUND');
    });

    it('refuses a whole <projects> document when one project is bad, storing none of it', async () => {
      const good = projectName('good');
      const xml = `<projects>${renamed('token.xml', good).replace(/<\?xml[^>]*\?>/, '')}<project><title>x</title></project></projects>`;

      const response = await postXml(xml);

      expect(expectError(response, 400, 'RELEASE_HISTORY.INVALID_DOCUMENT')).toContain('projects.1.short_name');
      expectError(await getReleases(good), 404, 'PROJECT.NOT_FOUND');
    });

    it('refuses a document over 5 MiB with 413', async () => {
      const name = projectName('huge');
      const padding = `<!--${'x'.repeat(5 * 1024 * 1024)}-->`;
      const response = await postXml(renamed('token.xml', name).replace('<releases>', `${padding}<releases>`));

      expectError(response, 413);
      expectError(await getReleases(name), 404, 'PROJECT.NOT_FOUND');
    });

    it('accepts a document larger than the JSON body limit but under its own', async () => {
      const name = projectName('large');
      const padding = `<!--${'x'.repeat(4.5 * 1024 * 1024)}-->`;

      const response = await postXml(renamed('token.xml', name).replace('<releases>', `${padding}<releases>`)).expect(200);

      expect(response.body.data).toMatchObject({ project: name, releases: 12 });
    });

    it('refuses an empty body with 400', async () => {
      const response = await t.http
        .post('/api/v1/release-history')
        .set(bearer(operator.token))
        .set('Content-Type', 'application/xml')
        .send('');

      expectError(response, 400, 'RELEASE_HISTORY.EMPTY');
    });
  });

  describe('media types', () => {
    it('refuses JSON on the XML route with 415', async () => {
      const response = await t.http
        .post('/api/v1/release-history')
        .set(bearer(operator.token))
        .send({ project: 'token', releases: [] });

      expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'])('refuses %s with 415', async (type) => {
      expectError(await postXml(fixture('token.xml'), operator.token, type), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('keeps every other route JSON-only', async () => {
      const response = await t.http
        .post('/api/v1/organizations')
        .set(bearer(adminToken))
        .set('Content-Type', 'application/xml')
        .send('<organization><name>x</name></organization>');

      expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('GET /api/v1/projects/{name}/releases', () => {
    let name: string;

    beforeAll(async () => {
      name = projectName('token');
      await postXml(renamed('token.xml', name)).expect(200);
    });

    it('pages through the releases, newest first', async () => {
      const first = await getReleases(name, { page: 1, per_page: 5 }).expect(200);

      expect(first.body.meta).toMatchObject({ page: 1, per_page: 5, total: 12, total_pages: 3 });
      expect(first.body.links.next).toBe(`/api/v1/projects/${name}/releases?page=2&per_page=5`);
      const pages = [first];
      for (const page of [2, 3]) pages.push(await getReleases(name, { page, per_page: 5 }).expect(200));
      const versions = pages.flatMap((response) => (response.body.data as Release[]).map((release) => release.version));
      expect(versions).toHaveLength(12);
      expect(new Set(versions).size).toBe(12);
      const dates = pages.flatMap((response) => (response.body.data as Release[]).map((release) => release.released_at ?? ''));
      expect([...dates].sort().reverse()).toEqual(dates);
      expect(versions[0]).toBe('2.0.x-dev');
    });

    it('answers 404 for a project never imported', async () => {
      expectError(await getReleases(projectName('never')), 404, 'PROJECT.NOT_FOUND');
    });

    it.each(['Token', 'token-1', '1token', 'a'.repeat(129)])('answers 400 for the name %p', async (bad) => {
      expect(expectError(await getReleases(bad), 400, 'VALIDATION_FAILED')).toEqual(['name']);
    });

    it('refuses bad paging with 400', async () => {
      expectError(await getReleases(name, { per_page: 101 }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('who may do what', () => {
    it('refuses a viewer the import with 403 but lets them read releases', async () => {
      const name = projectName('viewer');
      expectError(await postXml(renamed('token.xml', name), viewer.token), 403);
      expectError(await getReleases(name), 404, 'PROJECT.NOT_FOUND');

      await postXml(renamed('token.xml', name)).expect(200);
      await getReleases(name, {}, viewer.token).expect(200);
    });

    it('refuses calls without credentials with 401', async () => {
      const response = await t.http.post('/api/v1/release-history').set('Content-Type', 'application/xml').send(fixture('token.xml'));
      expectError(response, 401);
      expectError(await t.http.get('/api/v1/projects/token/releases'), 401);
    });

    it('lets an operator API key import but not a key limited to one site', async () => {
      const me = await t.http.get('/api/v1/auth/me').set(bearer(operator.token)).expect(200);
      const organizationId = me.body.data.organization_id as string;
      const key = await fixtures.newApiKey({ role: 'operator', organizationId });
      const name = projectName('keyed');

      await t.http
        .post('/api/v1/release-history')
        .set('X-API-Key', key.key)
        .set('Content-Type', 'application/xml')
        .send(renamed('token.xml', name))
        .expect(200);

      const site = await fixtures.newSite(organizationId);
      const siteKey = await fixtures.newApiKey({ role: 'operator', organizationId, siteId: site.id });
      const refused = await t.http
        .post('/api/v1/release-history')
        .set('X-API-Key', siteKey.key)
        .set('Content-Type', 'application/xml')
        .send(renamed('token.xml', projectName('scoped')));
      expectError(refused, 403);
    });
  });
});
