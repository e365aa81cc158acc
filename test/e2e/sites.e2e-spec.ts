import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { expectError, findAuditRows, idsOf, items } from '../support/identity-assertions.js';
import { machineName, report, SiteClient, uniqueHost } from '../support/sites.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Site {
  id: string;
  organization_id: string;
  name: string;
  url: string;
  description: string | null;
  drupal_version: string | null;
  php_version: string | null;
  last_report_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/**
 * Sites over HTTP (issue 4, deliverable 1): CRUD, URL normalization and uniqueness, organization reach, soft
 * delete and its effects. The database may be shared with other test files: every name and host is unique and
 * no assertion counts rows it did not create (lists are narrowed by a fresh organization or a unique ?q=).
 */
describe('sites', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let client: SiteClient;
  let adminToken: string;
  let adminId: string;
  let adminOrganizationId: string;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
    client = new SiteClient(t);
    adminToken = await fixtures.admin();
    const me = await t.http.get('/api/v1/auth/me').set(bearer(adminToken)).expect(200);
    adminId = me.body.data.id as string;
    adminOrganizationId = me.body.data.organization_id as string;
  });

  afterAll(async () => {
    await t.close();
  });

  const createSite = (body: Record<string, unknown>, token = adminToken) => t.http.post('/api/v1/sites').set(bearer(token)).send(body);
  const getSite = (id: string, token = adminToken) => t.http.get(`/api/v1/sites/${id}`).set(bearer(token));
  const updateSite = (id: string, body: Record<string, unknown>, token = adminToken) =>
    t.http.put(`/api/v1/sites/${id}`).set(bearer(token)).send(body);
  const deleteSite = (id: string, token = adminToken) => t.http.delete(`/api/v1/sites/${id}`).set(bearer(token));
  const listSites = (query: Record<string, string | number>, token = adminToken) =>
    t.http.get('/api/v1/sites').query(query).set(bearer(token));
  /** The site as an admin reads it, to compare before and after a refused request. */
  const snapshot = async (id: string) => (await getSite(id).expect(200)).body.data as Site;

  async function team(): Promise<{ organization: TestOrganization; operator: TestUser; viewer: TestUser }> {
    const organization = await fixtures.newOrganization();
    const operator = await fixtures.newUser('operator', organization.id);
    const viewer = await fixtures.newUser('viewer', organization.id);
    return { organization, operator, viewer };
  }

  /** A site created as an admin with a unique host; returns the stored representation. */
  async function site(organizationId: string, overrides: Record<string, unknown> = {}): Promise<Site> {
    const response = await createSite({ name: unique('Site'), url: `https://${uniqueHost()}`, organization_id: organizationId, ...overrides });
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 201 });
    return response.body.data as Site;
  }

  describe('POST /api/v1/sites', () => {
    it('registers a site in the operator\'s own organization: 201, the envelope, every field', async () => {
      const { organization, operator } = await team();
      const name = unique('Marketing');
      const host = uniqueHost('marketing');
      const before = Date.now();
      const response = await createSite({ name: `  ${name} `, url: `https://${host}`, description: 'The main site' }, operator.token)
        .set('X-Request-Id', 'site-create-envelope')
        .expect(201);
      const after = Date.now();

      expect(Object.keys(response.body).sort()).toEqual(['data', 'links', 'meta']);
      expect(response.body.meta).toEqual({ request_id: 'site-create-envelope' });
      expect(response.body.links).toEqual({ self: '/api/v1/sites' });
      const created = response.body.data as Site;
      expect(created).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        organization_id: organization.id,
        name,
        url: `https://${host}`,
        description: 'The main site',
        drupal_version: null,
        php_version: null,
        last_report_at: null,
        created_by: operator.id,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        deleted_at: null,
      });
      for (const stamp of [created.created_at, created.updated_at]) {
        expect(new Date(stamp).toISOString()).toBe(stamp);
        expect(new Date(stamp).getTime()).toBeGreaterThanOrEqual(before - 5_000);
        expect(new Date(stamp).getTime()).toBeLessThanOrEqual(after + 5_000);
      }
      const reread = await getSite(created.id, operator.token).expect(200);
      expect(reread.body.data).toEqual(created);
      expect(reread.body.links).toEqual({ self: `/api/v1/sites/${created.id}` });
    });

    it("places an admin's site in the admin's organization unless organization_id says otherwise", async () => {
      const own = await createSite({ name: unique('Admin own'), url: `https://${uniqueHost()}` }).expect(201);
      expect(own.body.data).toMatchObject({ organization_id: adminOrganizationId, created_by: adminId, description: null });
      const organization = await fixtures.newOrganization();
      const elsewhere = await createSite({ name: unique('Admin other'), url: `https://${uniqueHost()}`, organization_id: organization.id }).expect(201);
      expect(elsewhere.body.data).toMatchObject({ organization_id: organization.id, created_by: adminId });
    });

    it('lets an operator name their own organization explicitly', async () => {
      const { organization, operator } = await team();
      const response = await createSite({ name: unique('Explicit'), url: `https://${uniqueHost()}`, organization_id: organization.id }, operator.token).expect(201);
      expect(response.body.data.organization_id).toBe(organization.id);
    });

    it('normalizes the URL: scheme and host lower-case, default port, trailing slash, query and fragment dropped, IDN to punycode', async () => {
      const id = randomUUID().slice(0, 8);
      const host = (label: string) => `${label}-${id}.example.test`;
      const cases: Array<[string, string]> = [
        [`HTTPS://${host('upper').toUpperCase()}`, `https://${host('upper')}`],
        [`https://${host('slash')}/`, `https://${host('slash')}`],
        [`https://${host('deflt')}:443/`, `https://${host('deflt')}`],
        [`http://${host('http')}:80/drupal/`, `http://${host('http')}/drupal`],
        [`http://${host('port')}:8080/`, `http://${host('port')}:8080`],
        // 80 is not https' default port, nor 443 http's.
        [`https://${host('cross')}:80`, `https://${host('cross')}:80`],
        [`http://${host('cross2')}:443`, `http://${host('cross2')}:443`],
        [`https://${host('query')}/Shop/Front//?lang=en&x=1#top`, `https://${host('query')}/Shop/Front`],
        [`https://${host('frag')}#section`, `https://${host('frag')}`],
        [`  https://${host('spaces')}/path  `, `https://${host('spaces')}/path`],
        [`https://bücher.${host('idn')}/`, `https://xn--bcher-kva.${host('idn')}`],
        [`HTTPS://BÜCHER.${host('idnup')}:443/Katalog/`, `https://xn--bcher-kva.${host('idnup')}/Katalog`],
      ];
      for (const [input, expected] of cases) {
        const response = await createSite({ name: unique('Normalized'), url: input });
        expect({ input, status: response.status, url: response.body.data?.url }).toEqual({ input, status: 201, url: expected });
        expect((await getSite(response.body.data.id as string).expect(200)).body.data.url).toBe(expected);
      }
    });

    it('refuses a URL a live site already has, in any spelling and in any organization: 409 naming url', async () => {
      const host = uniqueHost('taken');
      const existing = await site(adminOrganizationId, { url: `https://${host}/drupal` });
      const otherOrganization = await fixtures.newOrganization();
      const spellings = [
        `https://${host}/drupal`,
        `HTTPS://${host.toUpperCase()}/drupal`,
        `https://${host}/drupal/`,
        `https://${host}:443/drupal`,
        `https://${host}/drupal?page=2`,
        `https://${host}/drupal#top`,
        ` https://${host}/drupal// `,
      ];
      for (const url of spellings) {
        for (const organizationId of [adminOrganizationId, otherOrganization.id]) {
          const response = await createSite({ name: unique('Dup'), url, organization_id: organizationId });
          expect(expectError(response, 409, 'SITE.URL_TAKEN')).toEqual(['url']);
        }
      }
      // Another path on the same host, or another scheme, is another site.
      await createSite({ name: unique('Other path'), url: `https://${host}/other` }).expect(201);
      await createSite({ name: unique('Other scheme'), url: `http://${host}/drupal` }).expect(201);
      const list = await listSites({ q: `https://${host}/drupal` }).expect(200);
      expect(idsOf(list)).toEqual([existing.id]);
    });

    it('lets only one of several simultaneous registrations of one URL through; the others get 409, never 500', async () => {
      for (let round = 0; round < 3; round += 1) {
        const host = uniqueHost('race');
        const spellings = [`https://${host}`, `HTTPS://${host.toUpperCase()}/`, `https://${host}:443`, `https://${host}/?a=1`, `https://${host}#x`];
        const responses = await Promise.all(spellings.map((url) => createSite({ name: unique('Race'), url })));
        const statuses = responses.map((response) => response.status).sort();
        expect(statuses).toEqual([201, 409, 409, 409, 409]);
        for (const response of responses.filter((candidate) => candidate.status === 409)) {
          expect(expectError(response, 409, 'SITE.URL_TAKEN')).toEqual(['url']);
        }
        expect((await listSites({ q: host }).expect(200)).body.meta.total).toBe(1);
      }
    });

    it('lets only one of several simultaneous moves to one URL through; the others get 409, never 500', async () => {
      const movers = await Promise.all([1, 2, 3, 4].map(() => site(adminOrganizationId)));
      const target = `https://${uniqueHost('move-race')}`;
      const responses = await Promise.all(movers.map((mover) => updateSite(mover.id, { url: target })));
      expect(responses.map((response) => response.status).sort()).toEqual([200, 409, 409, 409]);
      for (const response of responses.filter((candidate) => candidate.status === 409)) {
        expect(expectError(response, 409, 'SITE.URL_TAKEN')).toEqual(['url']);
      }
    });

    it("lets a soft-deleted site's URL be registered again", async () => {
      const url = `https://${uniqueHost('reuse')}`;
      const first = await site(adminOrganizationId, { url });
      await deleteSite(first.id).expect(200);
      const again = await createSite({ name: unique('Reused'), url: `${url.toUpperCase()}/` }).expect(201);
      expect(again.body.data.id).not.toBe(first.id);
      expect(again.body.data.url).toBe(url);
      // The new one is live, so a third registration clashes again.
      expectError(await createSite({ name: unique('Third'), url }), 409, 'SITE.URL_TAKEN');
    });

    it('refuses URLs that are not absolute http(s) URLs without credentials: 400 naming url, nothing created', async () => {
      const marker = unique('badurl');
      const host = uniqueHost(marker);
      const invalid: unknown[] = [
        `ftp://${host}/`,
        'javascript:alert(1)',
        `mailto:ops@${host}`,
        `file:///etc/passwd`,
        `data:text/html,${marker}`,
        `https://user:secret@${host}/`,
        `https://user@${host}/`,
        `/relative/${marker}`,
        `${host}/path`,
        `//${host}/path`,
        '',
        '   ',
        'https://',
        'http://:80/',
        `https://${host}/${'a'.repeat(2048)}`,
        42,
        null,
        { href: `https://${host}` },
      ];
      for (const url of invalid) {
        const response = await createSite({ name: marker, url });
        expect({ url, status: response.status }).toEqual({ url, status: 400 });
        expect(expectError(response, 400)).toContain('url');
      }
      expect((await listSites({ q: marker }).expect(200)).body.meta.total).toBe(0);
    });

    it('accepts a URL of exactly 2,048 characters and refuses one that normalizes to more than 2,048', async () => {
      const prefix = `https://${uniqueHost('long')}/`;
      const exact = prefix + 'p'.repeat(2048 - prefix.length);
      expect(exact).toHaveLength(2048);
      const created = await createSite({ name: unique('Long'), url: exact }).expect(201);
      expect(created.body.data.url).toBe(exact);
      // Under 2,048 as typed, but spaces become %20: the stored form would not fit.
      const marker = unique('expands');
      const prefix2 = `https://${uniqueHost(marker)}/`;
      const expanding = prefix2 + 'a b'.repeat(Math.floor((2000 - prefix2.length) / 3));
      expect(expanding.length).toBeLessThanOrEqual(2048);
      const response = await createSite({ name: marker, url: expanding });
      expect(expectError(response, 400)).toEqual(['url']);
      expect((await listSites({ q: marker }).expect(200)).body.meta.total).toBe(0);
    });

    it('refuses bad bodies with 400 naming the field', async () => {
      const marker = unique('BadBody');
      const url = `https://${uniqueHost()}`;
      const cases: Array<{ body: Record<string, unknown>; field: string }> = [
        { body: { name: marker, url, unexpected: true }, field: 'unexpected' },
        { body: { name: marker, url, id: randomUUID() }, field: 'id' },
        { body: { name: marker, url, created_by: randomUUID() }, field: 'created_by' },
        { body: { name: marker, url, drupal_version: '10.2.3' }, field: 'drupal_version' },
        { body: { url }, field: 'name' },
        { body: { name: '', url }, field: 'name' },
        { body: { name: '   ', url }, field: 'name' },
        { body: { name: 'x'.repeat(201), url }, field: 'name' },
        { body: { name: 7, url }, field: 'name' },
        { body: { name: marker }, field: 'url' },
        { body: { name: marker, url, description: 5 }, field: 'description' },
        { body: { name: marker, url, description: 'd'.repeat(2001) }, field: 'description' },
        { body: { name: marker, url, organization_id: 'not-a-uuid' }, field: 'organization_id' },
      ];
      for (const { body, field } of cases) {
        const response = await createSite(body);
        expect(expectError(response, 400, 'VALIDATION_FAILED')).toContain(field);
      }
      for (const body of [[], 'text', null]) {
        const response = await t.http.post('/api/v1/sites').set(bearer(adminToken)).set('Content-Type', 'application/json').send(JSON.stringify(body));
        expectError(response, 400);
      }
      expect((await listSites({ q: marker }).expect(200)).body.meta.total).toBe(0);
    });

    it('refuses an organization out of reach: 400 SITE.ORGANIZATION_NOT_FOUND naming organization_id', async () => {
      const { operator } = await team();
      const other = await fixtures.newOrganization();
      const marker = unique('Reach');
      const refused = await createSite({ name: marker, url: `https://${uniqueHost()}`, organization_id: other.id }, operator.token);
      expect(expectError(refused, 400, 'SITE.ORGANIZATION_NOT_FOUND')).toEqual(['organization_id']);
      // Not even an admin can use an unknown or deleted organization.
      const gone = await fixtures.newOrganization();
      await t.http.delete(`/api/v1/organizations/${gone.id}`).set(bearer(adminToken)).expect(200);
      for (const organizationId of [randomUUID(), gone.id]) {
        const response = await createSite({ name: marker, url: `https://${uniqueHost()}`, organization_id: organizationId });
        expect(expectError(response, 400, 'SITE.ORGANIZATION_NOT_FOUND')).toEqual(['organization_id']);
      }
      expect((await listSites({ q: marker }).expect(200)).body.meta.total).toBe(0);
    });

    it('refuses viewers and site-limited keys with 403 and anonymous callers with 401, creating nothing', async () => {
      const { organization, viewer } = await team();
      const own = await site(organization.id);
      const siteKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: own.id });
      const viewerKey = await fixtures.newApiKey({ role: 'viewer', organizationId: organization.id });
      const marker = unique('NotAllowed');
      const body = { name: marker, url: `https://${uniqueHost()}` };
      expectError(await createSite(body, viewer.token), 403, 'FORBIDDEN');
      expectError(await t.http.post('/api/v1/sites').set('X-API-Key', viewerKey.key).send(body), 403, 'FORBIDDEN');
      expectError(await t.http.post('/api/v1/sites').set('X-API-Key', siteKey.key).send(body), 403, 'FORBIDDEN');
      expectError(await t.http.post('/api/v1/sites').send(body), 401);
      expect((await listSites({ q: marker }).expect(200)).body.meta.total).toBe(0);
    });

    it('lets an operator API key create a site in its organization', async () => {
      const { organization } = await team();
      const key = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id });
      const response = await t.http.post('/api/v1/sites').set('X-API-Key', key.key).send({ name: unique('ByKey'), url: `https://${uniqueHost()}` }).expect(201);
      expect(response.body.data).toMatchObject({ organization_id: organization.id, created_by: null });
    });
  });

  describe('GET /api/v1/sites', () => {
    it('paginates by name with meta and links, keeping the filters in the links', async () => {
      const organization = await fixtures.newOrganization();
      const names = ['alpha', 'Bravo', 'charlie', 'Delta', 'echo'].map((name) => `${name} ${unique('p')}`);
      // Created out of order: the list sorts by name, case-insensitively.
      const created = new Map<string, Site>();
      for (const name of [names[3], names[0], names[4], names[2], names[1]] as string[]) {
        created.set(name, await site(organization.id, { name }));
      }
      const expectedIds = names.map((name) => created.get(name)?.id);
      const query = (page: number) => `/api/v1/sites?organization_id=${organization.id}&page=${page}&per_page=2`;

      const first = await t.http.get(query(1)).set(bearer(adminToken)).expect(200);
      expect(Object.keys(first.body).sort()).toEqual(['data', 'links', 'meta']);
      expect(first.body.meta).toMatchObject({ page: 1, per_page: 2, total: 5, total_pages: 3 });
      expect(idsOf(first)).toEqual(expectedIds.slice(0, 2));
      expect(first.body.links).toEqual({ self: query(1), first: query(1), prev: null, next: query(2), last: query(3) });
      expect(items<Site>(first)[0]).toEqual(created.get(names[0]));

      const second = await t.http.get(first.body.links.next as string).set(bearer(adminToken)).expect(200);
      expect(idsOf(second)).toEqual(expectedIds.slice(2, 4));
      expect(second.body.links).toEqual({ self: query(2), first: query(1), prev: query(1), next: query(3), last: query(3) });
      const third = await t.http.get(query(3)).set(bearer(adminToken)).expect(200);
      expect(idsOf(third)).toEqual(expectedIds.slice(4));
      expect(third.body.links).toMatchObject({ prev: query(2), next: null });

      const beyond = await t.http.get(query(9)).set(bearer(adminToken)).expect(200);
      expect(beyond.body.data).toEqual([]);
      expect(beyond.body.meta).toMatchObject({ page: 9, total: 5, total_pages: 3 });

      const defaults = await listSites({ organization_id: organization.id }).expect(200);
      expect(defaults.body.meta).toMatchObject({ page: 1, per_page: 20, total: 5, total_pages: 1 });
      expect(idsOf(defaults)).toEqual(expectedIds);
    });

    it('shows operators and viewers only their own organization, whatever the filter; admins see all', async () => {
      const tag = unique('reach');
      const { organization, operator, viewer } = await team();
      const other = await fixtures.newOrganization();
      const mine = await site(organization.id, { name: `${tag} mine` });
      const theirs = await site(other.id, { name: `${tag} theirs` });
      const viewerKey = await fixtures.newApiKey({ role: 'viewer', organizationId: organization.id });

      for (const token of [operator.token, viewer.token]) {
        expect(idsOf(await listSites({ q: tag }, token).expect(200))).toEqual([mine.id]);
        expect(idsOf(await listSites({}, token).expect(200))).toEqual([mine.id]);
        expect(idsOf(await listSites({ organization_id: organization.id }, token).expect(200))).toEqual([mine.id]);
        const foreign = await listSites({ organization_id: other.id }, token).expect(200);
        expect(foreign.body.data).toEqual([]);
        expect(foreign.body.meta).toMatchObject({ total: 0, total_pages: 0 });
      }
      expect(idsOf(await t.http.get('/api/v1/sites').query({ q: tag }).set('X-API-Key', viewerKey.key).expect(200))).toEqual([mine.id]);
      expect(idsOf(await listSites({ q: tag }).expect(200))).toEqual([mine.id, theirs.id]);
      expect(idsOf(await listSites({ q: tag, organization_id: other.id }).expect(200))).toEqual([theirs.id]);
    });

    it('filters by ?q= on the name or the URL, case-insensitively', async () => {
      const tag = randomUUID().slice(0, 8);
      const organization = await fixtures.newOrganization();
      const byName = await site(organization.id, { name: `Shop ${tag} Frontend`, url: `https://${uniqueHost('plain')}` });
      const byHost = await site(organization.id, { name: unique('Host match'), url: `https://portal-${tag}.example.test` });
      const byPath = await site(organization.id, { name: unique('Path match'), url: `https://${uniqueHost('path')}/Intranet-${tag}/Drupal` });
      await site(organization.id);
      const list = (q: string) => listSites({ organization_id: organization.id, q }).expect(200).then(idsOf);

      expect(await list(`SHOP ${tag.toUpperCase()} front`)).toEqual([byName.id]);
      expect(await list(`PORTAL-${tag.toUpperCase()}.Example`)).toEqual([byHost.id]);
      expect(await list(`portal-${tag}`)).toEqual([byHost.id]);
      // The path keeps its case in the stored URL, yet the search ignores case on the URL as well.
      expect(await list(`intranet-${tag}/drupal`)).toEqual([byPath.id]);
      expect(await list(`Intranet-${tag}/Drupal`)).toEqual([byPath.id]);
      expect(await list(`INTRANET-${tag.toUpperCase()}`)).toEqual([byPath.id]);
      expect((await list(tag)).sort()).toEqual([byName.id, byHost.id, byPath.id].sort());
      expect(await list(`nothing-${tag}`)).toEqual([]);
    });

    it('treats LIKE metacharacters in ?q= literally', async () => {
      const tag = randomUUID().slice(0, 8);
      const organization = await fixtures.newOrganization();
      const percent = await site(organization.id, { name: `${tag} 100% uptime` });
      const underscore = await site(organization.id, { name: `${tag} a_b` });
      const plain = await site(organization.id, { name: `${tag} 100x uptime axb` });
      const backslash = await site(organization.id, { name: `${tag} back\\slash` });
      const list = (q: string) => listSites({ organization_id: organization.id, q }).expect(200).then(idsOf);

      expect(await list('%')).toEqual([percent.id]);
      expect(await list('100%')).toEqual([percent.id]);
      expect(await list('_')).toEqual([underscore.id]);
      expect(await list('a_b')).toEqual([underscore.id]);
      expect(await list('\\')).toEqual([backslash.id]);
      expect(await list('k\\s')).toEqual([backslash.id]);
      expect((await list(tag)).sort()).toEqual([percent.id, underscore.id, plain.id, backslash.id].sort());
    });

    it('refuses bad query parameters with 400', async () => {
      for (const query of ['per_page=1000', 'page=0', 'page=abc', 'per_page=0', 'organization_id=nope', 'colour=red', `q=${'q'.repeat(201)}`]) {
        const response = await t.http.get(`/api/v1/sites?${query}`).set(bearer(adminToken));
        expectError(response, 400, 'VALIDATION_FAILED');
      }
    });

    it('refuses a site-limited key with 403 and anonymous callers with 401', async () => {
      const organization = await fixtures.newOrganization();
      const own = await site(organization.id);
      const key = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: own.id });
      expectError(await t.http.get('/api/v1/sites').set('X-API-Key', key.key), 403, 'FORBIDDEN');
      expectError(await t.http.get(`/api/v1/sites/${own.id}`).set('X-API-Key', key.key), 403, 'FORBIDDEN');
      expectError(await t.http.get('/api/v1/sites'), 401);
    });
  });

  describe('GET /api/v1/sites/{site_id}', () => {
    it("shows a site to its organization's viewers and operators and to admins; another organization gets 404", async () => {
      const { organization, operator, viewer } = await team();
      const stranger = await team();
      const own = await site(organization.id);
      for (const token of [viewer.token, operator.token, adminToken]) {
        expect((await getSite(own.id, token).expect(200)).body.data).toEqual(own);
      }
      for (const token of [stranger.viewer.token, stranger.operator.token]) {
        expectError(await getSite(own.id, token), 404, 'SITE.NOT_FOUND');
      }
    });

    it('answers 404 for an unknown id and 400 naming site_id for a malformed one', async () => {
      expectError(await getSite(randomUUID()), 404, 'SITE.NOT_FOUND');
      for (const bad of ['not-a-uuid', '123', `${randomUUID()}x`]) {
        expect(expectError(await getSite(bad), 400, 'VALIDATION_FAILED')).toEqual(['site_id']);
        expect(expectError(await updateSite(bad, { name: 'x' }), 400, 'VALIDATION_FAILED')).toEqual(['site_id']);
        expect(expectError(await deleteSite(bad), 400, 'VALIDATION_FAILED')).toEqual(['site_id']);
        expect(expectError(await client.listModules(bad, { token: adminToken }), 400, 'VALIDATION_FAILED')).toEqual(['site_id']);
        expect(expectError(await client.postReport(bad, report([]), { token: adminToken }), 400, 'VALIDATION_FAILED')).toEqual(['site_id']);
      }
    });
  });

  describe('PUT /api/v1/sites/{site_id}', () => {
    it('renames (trimmed), re-addresses (normalized) and describes a site; the change is stored', async () => {
      const { organization, operator } = await team();
      const original = await site(organization.id, { description: 'old' });
      const name = unique('Renamed');
      const host = uniqueHost('moved');
      const response = await updateSite(original.id, { name: `  ${name}  `, url: `HTTPS://${host.toUpperCase()}:443/`, description: 'new' }, operator.token).expect(200);
      const updated = response.body.data as Site;
      expect(updated).toEqual({ ...original, name, url: `https://${host}`, description: 'new', updated_at: expect.any(String) });
      expect(new Date(updated.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(original.updated_at).getTime());
      expect(await snapshot(original.id)).toEqual(updated);
      // The old URL is free again.
      await createSite({ name: unique('Takes old URL'), url: original.url }).expect(201);
    });

    it('clears the description with null and leaves omitted fields alone', async () => {
      const original = await site(adminOrganizationId, { description: 'to be cleared' });
      const cleared = await updateSite(original.id, { description: null }).expect(200);
      expect(cleared.body.data).toMatchObject({ name: original.name, url: original.url, description: null });
      const untouched = await updateSite(original.id, {}).expect(200);
      expect(untouched.body.data).toMatchObject({ name: original.name, url: original.url, description: null });
      expect(await snapshot(original.id)).toMatchObject({ name: original.name, url: original.url, description: null });
    });

    it("refuses another live site's URL in any spelling with 409 naming url, but accepts its own URL re-spelt", async () => {
      const host = uniqueHost('occupied');
      const occupant = await site(adminOrganizationId, { url: `https://${host}` });
      const mover = await site(adminOrganizationId);
      for (const url of [`https://${host}`, `HTTPS://${host.toUpperCase()}/`, `https://${host}:443/?x=1`]) {
        expect(expectError(await updateSite(mover.id, { url }), 409, 'SITE.URL_TAKEN')).toEqual(['url']);
      }
      expect(await snapshot(mover.id)).toEqual(mover);
      const respelt = await updateSite(occupant.id, { url: `HTTPS://${host.toUpperCase()}:443/` }).expect(200);
      expect(respelt.body.data.url).toBe(occupant.url);
      // Once the occupant is deleted, its URL may be taken.
      await deleteSite(occupant.id).expect(200);
      expect((await updateSite(mover.id, { url: `https://${host}/` }).expect(200)).body.data.url).toBe(`https://${host}`);
    });

    it('refuses null or empty names, bad URLs, unknown fields and organization_id with 400, changing nothing', async () => {
      const original = await site(adminOrganizationId, { description: 'keep me' });
      const other = await fixtures.newOrganization();
      const cases: Array<{ body: Record<string, unknown>; field: string }> = [
        { body: { name: null }, field: 'name' },
        { body: { name: '' }, field: 'name' },
        { body: { name: '  ' }, field: 'name' },
        { body: { name: 'n'.repeat(201) }, field: 'name' },
        { body: { url: null }, field: 'url' },
        { body: { url: 'ftp://example.test' }, field: 'url' },
        { body: { url: 'javascript:alert(1)' }, field: 'url' },
        { body: { url: 'https://u:p@example.test' }, field: 'url' },
        { body: { url: '/relative' }, field: 'url' },
        { body: { url: `https://example.test/${'a'.repeat(2048)}` }, field: 'url' },
        { body: { description: 3 }, field: 'description' },
        { body: { organization_id: other.id }, field: 'organization_id' },
        { body: { name: unique('ok'), colour: 'red' }, field: 'colour' },
        { body: { id: randomUUID() }, field: 'id' },
        { body: { deleted_at: null }, field: 'deleted_at' },
      ];
      for (const { body, field } of cases) {
        const response = await updateSite(original.id, body);
        expect({ body, fields: expectError(response, 400) }).toEqual({ body, fields: expect.arrayContaining([field]) });
      }
      expect(await snapshot(original.id)).toEqual(original);
    });

    it('refuses viewers with 403 and other organizations with 404, changing nothing', async () => {
      const { organization, viewer } = await team();
      const stranger = await team();
      const own = await site(organization.id);
      expectError(await updateSite(own.id, { name: unique('By viewer') }, viewer.token), 403, 'FORBIDDEN');
      expectError(await updateSite(own.id, { name: unique('By stranger') }, stranger.operator.token), 404, 'SITE.NOT_FOUND');
      expectError(await updateSite(own.id, { name: unique('By stranger viewer') }, stranger.viewer.token), 403, 'FORBIDDEN');
      expectError(await updateSite(randomUUID(), { name: unique('Nobody') }), 404, 'SITE.NOT_FOUND');
      expect(await snapshot(own.id)).toEqual(own);
    });
  });

  describe('DELETE /api/v1/sites/{site_id}', () => {
    it('soft-deletes: 200 with deleted_at, then 404 everywhere and gone from the list', async () => {
      const { organization, operator } = await team();
      const doomed = await site(organization.id);
      const survivor = await site(organization.id);
      const before = Date.now();
      const response = await deleteSite(doomed.id, operator.token).expect(200);
      const deleted = response.body.data as Site;
      expect(deleted).toEqual({ ...doomed, updated_at: expect.any(String), deleted_at: expect.any(String) });
      expect(new Date(deleted.deleted_at as string).toISOString()).toBe(deleted.deleted_at);
      expect(new Date(deleted.deleted_at as string).getTime()).toBeGreaterThanOrEqual(before - 5_000);

      expectError(await getSite(doomed.id), 404, 'SITE.NOT_FOUND');
      expectError(await getSite(doomed.id, operator.token), 404, 'SITE.NOT_FOUND');
      expectError(await updateSite(doomed.id, { name: unique('Zombie') }), 404, 'SITE.NOT_FOUND');
      expectError(await deleteSite(doomed.id), 404, 'SITE.NOT_FOUND');
      expectError(await client.listModules(doomed.id, { token: adminToken }), 404, 'SITE.NOT_FOUND');
      expectError(await client.postReport(doomed.id, report([{ name: machineName(), version: '1.0.0' }]), { token: adminToken }), 404, 'SITE.NOT_FOUND');
      expect(idsOf(await listSites({ organization_id: organization.id }).expect(200))).toEqual([survivor.id]);
      expect(idsOf(await listSites({ q: doomed.name }).expect(200))).toEqual([]);
    });

    it('revokes the API keys limited to the site: they get 401 from then on; other keys keep working', async () => {
      const organization = await fixtures.newOrganization();
      const doomed = await site(organization.id);
      const kept = await site(organization.id);
      const doomedKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: doomed.id });
      const keptKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: kept.id });
      const orgKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id });
      const body = report([{ name: machineName(), version: '8.x-1.0' }]);
      await client.postReport(doomed.id, body, { apiKey: doomedKey.key }).expect(200);

      await deleteSite(doomed.id).expect(200);
      expectError(await client.postReport(doomed.id, body, { apiKey: doomedKey.key }), 401);
      expectError(await t.http.get('/api/v1/auth/me').set('X-API-Key', doomedKey.key), 401);
      await client.postReport(kept.id, body, { apiKey: keptKey.key }).expect(200);
      await t.http.get('/api/v1/sites').set('X-API-Key', orgKey.key).expect(200);
      // A new key cannot be limited to the deleted site.
      const refused = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(adminToken))
        .send({ name: unique('key'), role: 'operator', organization_id: organization.id, site_id: doomed.id });
      expect(expectError(refused, 400, 'API_KEY.SITE_NOT_FOUND')).toEqual(['site_id']);
    });

    it('refuses viewers with 403 and other organizations with 404, deleting nothing', async () => {
      const { organization, viewer } = await team();
      const stranger = await team();
      const own = await site(organization.id);
      expectError(await deleteSite(own.id, viewer.token), 403, 'FORBIDDEN');
      expectError(await deleteSite(own.id, stranger.operator.token), 404, 'SITE.NOT_FOUND');
      expectError(await deleteSite(randomUUID()), 404, 'SITE.NOT_FOUND');
      expect(await snapshot(own.id)).toEqual(own);
      expectError(await client.listModules(own.id, { token: stranger.viewer.token }), 404, 'SITE.NOT_FOUND');
      expectError(
        await client.postReport(own.id, report([{ name: machineName(), version: '1.0.0' }]), { token: stranger.operator.token }),
        404,
        'SITE.NOT_FOUND',
      );
    });
  });

  describe('organization soft delete', () => {
    it("takes the organization's sites with it: gone from GET and the list, URLs free, their keys revoked", async () => {
      const { organization, operator } = await team();
      const a = await site(organization.id);
      const b = await site(organization.id);
      const bystander = await site(adminOrganizationId);
      const siteKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: a.id });
      const moduleName = machineName('cascade');
      await client.postReport(a.id, report([{ name: moduleName, version: '2.0.0' }]), { apiKey: siteKey.key }).expect(200);
      const modules = await client.listModules(a.id, { token: adminToken }).expect(200);
      const moduleId = modules.body.data[0].module_id as string;

      await t.http.delete(`/api/v1/organizations/${organization.id}`).set(bearer(adminToken)).expect(200);

      for (const gone of [a, b]) {
        expectError(await getSite(gone.id), 404, 'SITE.NOT_FOUND');
        expectError(await client.listModules(gone.id, { token: adminToken }), 404, 'SITE.NOT_FOUND');
        expectError(await updateSite(gone.id, { name: unique('Zombie') }), 404, 'SITE.NOT_FOUND');
        expectError(await deleteSite(gone.id), 404, 'SITE.NOT_FOUND');
        expect(idsOf(await listSites({ q: gone.name }).expect(200))).toEqual([]);
      }
      expect(idsOf(await listSites({ organization_id: organization.id }).expect(200))).toEqual([]);
      expectError(await getSite(a.id, operator.token), 401);
      expectError(await client.postReport(a.id, report([]), { apiKey: siteKey.key }), 401);
      await getSite(bystander.id).expect(200);
      // The module's only site is gone: an admin sees no versions of it any more.
      const versions = await client.listVersions(moduleId, { token: adminToken }).expect(200);
      expect(versions.body.data).toEqual([]);
      // The URLs may be registered again elsewhere.
      await createSite({ name: unique('Reborn'), url: a.url }).expect(201);
    });
  });

  describe('audit', () => {
    it('records site.create, site.update and site.delete with the actor, the site and the changes', async () => {
      const { organization, operator } = await team();
      const name = unique('Audited');
      const created = await createSite({ name, url: `https://${uniqueHost('audited')}` }, operator.token).expect(201);
      const id = created.body.data.id as string;
      const renamed = unique('Audited renamed');
      await updateSite(id, { name: renamed }, operator.token).expect(200);
      await deleteSite(id, operator.token).expect(200);

      const [createRow] = await findAuditRows(t, adminToken, { resource_type: 'site', action: 'site.create' }, (row) => row.resource_id === id);
      expect(createRow).toMatchObject({
        actor: { type: 'user', id: operator.id, label: operator.email },
        action: 'site.create',
        resource_type: 'site',
        resource_id: id,
        outcome: 'success',
        status_code: 201,
        changes: { name, url: created.body.data.url, organization_id: organization.id },
      });
      const [updateRow] = await findAuditRows(t, adminToken, { resource_type: 'site', action: 'site.update' }, (row) => row.resource_id === id);
      expect(updateRow).toMatchObject({
        actor: { type: 'user', id: operator.id },
        outcome: 'success',
        status_code: 200,
        changes: { name: { from: name, to: renamed } },
      });
      const [deleteRow] = await findAuditRows(t, adminToken, { resource_type: 'site', action: 'site.delete' }, (row) => row.resource_id === id);
      expect(deleteRow).toMatchObject({ actor: { type: 'user', id: operator.id }, outcome: 'success', status_code: 200 });
      // One row per action, not one from the service and another from the route.
      for (const action of ['site.create', 'site.update', 'site.delete']) {
        const rows = await findAuditRows(t, adminToken, { resource_type: 'site', action }, (row) => row.resource_id === id, { waitMs: 300 });
        expect({ action, rows: rows.length }).toEqual({ action, rows: 1 });
      }
    });

    it('records refused site changes as failures', async () => {
      const { organization, viewer } = await team();
      const own = await site(organization.id);
      expectError(await deleteSite(own.id, viewer.token), 403, 'FORBIDDEN');
      const rows = await findAuditRows(
        t,
        adminToken,
        { resource_type: 'site', action: 'site.delete', status: 'failure' },
        (row) => row.resource_id === own.id,
      );
      expect(rows[0]).toMatchObject({ actor: { type: 'user', id: viewer.id }, outcome: 'failure', status_code: 403 });
    });
  });
});
