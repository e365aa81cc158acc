import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type supertest from 'supertest';
import type { Principal } from '../../src/auth/principal.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { fakeLxc, type FakeLxc } from '../support/fake-lxc.js';
import { FakeLxcHostModule } from '../support/fake-lxc-host.module.js';
import { bearer, IdentityFixtures, unique, type TestOrganization, type TestUser } from '../support/identity.js';
import { expectError } from '../support/identity-assertions.js';
import { IdracFleet } from '../support/idrac-simulator/fleet.js';
import type { IdracSimulator } from '../support/idrac-simulator/idrac-simulator.js';
import { startTestApp, TEST_ADMIN, type TestApp } from '../support/test-app.js';

/**
 * The BOLA/BFLA matrix (issue 3, acceptance): every resource route of the OpenAPI document, called by every
 * kind of caller, against resources of organization A. Lower roles are refused with 403 (function level),
 * another organization's resource answers 404 (object level, and exactly as an id that does not exist would),
 * no credentials answer 401, and a refused call changes nothing: what it could have changed is read as an
 * admin before and after and compared. Calls that succeed work on throw-away resources, so the cases do not
 * depend on each other's order. The database may be shared with other test files: every name carries this
 * run's prefix and no assertion counts rows it did not create.
 *
 * A new route in the document fails the first test until MATRIX declares who may call it.
 */

// ------------------------------------------------------------------------------------------------ the matrix

const CALLERS = [
  'A-operator',
  'A-viewer',
  'A-operator-key',
  'A-viewer-key',
  'B-operator',
  'B-viewer',
  'B-operator-key',
  'B-viewer-key',
  'admin',
  'none',
] as const;
type CallerName = (typeof CALLERS)[number];

/** The status each caller must get; null where the scenario has no meaning for that caller (a key has no "self"). */
type Expected = 200 | 201 | 202 | 401 | 403 | 404 | 409 | 422 | null;
type Row = readonly [Expected, Expected, Expected, Expected, Expected, Expected, Expected, Expected, Expected, Expected];

const n = null;

/**
 * "METHOD path" as in the OpenAPI document, optionally followed by " #variant" when one route needs more than
 * one scenario. Admins are global (README: "Admins are global"); operators and viewers, and their organizations'
 * keys, only read their own organization and its users; everything else here is admin-only, except that every
 * user may update their own profile (not role, organization or deletion) and every caller may ask who it is.
 */
// prettier-ignore
const MATRIX: Readonly<Record<string, Row>> = {
  //                                                      A-op  A-vw  A-opK A-vwK B-op  B-vw  B-opK B-vwK admin none
  'POST /api/v1/organizations':                          [403,  403,  403,  403,  403,  403,  403,  403,  201,  401],
  'GET /api/v1/organizations':                           [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'GET /api/v1/organizations/{org_id}':                  [200,  200,  200,  200,  404,  404,  404,  404,  200,  401],
  'PUT /api/v1/organizations/{org_id}':                  [403,  403,  403,  403,  403,  403,  403,  403,  200,  401],
  'DELETE /api/v1/organizations/{org_id}':               [403,  403,  403,  403,  403,  403,  403,  403,  200,  401],
  'POST /api/v1/users/add':                              [403,  403,  403,  403,  403,  403,  403,  403,  201,  401],
  'GET /api/v1/users':                                   [403,  403,  403,  403,  403,  403,  403,  403,  200,  401],
  'GET /api/v1/users/{user_id}':                         [200,  200,  200,  200,  404,  404,  404,  404,  200,  401],
  'PUT /api/v1/users/update/{user_id}':                  [403,  403,  403,  403,  404,  404,  404,  404,  200,  401],
  'PUT /api/v1/users/update/{user_id} #self':            [200,  200,  n,    n,    200,  200,  n,    n,    200,  401],
  'PUT /api/v1/users/update/{user_id} #self-escalate':   [403,  403,  n,    n,    403,  403,  n,    n,    200,  401],
  'DELETE /api/v1/users/delete/{user_id}':               [403,  403,  403,  403,  403,  403,  403,  403,  200,  401],
  'POST /api/v1/api-keys':                               [403,  403,  403,  403,  403,  403,  403,  403,  201,  401],
  'GET /api/v1/api-keys':                                [403,  403,  403,  403,  403,  403,  403,  403,  200,  401],
  'DELETE /api/v1/api-keys/{id}':                        [403,  403,  403,  403,  403,  403,  403,  403,  200,  401],
  'GET /api/v1/audit-logs':                              [403,  403,  403,  403,  403,  403,  403,  403,  200,  401],
  'GET /api/v1/auth/me':                                 [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'POST /api/v1/auth/logout':                            [200,  200,  422,  422,  200,  200,  422,  422,  200,  401],
  'GET /api/metrics':                                    [403,  403,  403,  403,  403,  403,  403,  403,  200,  401],
  // Sites: operators (and their keys) manage their organization's sites, viewers read them.
  'POST /api/v1/sites':                                  [201,  403,  201,  403,  201,  403,  201,  403,  201,  401],
  'GET /api/v1/sites':                                   [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'GET /api/v1/sites/{site_id}':                         [200,  200,  200,  200,  404,  404,  404,  404,  200,  401],
  'PUT /api/v1/sites/{site_id}':                         [200,  403,  200,  403,  404,  403,  404,  403,  200,  401],
  'DELETE /api/v1/sites/{site_id}':                      [200,  403,  200,  403,  404,  403,  404,  403,  200,  401],
  'POST /api/v1/sites/{site_id}/modules':                [200,  403,  200,  403,  404,  403,  404,  403,  200,  401],
  'GET /api/v1/sites/{site_id}/modules':                 [200,  200,  200,  200,  404,  404,  404,  404,  200,  401],
  'GET /api/v1/modules/{module_id}/versions':            [200,  200,  200,  200,  404,  404,  404,  404,  200,  401],
  'POST /api/v1/sites/{site_id}/patch-run':              [201,  403,  201,  403,  404,  403,  404,  403,  201,  401],
  'GET /api/v1/sites/{site_id}/patch-run':               [200,  200,  200,  200,  404,  404,  404,  404,  200,  401],
  // Release histories are public drupal.org data shared by every organization: operators import, everyone reads.
  'POST /api/v1/release-history':                        [200,  403,  200,  403,  200,  403,  200,  403,  200,  401],
  'GET /api/v1/projects/{name}/releases':                [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  // Reports cover the sites in reach: organization B's callers get a report without A's sites.
  'GET /api/v1/reports/module-updates':                  [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'GET /api/v1/reports/patch-run':                       [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  // Operations are read by every role and cancelled by operators. Like the containers and iDRACs they act on they
  // are not organization-scoped; another organization's caller sees who asked for one as null.
  'GET /api/v1/operations':                              [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'GET /api/v1/operations/{operation_id}':               [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'GET /api/v1/operations/{operation_id}/wait':          [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'DELETE /api/v1/operations/{operation_id}':            [200,  403,  200,  403,  200,  403,  200,  403,  200,  401],
  'DELETE /api/v1/operations/{operation_id} #running':   [409,  403,  409,  403,  409,  403,  409,  403,  409,  401],
  'DELETE /api/v1/operations/{operation_id} #ended':     [409,  403,  409,  403,  409,  403,  409,  403,  409,  401],
  // The host's containers belong to no organization: viewers read, operators act (202 and an operation).
  'GET /api/v1/containers':                              [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'POST /api/v1/containers':                             [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
  'GET /api/v1/containers/{name}':                       [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'DELETE /api/v1/containers/{name}':                    [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
  'POST /api/v1/containers/{name}/restart':              [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
  'POST /api/v1/containers/{name}/start':                [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
  'POST /api/v1/containers/{name}/stop':                 [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
  'POST /api/v1/containers/{name}/connect':              [200,  403,  200,  403,  200,  403,  200,  403,  200,  401],
  'POST /api/v1/containers/{name}/authkey':              [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
  'POST /api/v1/containers/{name}/portforward':          [201,  403,  201,  403,  201,  403,  201,  403,  201,  401],
  'GET /api/v1/containers/{name}/portforward':           [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'DELETE /api/v1/containers/{name}/portforward/{rule}': [200,  403,  200,  403,  200,  403,  200,  403,  200,  401],
  'GET /api/v1/images':                                  [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'POST /api/v1/network/setup':                          [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
  // iDRAC keys, servers and deployments belong to no organization either: viewers read, operators act.
  'POST /api/v1/idrac/keys':                             [201,  403,  201,  403,  201,  403,  201,  403,  201,  401],
  'GET /api/v1/idrac/keys':                              [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'GET /api/v1/idrac/keys/{id}':                         [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'DELETE /api/v1/idrac/keys/{id}':                      [200,  403,  200,  403,  200,  403,  200,  403,  200,  401],
  'POST /api/v1/idrac/servers':                          [201,  403,  201,  403,  201,  403,  201,  403,  201,  401],
  'GET /api/v1/idrac/servers':                           [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'GET /api/v1/idrac/servers/{id}':                      [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'PUT /api/v1/idrac/servers/{id}':                      [200,  403,  200,  403,  200,  403,  200,  403,  200,  401],
  'DELETE /api/v1/idrac/servers/{id}':                   [200,  403,  200,  403,  200,  403,  200,  403,  200,  401],
  'POST /api/v1/idrac/servers/{id}/test':                [200,  403,  200,  403,  200,  403,  200,  403,  200,  401],
  'POST /api/v1/idrac/deployments':                      [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
  'GET /api/v1/idrac/deployments/{id}':                  [200,  200,  200,  200,  200,  200,  200,  200,  200,  401],
  'POST /api/v1/idrac/revocations':                      [202,  403,  202,  403,  202,  403,  202,  403,  202,  401],
};

/** Routes that need no credentials at all; they are not resource routes and have their own tests. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['GET /api/health', 'GET /api/v1/health', 'POST /api/v1/auth/login']);

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
const routeOf = (scenario: string): string => scenario.split(' #')[0];
const expectedFor = (scenario: string, caller: CallerName): Expected => MATRIX[scenario][CALLERS.indexOf(caller)];

// ------------------------------------------------------------------------------------------------ the cases

type Method = 'get' | 'post' | 'put' | 'delete';

interface Caller {
  readonly name: CallerName;
  readonly headers: Record<string, string>;
  /** 'A', 'B', or null for the admin (of the Default organization) and for no credentials. */
  readonly org: 'A' | 'B' | null;
  readonly organizationId: string | null;
  /** The user behind a bearer token (null for keys and no credentials). */
  readonly user: TestUser | null;
  readonly kind: 'user' | 'api_key' | 'none';
}

interface Case {
  readonly method: Method;
  readonly path: string;
  /** JSON, or a string sent with the Content-Type given in headers. */
  readonly body?: Record<string, unknown> | string;
  /** Replaces the caller's credentials (logout works on a fresh token of the same user). */
  readonly headers?: Record<string, string>;
  /** The same request for an id that does not exist: callers outside A must not tell the two apart. */
  readonly unknownPath?: string;
  /** What this call could change, read as an admin; compared before and after a refused call. */
  snapshot(): Promise<unknown>;
  /** After an allowed call: it did what it says, and only for what the caller may see. */
  verify?(response: supertest.Response): Promise<void> | void;
  /** After a refused call, once the snapshots compared equal: any further evidence that nothing happened. */
  stillIntact?(): Promise<void>;
}

type Arrange = (caller: Caller, expected: Exclude<Expected, null>) => Promise<Case> | Case;

interface Operation {
  readonly id: string;
  readonly type: string;
  readonly status: string;
  readonly resource: { readonly type: string; readonly id: string };
  readonly result: Record<string, unknown> | null;
  readonly requested_by: { readonly kind: string; readonly id: string | null; readonly label: string | null };
  readonly started_at: string | null;
}

describe('access matrix (BOLA/BFLA): every resource route × every kind of caller', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let adminToken: string;
  let adminId: string;
  const prefix = unique('matrix');
  let orgA: TestOrganization;
  let orgB: TestOrganization;
  const callers = new Map<CallerName, Caller>();
  // Containers run on the fake LXC tool set, iDRAC calls go to one simulated iDRAC.
  let fake: FakeLxc;
  let fleet: IdracFleet;
  const idracPassword = `calvin-${randomUUID()}`;
  /** A running container with an address and one port forward: read by every case, the target of refusals. */
  let sharedContainer: string;
  const sharedForward = 'shared-ssh';
  /** A container create by A's operator that has ended. */
  let endedOperation: Operation;
  let sharedIdracKey: { id: string; name: string; public_key: string };
  let sharedIdracServer: string;
  const sharedIdracTag = `${prefix}-shared`;
  /** A finished deployment (its id, not its operation's), made by the admin. */
  let sharedDeployment: string;

  let siteA: string;
  /** A module that only siteA runs. */
  let moduleOfA: string;
  /** A project whose release history is imported. */
  const knownProject = `m_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

  beforeAll(async () => {
    fake = fakeLxc();
    fleet = await IdracFleet.start({ count: 1, password: idracPassword });
    t = await startTestApp({
      env: {
        // Operations left running under this instance's name are interrupted when an instance of that name starts.
        INSTANCE_NAME: unique('matrix-instance'),
        LXC_PATH: fake.lxcPath,
        LXC_TOOLS_PATH: fake.toolsPath,
        SECRETS_MASTER_KEY: randomBytes(32).toString('hex'),
        IDRAC_CONNECT_TIMEOUT_MS: '2000',
        IDRAC_COMMAND_TIMEOUT_MS: '2000',
        IDRAC_KEY_GENERATION_PER_MINUTE: '1000',
        // Two gated operations fill the queue, so the next one stays pending.
        OPERATIONS_MAX_RUNNING: '2',
      },
      extraModules: [FakeLxcHostModule.with(fake.hostOptions)],
    });
    fixtures = new IdentityFixtures(t);
    adminToken = await fixtures.admin();
    adminId = (await t.http.get('/api/v1/auth/me').set(bearer(adminToken)).expect(200)).body.data.id as string;
    orgA = await fixtures.newOrganization(`${prefix}-A`);
    orgB = await fixtures.newOrganization(`${prefix}-B`);
    for (const [org, organization] of [['A', orgA], ['B', orgB]] as const) {
      for (const role of ['operator', 'viewer'] as const) {
        const user = await fixtures.newUser(role, organization.id);
        callers.set(`${org}-${role}`, { name: `${org}-${role}`, headers: bearer(user.token), org, organizationId: organization.id, user, kind: 'user' });
        const key = await fixtures.newApiKey({ role, organizationId: organization.id });
        callers.set(`${org}-${role}-key`, {
          name: `${org}-${role}-key`,
          headers: { 'X-API-Key': key.key },
          org,
          organizationId: organization.id,
          user: null,
          kind: 'api_key',
        });
      }
    }
    const adminOrganizationId = (await t.http.get('/api/v1/auth/me').set(bearer(adminToken)).expect(200)).body.data
      .organization_id as string;
    callers.set('admin', {
      name: 'admin',
      headers: bearer(adminToken),
      org: null,
      organizationId: adminOrganizationId,
      user: { id: adminId, email: TEST_ADMIN.email, password: TEST_ADMIN.password, role: 'admin', organizationId: adminOrganizationId, token: adminToken },
      kind: 'user',
    });
    callers.set('none', { name: 'none', headers: {}, org: null, organizationId: null, user: null, kind: 'none' });
    siteA = (await fixtures.newSite(orgA.id, `${prefix}-site-A`)).id;
    const report = await t.http
      .post(`/api/v1/sites/${siteA}/modules`)
      .set(bearer(adminToken))
      .send({ drupal_version: '10.2.3', modules: [{ name: machineName(), version: '8.x-1.0', security_update: true }] });
    expect(report.status).toBe(200);
    const run = await t.http
      .post(`/api/v1/sites/${siteA}/patch-run`)
      .set(bearer(adminToken))
      .send({ started_at: new Date(Date.now() - 120_000).toISOString(), finished_at: new Date(Date.now() - 60_000).toISOString(), status: 'failed', updates: [] });
    expect(run.status).toBe(201);
    await t.http
      .post('/api/v1/release-history')
      .set(bearer(adminToken))
      .set('Content-Type', 'application/xml')
      .send(releaseHistoryXml(knownProject))
      .expect(200);
    moduleOfA = ((await t.http.get(`/api/v1/sites/${siteA}/modules`).set(bearer(adminToken)).expect(200)).body.data as Array<{
      module_id: string;
    }>)[0].module_id;

    sharedContainer = await throwAwayContainer();
    await addPortForward(sharedContainer, sharedForward);
    const created = await t.http
      .post('/api/v1/containers')
      .set(callers.get('A-operator')!.headers)
      .send({ name: containerName(), template: 'busybox', start: false });
    expect(created.status).toBe(202);
    endedOperation = await ended(created.body.data.id as string);
    expect(endedOperation.status).toBe('succeeded');
    sharedIdracKey = await throwAwayIdracKey();
    sharedIdracServer = await throwAwayIdracServer([sharedIdracTag]);
    const deployed = await deployAsAdmin(sharedIdracKey.id, sharedIdracServer);
    sharedDeployment = deployed.resource.id;
  });

  afterAll(async () => {
    for (const release of [...closedGates]) release();
    await t?.close();
    fake?.cleanup();
    await fleet?.stop();
  });

  // -------------------------------------------------------------------------------------------- admin reads

  const asAdmin = (method: Method, path: string) => t.http[method](path).set(bearer(adminToken));

  const readOk = async (path: string, query: Record<string, string | number> = {}): Promise<supertest.Response> => {
    const response = await asAdmin('get', path).query(query);
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
    return response;
  };

  /** Organization A and all its users (deleted ones too), as an admin sees them. */
  const tenantA = async () => {
    const users = (await readOk('/api/v1/users', { organization_id: orgA.id, include_deleted: 'true', per_page: 100 })).body;
    return {
      organization: (await readOk(`/api/v1/organizations/${orgA.id}`)).body.data,
      users: { total: users.meta.total as number, data: users.data as unknown },
    };
  };

  const readUser = async (id: string) => (await readOk(`/api/v1/users/${id}`)).body.data as Record<string, unknown>;

  const readOrganization = async (id: string) => {
    const response = await asAdmin('get', `/api/v1/organizations/${id}`);
    return { status: response.status, data: response.body.data as Record<string, unknown> | undefined };
  };

  /** Live organizations whose name contains this run's prefix. */
  const organizationsOfRun = async () => {
    const body = (await readOk('/api/v1/organizations', { name: prefix, per_page: 100 })).body;
    return { total: body.meta.total as number, ids: (body.data as Array<{ id: string }>).map((o) => o.id).sort() };
  };

  const apiKeyTotal = async () => (await readOk('/api/v1/api-keys', { per_page: 1 })).body.meta.total as number;

  /** One API key as the admin list shows it (newest first: a key made for this case is on the first page). */
  const readApiKey = async (id: string): Promise<Record<string, unknown>> => {
    for (let page = 1; page <= 50; page += 1) {
      const body = (await readOk('/api/v1/api-keys', { page, per_page: 100 })).body;
      const found = (body.data as Array<Record<string, unknown>>).find((key) => key.id === id);
      if (found) return found;
      if (page >= (body.meta.total_pages as number)) break;
    }
    throw new Error(`API key ${id} is not in the admin's list`);
  };

  const apiKeysNamed = async (name: string) =>
    ((await readOk('/api/v1/api-keys', { per_page: 100 })).body.data as Array<{ name: string }>).filter((k) => k.name === name);

  /** A user of A made for one case, through the API as an admin (no login: one password hash is enough). */
  const throwAwayUser = async (role: 'operator' | 'viewer' = 'viewer'): Promise<string> => {
    const response = await asAdmin('post', '/api/v1/users/add').send({
      email: `${unique(`${prefix}-target`)}@example.test`,
      password: `pw-${randomUUID()}`,
      role,
      organization_id: orgA.id,
    });
    expect(response.status).toBe(201);
    return response.body.data.id as string;
  };

  const unknownId = (): string => randomUUID();

  /** A site of A made for one case, as an admin. */
  const throwAwaySite = async (): Promise<string> => (await fixtures.newSite(orgA.id, unique(`${prefix}-site`))).id;

  const readSite = async (id: string) => {
    const response = await asAdmin('get', `/api/v1/sites/${id}`);
    return { status: response.status, data: response.body.data as Record<string, unknown> | undefined };
  };

  const sitesOfA = async () => {
    const body = (await readOk('/api/v1/sites', { organization_id: orgA.id, per_page: 100 })).body;
    return { total: body.meta.total as number, data: body.data as unknown };
  };

  const modulesOf = async (siteId: string) => (await readOk(`/api/v1/sites/${siteId}/modules`, { per_page: 100 })).body.data as unknown;

  const patchRunsOf = async (siteId: string) =>
    (await readOk(`/api/v1/sites/${siteId}/patch-run`, { per_page: 100 })).body.data as unknown;

  /** Machine names are lower-case letters, digits and underscores. */
  const machineName = (): string => `m_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

  /** A one-release history in the updates.drupal.org format. */
  const releaseHistoryXml = (project: string): string =>
    `<?xml version="1.0" encoding="utf-8"?><project><title>${project}</title><short_name>${project}</short_name>` +
    '<supported_branches>1.0.</supported_branches><project_status>published</project_status><releases><release>' +
    `<name>${project} 1.0.1</name><version>1.0.1</version><status>published</status><date>1700000000</date>` +
    '<terms><term><name>Release type</name><value>Bug fixes</value></term></terms></release></releases></project>';

  const releasesOf = async (project: string) => {
    const response = await asAdmin('get', `/api/v1/projects/${project}/releases`);
    return { status: response.status, data: response.body.data as unknown };
  };
  const isSuccess = (status: number): boolean => status >= 200 && status < 300;

  // ------------------------------------------------------------------- operations, containers and iDRACs

  /** An operation as an admin sees it once it has ended (or after 20 s). */
  const ended = async (operationId: string): Promise<Operation> =>
    (await readOk(`/api/v1/operations/${operationId}/wait`, { timeout: 20 })).body.data as Operation;

  const readOperation = async (operationId: string): Promise<Operation> =>
    (await readOk(`/api/v1/operations/${operationId}`)).body.data as Operation;

  /** A 202: the operation in data and at Location; answers it once it has ended. */
  const acceptedOperation = async (response: supertest.Response, type: string): Promise<Operation> => {
    expect(response.body.data).toMatchObject({ type, status: expect.stringMatching(/^(pending|running|succeeded)$/) });
    expect(response.headers.location).toBe(`/api/v1/operations/${response.body.data.id}`);
    return ended(response.body.data.id as string);
  };

  /** The operations on one resource (a container's name), as ids and statuses. */
  const operationsOn = async (resourceId: string) =>
    ((await readOk('/api/v1/operations', { resource_id: resourceId, per_page: 100 })).body.data as Operation[]).map(
      (operation) => ({ id: operation.id, status: operation.status }),
    );

  /** Who asked for the ended operation (A's operator), as this caller may see it: only A's callers and admins may. */
  const requesterAsSeenBy = (caller: Caller) => {
    const requester = callers.get('A-operator')!.user!;
    return caller.org === 'B'
      ? { kind: 'user', id: null, label: null }
      : { kind: 'user', id: requester.id, label: requester.email };
  };

  /** Releases of the gated operations still closed; afterAll opens whatever a failed case left closed. */
  const closedGates = new Set<() => void>();

  /** An operation submitted in-process (no route of its own) whose run waits until it is released. */
  const gatedOperation = async (): Promise<{ id: string; release: () => void }> => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const release = () => {
      closedGates.delete(release);
      open();
    };
    closedGates.add(release);
    const admin = callers.get('admin')!;
    const principal: Principal = {
      kind: 'user',
      id: adminId,
      label: TEST_ADMIN.email,
      role: 'admin',
      organizationId: admin.organizationId,
      siteId: null,
    };
    const operation = await t.opsdeck.app.get(OperationsService).submit(principal, {
      type: 'matrix.gate',
      resource: { type: 'matrix', id: unique(prefix) },
      run: async () => {
        await opened;
        return { released: true };
      },
    });
    return { id: operation.id, release };
  };

  /** A gated operation that stays pending: gated ones ahead of it hold every slot of the queue. */
  const pendingOperation = async () => {
    const ahead: Array<{ id: string; release: () => void }> = [];
    for (let slot = 0; slot < t.opsdeck.config.operations.max_running; slot += 1) ahead.push(await gatedOperation());
    const target = await gatedOperation();
    expect(await readOperation(target.id)).toMatchObject({ status: 'pending', may_cancel: true });
    return {
      id: target.id,
      /** Opens every gate and waits for the operations ahead of it to end. */
      releaseAll: async () => {
        for (const gate of [...ahead, target]) gate.release();
        for (const gate of ahead) expect(await ended(gate.id)).toMatchObject({ status: 'succeeded' });
      },
    };
  };

  const runningOperation = async () => {
    const target = await gatedOperation();
    for (let attempt = 0; attempt < 100 && (await readOperation(target.id)).status !== 'running'; attempt += 1) await sleep(50);
    expect(await readOperation(target.id)).toMatchObject({ status: 'running', may_cancel: false });
    return target;
  };

  let lastAddress = 100;
  let lastHostPort = 20_000;
  const containerName = (): string => unique(`${prefix}-c`);
  /** Addresses are only unique within this file's fake host. */
  const nextAddress = (): string => {
    lastAddress += 1;
    if (lastAddress > 254) throw new Error('the matrix ran out of container addresses');
    return `10.0.3.${lastAddress}/24`;
  };
  const nextHostPort = (): number => (lastHostPort += 1);

  /** A container made for one case, as an admin, with an address: running, or stopped with `start: false`. */
  const throwAwayContainer = async (start = true): Promise<string> => {
    const name = containerName();
    const accepted = await asAdmin('post', '/api/v1/containers').send({ name, template: 'busybox', ipv4: nextAddress(), start });
    expect(accepted.status).toBe(202);
    expect(await ended(accepted.body.data.id as string)).toMatchObject({ status: 'succeeded' });
    return name;
  };

  /**
   * Removes a throw-away container from the fake host once its case is done, behind the API's back (the delete route
   * has its own cases): the fake lists containers one process each, so every container left slows every later call.
   */
  const discardContainer = (name: string): void => {
    fake.setState(name, 'STOPPED');
    rmSync(join(fake.lxcPath, name), { recursive: true, force: true });
  };

  const addPortForward = async (container: string, rule: string): Promise<void> => {
    const response = await asAdmin('post', `/api/v1/containers/${container}/portforward`).send({
      name: rule,
      protocol: 'tcp',
      host_port: nextHostPort(),
      container_port: 22,
    });
    expect(response.status).toBe(201);
  };

  const readContainer = async (name: string) => {
    const response = await asAdmin('get', `/api/v1/containers/${name}`);
    return { status: response.status, data: response.body.data as Record<string, unknown> | undefined };
  };

  const portForwardsOf = async (name: string) => {
    const response = await asAdmin('get', `/api/v1/containers/${name}/portforward`);
    return { status: response.status, data: response.body.data as Array<Record<string, unknown>> | undefined };
  };

  const fileOrNull = (path: string): string | null => (existsSync(path) ? readFileSync(path, 'utf8') : null);

  /** The fake tools that change a container (lxc-ls and lxc-info only read), and what each was called with. */
  const CHANGING_TOOLS: ReadonlySet<string> = new Set(['lxc-create', 'lxc-start', 'lxc-stop', 'lxc-destroy', 'lxc-attach']);
  const changingCalls = (name: string, tools: ReadonlySet<string> = CHANGING_TOOLS): string[] =>
    fake
      .calls()
      .filter(([tool, ...args]) => tools.has(tool) && args.includes(name))
      .map((call) => call.join(' '));

  /** Everything a call on one container could change: as the API shows it, as the fake host keeps it, what ran. */
  const hostState = async (name: string) => ({
    container: await readContainer(name),
    portForwards: await portForwardsOf(name),
    config: fileOrNull(join(fake.lxcPath, name, 'config')),
    authorizedKeys: fake.authorizedKeys(name),
    nftRules: fileOrNull(join(fake.stateDir, 'nft', 'rules')),
    networkDefault: fileOrNull(join(fake.lxcPath, 'opsdeck-network.default')),
    changingCalls: changingCalls(name),
    operations: await operationsOn(name),
  });

  /** A valid OpenSSH ed25519 public key line that no one else uses. */
  const publicKeyLine = (): string => {
    const u32 = (value: number) => Buffer.from([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
    const type = Buffer.from('ssh-ed25519');
    return `ssh-ed25519 ${Buffer.concat([u32(type.length), type, u32(32), randomBytes(32)]).toString('base64')} matrix@example`;
  };
  const keyMaterial = (publicKey: string): string => publicKey.split(' ')[1];

  const idrac = (): IdracSimulator => fleet.simulators[0];

  /** What a call could change on the simulated iDRAC: its key slots, and who logged in. */
  const idracState = () => ({ slots: idrac().slots(), logins: idrac().authAttempts.length });

  const emptyIdracSlots = (): void => {
    for (let slot = 1; slot <= idrac().slots().length; slot += 1) idrac().setSlot(idrac().userIndex, slot, null);
  };

  const idracSlotsHolding = (publicKey: string): number[] =>
    idrac()
      .slots()
      .flatMap((text, index) => (text?.includes(keyMaterial(publicKey)) ? [index + 1] : []));

  /** An ed25519 key pair made for one case, as an admin. */
  const throwAwayIdracKey = async (): Promise<{ id: string; name: string; public_key: string }> => {
    const response = await asAdmin('post', '/api/v1/idrac/keys').send({ name: unique(`${prefix}-key`), type: 'ed25519' });
    expect(response.status).toBe(201);
    return response.body.data as { id: string; name: string; public_key: string };
  };

  const idracServerBody = (tags: string[]) => ({
    name: unique(`${prefix}-idrac`),
    host: '127.0.0.1',
    port: idrac().port,
    username: idrac().username,
    password: idracPassword,
    tags,
  });

  /** An iDRAC (the simulator) registered for one case, as an admin; its host key is not pinned yet. */
  const throwAwayIdracServer = async (tags: string[] = []): Promise<string> => {
    const response = await asAdmin('post', '/api/v1/idrac/servers').send(idracServerBody(tags));
    expect(response.status).toBe(201);
    return response.body.data.id as string;
  };

  const readIdrac = async (path: string) => {
    const response = await asAdmin('get', path);
    return { status: response.status, data: response.body.data as Record<string, unknown> | undefined };
  };

  const privateKeyFile = (keyId: string): string => join(t.dataDir, 'ssh', `${keyId}.key`);

  /** Deploys a key to one server as an admin; answers the ended operation. */
  const deployAsAdmin = async (keyId: string, serverId: string): Promise<Operation> => {
    const accepted = await asAdmin('post', '/api/v1/idrac/deployments').send({ key_id: keyId, server_ids: [serverId] });
    expect(accepted.status).toBe(202);
    const operation = await ended(accepted.body.data.id as string);
    expect(operation.status).toBe('succeeded');
    return operation;
  };

  /** POST /containers/{name}/restart|start|stop: an allowed call acts on a throw-away container, refusals on the shared one. */
  const lifecycleCase =
    (action: 'restart' | 'start' | 'stop'): Arrange =>
    async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwayContainer(action !== 'start') : sharedContainer;
      const state = action === 'stop' ? 'STOPPED' : 'RUNNING';
      const tools: ReadonlySet<string> = new Set(action === 'restart' ? ['lxc-stop', 'lxc-start'] : [`lxc-${action}`]);
      const before = changingCalls(target, tools).length;
      return {
        method: 'post',
        path: `/api/v1/containers/${target}/${action}`,
        unknownPath: `/api/v1/containers/${containerName()}/${action}`,
        snapshot: () => hostState(target),
        verify: async (response) => {
          expect(await acceptedOperation(response, `container.${action}`)).toMatchObject({
            status: 'succeeded',
            resource: { type: 'container', id: target },
            result: { name: target, state },
          });
          expect((await readContainer(target)).data).toMatchObject({ name: target, state });
          expect(changingCalls(target, tools).length).toBe(before + tools.size);
          discardContainer(target);
        },
      };
    };

  // -------------------------------------------------------------------------------------------- behaviours

  const ARRANGE: Readonly<Record<string, Arrange>> = {
    'POST /api/v1/organizations': () => {
      const name = `${prefix}-created-${randomUUID().slice(0, 8)}`;
      return {
        method: 'post',
        path: '/api/v1/organizations',
        body: { name },
        snapshot: async () => ({ tenant: await tenantA(), organizations: await organizationsOfRun() }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ name, created_by: adminId, deleted_at: null });
          expect((await readOrganization(response.body.data.id as string)).data).toEqual(response.body.data);
        },
        stillIntact: async () => {
          expect((await readOk('/api/v1/organizations', { name })).body.meta.total).toBe(0);
        },
      };
    },

    'GET /api/v1/organizations': (caller) => ({
      method: 'get',
      path: `/api/v1/organizations?name=${encodeURIComponent(prefix)}&per_page=100`,
      snapshot: tenantA,
      verify: (response) => {
        const ids = (response.body.data as Array<{ id: string }>).map((o) => o.id);
        if (caller.org === 'A') expect({ ids, total: response.body.meta.total }).toEqual({ ids: [orgA.id], total: 1 });
        if (caller.org === 'B') expect({ ids, total: response.body.meta.total }).toEqual({ ids: [orgB.id], total: 1 });
        if (caller.name === 'admin') expect(ids).toEqual(expect.arrayContaining([orgA.id, orgB.id]));
      },
    }),

    'GET /api/v1/organizations/{org_id}': () => ({
      method: 'get',
      path: `/api/v1/organizations/${orgA.id}`,
      unknownPath: `/api/v1/organizations/${unknownId()}`,
      snapshot: tenantA,
      verify: async (response) => {
        expect(response.body.data).toEqual((await readOrganization(orgA.id)).data);
      },
    }),

    // Refusals aim at A itself (nothing of A may change); the admin's allowed call renames a throw-away organization.
    'PUT /api/v1/organizations/{org_id}': async (_caller, expected) => {
      const target = isSuccess(expected) ? (await fixtures.newOrganization(`${prefix}-put-${randomUUID().slice(0, 8)}`)).id : orgA.id;
      const description = unique('changed by the matrix');
      return {
        method: 'put',
        path: `/api/v1/organizations/${target}`,
        body: { description },
        unknownPath: `/api/v1/organizations/${unknownId()}`,
        snapshot: async () => ({ tenant: await tenantA(), organization: await readOrganization(target) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target, description });
          expect((await readOrganization(target)).data).toMatchObject({ id: target, description });
        },
      };
    },

    'DELETE /api/v1/organizations/{org_id}': async (_caller, expected) => {
      const target = isSuccess(expected) ? (await fixtures.newOrganization(`${prefix}-del-${randomUUID().slice(0, 8)}`)).id : orgA.id;
      return {
        method: 'delete',
        path: `/api/v1/organizations/${target}`,
        unknownPath: `/api/v1/organizations/${unknownId()}`,
        snapshot: async () => ({ tenant: await tenantA(), organization: await readOrganization(target), run: await organizationsOfRun() }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target, deleted_at: expect.any(String) });
          expect((await readOrganization(target)).status).toBe(404);
        },
        stillIntact: async () => {
          expect((await readOrganization(target)).status).toBe(200);
        },
      };
    },

    'POST /api/v1/users/add': () => {
      const email = `${unique(`${prefix}-added`)}@example.test`;
      const usersNamed = async () =>
        (await readOk('/api/v1/users', { email, include_deleted: 'true' })).body.meta.total as number;
      return {
        method: 'post',
        path: '/api/v1/users/add',
        body: { email, password: `pw-${randomUUID()}`, role: 'viewer', organization_id: orgA.id },
        snapshot: async () => ({ tenant: await tenantA(), withEmail: await usersNamed() }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ email, role: 'viewer', organization: { id: orgA.id } });
          expect(await readUser(response.body.data.id as string)).toEqual(response.body.data);
        },
        stillIntact: async () => {
          expect(await usersNamed()).toBe(0);
        },
      };
    },

    'GET /api/v1/users': () => ({
      method: 'get',
      path: `/api/v1/users?organization_id=${orgA.id}&per_page=100`,
      snapshot: tenantA,
      verify: (response) => {
        const users = response.body.data as Array<{ id: string; organization: { id: string } }>;
        expect(users.every((user) => user.organization.id === orgA.id)).toBe(true);
        expect(users.map((user) => user.id)).toEqual(expect.arrayContaining([callers.get('A-operator')!.user!.id]));
      },
    }),

    'GET /api/v1/users/{user_id}': () => {
      const target = callers.get('A-viewer')!.user!;
      return {
        method: 'get',
        path: `/api/v1/users/${target.id}`,
        unknownPath: `/api/v1/users/${unknownId()}`,
        snapshot: async () => ({ tenant: await tenantA(), user: await readUser(target.id) }),
        verify: (response) => {
          expect(response.body.data).toMatchObject({ id: target.id, email: target.email, organization: { id: orgA.id } });
        },
      };
    },

    'PUT /api/v1/users/update/{user_id}': async () => {
      const target = await throwAwayUser();
      const name = unique('renamed by the matrix');
      return {
        method: 'put',
        path: `/api/v1/users/update/${target}`,
        body: { name },
        unknownPath: `/api/v1/users/update/${unknownId()}`,
        snapshot: async () => ({ tenant: await tenantA(), user: await readUser(target) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target, name });
          expect(await readUser(target)).toMatchObject({ id: target, name });
        },
      };
    },

    // Everyone may rename themselves. The admin is shared with other test files: it re-sends its own email, a no-op.
    'PUT /api/v1/users/update/{user_id} #self': (caller) => {
      const self = caller.user ?? callers.get('A-viewer')!.user!;
      const body = caller.name === 'admin' ? { email: TEST_ADMIN.email } : { name: unique('self-renamed') };
      return {
        method: 'put',
        path: `/api/v1/users/update/${self.id}`,
        body,
        snapshot: async () => ({ tenant: await tenantA(), user: await readUser(self.id) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: self.id, ...body });
          expect(await readUser(self.id)).toMatchObject({ id: self.id, ...body });
        },
      };
    },

    // Mass assignment: nobody but an admin may give themselves a role (the admin's is a no-op).
    'PUT /api/v1/users/update/{user_id} #self-escalate': (caller) => {
      const self = caller.user ?? callers.get('A-viewer')!.user!;
      return {
        method: 'put',
        path: `/api/v1/users/update/${self.id}`,
        body: { role: 'admin' },
        snapshot: async () => ({ tenant: await tenantA(), user: await readUser(self.id) }),
        verify: (response) => {
          expect(response.body.data).toMatchObject({ id: self.id, role: 'admin' });
        },
        stillIntact: async () => {
          if (caller.user) {
            const me = await t.http.get('/api/v1/auth/me').set(caller.headers).expect(200);
            expect(me.body.data.role).toBe(caller.user.role);
          }
        },
      };
    },

    'DELETE /api/v1/users/delete/{user_id}': async () => {
      const target = await throwAwayUser();
      return {
        method: 'delete',
        path: `/api/v1/users/delete/${target}`,
        unknownPath: `/api/v1/users/delete/${unknownId()}`,
        snapshot: async () => ({ tenant: await tenantA(), user: await readUser(target) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target, is_deleted: true });
          expect(await readUser(target)).toMatchObject({ id: target, is_deleted: true });
        },
        stillIntact: async () => {
          expect(await readUser(target)).toMatchObject({ is_deleted: false });
        },
      };
    },

    'POST /api/v1/api-keys': () => {
      const name = unique(`${prefix}-key`);
      return {
        method: 'post',
        path: '/api/v1/api-keys',
        body: { name, role: 'viewer', organization_id: orgA.id },
        snapshot: async () => ({ tenant: await tenantA(), keys: await apiKeyTotal(), named: await apiKeysNamed(name) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ name, role: 'viewer', organization_id: orgA.id, key: expect.any(String) });
          const me = await t.http.get('/api/v1/auth/me').set('X-API-Key', response.body.data.key as string).expect(200);
          expect(me.body.data).toMatchObject({ kind: 'api_key', role: 'viewer', organization_id: orgA.id });
        },
        stillIntact: async () => {
          expect(await apiKeysNamed(name)).toEqual([]);
        },
      };
    },

    'GET /api/v1/api-keys': () => ({
      method: 'get',
      path: '/api/v1/api-keys?per_page=100',
      snapshot: tenantA,
      verify: (response) => {
        expect(Array.isArray(response.body.data)).toBe(true);
        expect(JSON.stringify(response.body)).not.toMatch(/key_hash|"key":/);
      },
    }),

    'DELETE /api/v1/api-keys/{id}': async () => {
      const target = await fixtures.newApiKey({ role: 'operator', organizationId: orgA.id });
      return {
        method: 'delete',
        path: `/api/v1/api-keys/${target.id}`,
        unknownPath: `/api/v1/api-keys/${unknownId()}`,
        snapshot: async () => ({ tenant: await tenantA(), key: await readApiKey(target.id) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target.id, revoked_at: expect.any(String) });
          expect((await t.http.get('/api/v1/auth/me').set('X-API-Key', target.key)).status).toBe(401);
        },
        stillIntact: async () => {
          // After the snapshots: using the key touches its last_used_at.
          await t.http.get('/api/v1/auth/me').set('X-API-Key', target.key).expect(200);
        },
      };
    },

    'GET /api/v1/audit-logs': () => ({
      method: 'get',
      path: '/api/v1/audit-logs?per_page=5',
      snapshot: tenantA,
      verify: (response) => {
        expect(Array.isArray(response.body.data)).toBe(true);
      },
    }),

    'GET /api/v1/auth/me': (caller) => ({
      method: 'get',
      path: '/api/v1/auth/me',
      snapshot: tenantA,
      verify: (response) => {
        expect(response.body.data).toMatchObject({ kind: caller.kind, organization_id: caller.organizationId });
        if (caller.user) expect(response.body.data.id).toBe(caller.user.id);
      },
    }),

    // A user logs out a fresh token of their own, so the caller's token stays usable for the other cases.
    'POST /api/v1/auth/logout': async (caller, expected) => {
      const fresh = caller.user && isSuccess(expected) ? await fixtures.login(caller.user.email, caller.user.password) : null;
      return {
        method: 'post',
        path: '/api/v1/auth/logout',
        headers: fresh ? bearer(fresh) : undefined,
        snapshot: tenantA,
        verify: async () => {
          expect((await t.http.get('/api/v1/auth/me').set(bearer(fresh!))).status).toBe(401);
          await t.http.get('/api/v1/auth/me').set(caller.headers).expect(200);
        },
        stillIntact: async () => {
          if (caller.kind !== 'none') await t.http.get('/api/v1/auth/me').set(caller.headers).expect(200);
        },
      };
    },

    'GET /api/metrics': () => ({
      method: 'get',
      path: '/api/metrics',
      snapshot: tenantA,
      verify: (response) => {
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        expect(response.text).toContain('http_requests_total');
      },
    }),

    'POST /api/v1/sites': (caller) => {
      const name = unique(`${prefix}-new-site`);
      const url = `https://${name}.example.test`;
      const withUrl = async () => (await readOk('/api/v1/sites', { q: url, per_page: 100 })).body.meta.total as number;
      return {
        method: 'post',
        path: '/api/v1/sites',
        body: { name, url },
        snapshot: async () => ({ tenant: await tenantA(), sites: await sitesOfA(), withUrl: await withUrl() }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ name, url, organization_id: caller.organizationId });
          expect((await readSite(response.body.data.id as string)).data).toEqual(response.body.data);
        },
        stillIntact: async () => {
          expect(await withUrl()).toBe(0);
        },
      };
    },

    'GET /api/v1/sites': (caller) => ({
      method: 'get',
      path: `/api/v1/sites?organization_id=${orgA.id}&per_page=100`,
      snapshot: sitesOfA,
      verify: (response) => {
        const ids = (response.body.data as Array<{ id: string; organization_id: string }>).map((site) => site.id);
        if (caller.org === 'B') expect({ ids, total: response.body.meta.total }).toEqual({ ids: [], total: 0 });
        else expect(ids).toContain(siteA);
      },
    }),

    'GET /api/v1/sites/{site_id}': () => ({
      method: 'get',
      path: `/api/v1/sites/${siteA}`,
      unknownPath: `/api/v1/sites/${unknownId()}`,
      snapshot: sitesOfA,
      verify: async (response) => {
        expect(response.body.data).toEqual((await readSite(siteA)).data);
      },
    }),

    'PUT /api/v1/sites/{site_id}': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwaySite() : siteA;
      const description = unique('changed by the matrix');
      return {
        method: 'put',
        path: `/api/v1/sites/${target}`,
        body: { description },
        unknownPath: `/api/v1/sites/${unknownId()}`,
        snapshot: async () => ({ sites: await sitesOfA(), site: await readSite(target) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target, description });
          expect((await readSite(target)).data).toMatchObject({ id: target, description });
        },
      };
    },

    'DELETE /api/v1/sites/{site_id}': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwaySite() : siteA;
      return {
        method: 'delete',
        path: `/api/v1/sites/${target}`,
        unknownPath: `/api/v1/sites/${unknownId()}`,
        snapshot: async () => ({ sites: await sitesOfA(), site: await readSite(target) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target, deleted_at: expect.any(String) });
          expect((await readSite(target)).status).toBe(404);
        },
        stillIntact: async () => {
          expect((await readSite(target)).status).toBe(200);
        },
      };
    },

    'POST /api/v1/sites/{site_id}/modules': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwaySite() : siteA;
      const name = machineName();
      return {
        method: 'post',
        path: `/api/v1/sites/${target}/modules`,
        body: { drupal_version: '10.3.1', modules: [{ name, version: '2.0.0' }] },
        unknownPath: `/api/v1/sites/${unknownId()}/modules`,
        snapshot: async () => ({ site: await readSite(target), modules: await modulesOf(target) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ site_id: target, modules: 1, added: 1 });
          expect(await modulesOf(target)).toEqual([expect.objectContaining({ name, installed_version: '2.0.0' })]);
        },
      };
    },

    'GET /api/v1/sites/{site_id}/modules': () => ({
      method: 'get',
      path: `/api/v1/sites/${siteA}/modules`,
      unknownPath: `/api/v1/sites/${unknownId()}/modules`,
      snapshot: async () => modulesOf(siteA),
      verify: async (response) => {
        expect(response.body.data).toEqual(await modulesOf(siteA));
      },
    }),

    'GET /api/v1/modules/{module_id}/versions': () => ({
      method: 'get',
      path: `/api/v1/modules/${moduleOfA}/versions`,
      unknownPath: `/api/v1/modules/${unknownId()}/versions`,
      snapshot: async () => modulesOf(siteA),
      verify: (response) => {
        expect(response.body.data).toEqual([
          expect.objectContaining({ module_id: moduleOfA, version: '8.x-1.0', sites: [expect.objectContaining({ site_id: siteA })] }),
        ]);
      },
    }),

    'POST /api/v1/sites/{site_id}/patch-run': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwaySite() : siteA;
      const finished = new Date(Date.now() - 60_000);
      return {
        method: 'post',
        path: `/api/v1/sites/${target}/patch-run`,
        body: {
          started_at: new Date(finished.getTime() - 600_000).toISOString(),
          finished_at: finished.toISOString(),
          status: 'succeeded',
          updates: [{ module: machineName(), from_version: '1.0.0', to_version: '1.0.1' }],
        },
        unknownPath: `/api/v1/sites/${unknownId()}/patch-run`,
        snapshot: async () => ({ site: await readSite(target), runs: await patchRunsOf(target) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ site_id: target, status: 'succeeded', modules_updated: 1 });
          expect(await patchRunsOf(target)).toEqual([expect.objectContaining({ id: response.body.data.id })]);
        },
      };
    },

    'GET /api/v1/sites/{site_id}/patch-run': () => ({
      method: 'get',
      path: `/api/v1/sites/${siteA}/patch-run`,
      unknownPath: `/api/v1/sites/${unknownId()}/patch-run`,
      snapshot: async () => patchRunsOf(siteA),
      verify: async (response) => {
        expect(response.body.data).toEqual(await patchRunsOf(siteA));
      },
    }),

    'GET /api/v1/reports/module-updates': (caller) => ({
      method: 'get',
      // The database may be shared with other test files: the admin looks at A alone.
      path: `/api/v1/reports/module-updates?per_page=100${caller.name === 'admin' ? `&organization_id=${orgA.id}` : ''}`,
      snapshot: async () => modulesOf(siteA),
      verify: (response) => {
        const siteIds = (response.body.data as Array<{ sites: Array<{ site_id: string }> }>).flatMap((module) =>
          module.sites.map((site) => site.site_id),
        );
        if (caller.org === 'B') expect(siteIds).not.toContain(siteA);
        else expect(siteIds).toContain(siteA);
      },
    }),

    'GET /api/v1/reports/patch-run': (caller) => ({
      method: 'get',
      path: `/api/v1/reports/patch-run${caller.name === 'admin' ? `?organization_id=${orgA.id}` : ''}`,
      snapshot: async () => patchRunsOf(siteA),
      verify: (response) => {
        const siteIds = (response.body.data.sites as Array<{ site_id: string }>).map((site) => site.site_id);
        if (caller.org === 'B') expect(siteIds).not.toContain(siteA);
        else expect(siteIds).toContain(siteA);
      },
    }),

    'POST /api/v1/release-history': (caller) => {
      const project = machineName();
      return {
        method: 'post',
        path: '/api/v1/release-history',
        headers: { ...caller.headers, 'Content-Type': 'application/xml' },
        body: releaseHistoryXml(project),
        snapshot: async () => ({ releases: await releasesOf(project), modules: await modulesOf(siteA) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ project, releases: 1, project_status: 'published' });
          expect(await releasesOf(project)).toEqual({ status: 200, data: [expect.objectContaining({ version: '1.0.1' })] });
        },
        stillIntact: async () => {
          expect((await releasesOf(project)).status).toBe(404);
        },
      };
    },

    'GET /api/v1/projects/{name}/releases': () => ({
      method: 'get',
      path: `/api/v1/projects/${knownProject}/releases`,
      snapshot: async () => releasesOf(knownProject),
      verify: async (response) => {
        expect(response.body.data).toEqual((await releasesOf(knownProject)).data);
      },
    }),

    'GET /api/v1/operations': (caller) => ({
      method: 'get',
      path: `/api/v1/operations?resource_id=${endedOperation.resource.id}&per_page=100`,
      snapshot: async () => operationsOn(endedOperation.resource.id),
      verify: (response) => {
        const listed = (response.body.data as Operation[]).find((operation) => operation.id === endedOperation.id);
        expect(listed).toEqual({ ...endedOperation, requested_by: requesterAsSeenBy(caller) });
      },
    }),

    'GET /api/v1/operations/{operation_id}': (caller) => ({
      method: 'get',
      path: `/api/v1/operations/${endedOperation.id}`,
      unknownPath: `/api/v1/operations/${unknownId()}`,
      snapshot: () => readOperation(endedOperation.id),
      verify: (response) => {
        expect(response.body.data).toEqual({ ...endedOperation, requested_by: requesterAsSeenBy(caller) });
      },
    }),

    'GET /api/v1/operations/{operation_id}/wait': (caller) => ({
      method: 'get',
      path: `/api/v1/operations/${endedOperation.id}/wait?timeout=5`,
      unknownPath: `/api/v1/operations/${unknownId()}/wait?timeout=5`,
      snapshot: () => readOperation(endedOperation.id),
      verify: (response) => {
        expect(response.body.data).toEqual({ ...endedOperation, requested_by: requesterAsSeenBy(caller) });
      },
    }),

    // A pending operation: an allowed cancel ends it before it ever runs, a refused one leaves it to run.
    'DELETE /api/v1/operations/{operation_id}': async () => {
      const target = await pendingOperation();
      return {
        method: 'delete',
        path: `/api/v1/operations/${target.id}`,
        unknownPath: `/api/v1/operations/${unknownId()}`,
        snapshot: () => readOperation(target.id),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target.id, status: 'cancelled', may_cancel: false, started_at: null });
          await target.releaseAll();
          expect(await readOperation(target.id)).toMatchObject({ status: 'cancelled', started_at: null, result: null });
        },
        stillIntact: async () => {
          await target.releaseAll();
          expect(await ended(target.id)).toMatchObject({ status: 'succeeded', result: { released: true } });
        },
      };
    },

    // Operations are not organization-scoped: B's operators get the same 409 as A's, which no unknown id could give.
    'DELETE /api/v1/operations/{operation_id} #running': async () => {
      const target = await runningOperation();
      return {
        method: 'delete',
        path: `/api/v1/operations/${target.id}`,
        snapshot: () => readOperation(target.id),
        stillIntact: async () => {
          target.release();
          expect(await ended(target.id)).toMatchObject({ status: 'succeeded', result: { released: true } });
        },
      };
    },

    'DELETE /api/v1/operations/{operation_id} #ended': () => ({
      method: 'delete',
      path: `/api/v1/operations/${endedOperation.id}`,
      snapshot: () => readOperation(endedOperation.id),
    }),

    'GET /api/v1/containers': () => ({
      method: 'get',
      path: `/api/v1/containers?q=${sharedContainer}`,
      snapshot: () => hostState(sharedContainer),
      verify: async (response) => {
        expect(response.body.data).toEqual([(await readContainer(sharedContainer)).data]);
        expect(response.body.meta).toMatchObject({ total: 1 });
      },
    }),

    'POST /api/v1/containers': () => {
      const name = containerName();
      const ipv4 = nextAddress();
      return {
        method: 'post',
        path: '/api/v1/containers',
        body: { name, template: 'busybox', ipv4 },
        snapshot: () => hostState(name),
        verify: async (response) => {
          expect(await acceptedOperation(response, 'container.create')).toMatchObject({
            status: 'succeeded',
            resource: { type: 'container', id: name },
          });
          expect((await readContainer(name)).data).toMatchObject({ name, state: 'RUNNING', ipv4: [ipv4.split('/')[0]] });
          discardContainer(name);
        },
        stillIntact: async () => {
          expect((await readContainer(name)).status).toBe(404);
        },
      };
    },

    'GET /api/v1/containers/{name}': () => ({
      method: 'get',
      path: `/api/v1/containers/${sharedContainer}`,
      unknownPath: `/api/v1/containers/${containerName()}`,
      snapshot: () => hostState(sharedContainer),
      verify: async (response) => {
        expect(response.body.data).toEqual((await readContainer(sharedContainer)).data);
        expect(response.body.data).toMatchObject({ name: sharedContainer, state: 'RUNNING' });
      },
    }),

    'DELETE /api/v1/containers/{name}': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwayContainer() : sharedContainer;
      return {
        method: 'delete',
        path: `/api/v1/containers/${target}`,
        unknownPath: `/api/v1/containers/${containerName()}`,
        snapshot: () => hostState(target),
        verify: async (response) => {
          expect(await acceptedOperation(response, 'container.delete')).toMatchObject({ status: 'succeeded', result: { name: target, deleted: true } });
          expect((await readContainer(target)).status).toBe(404);
          expect(changingCalls(target, new Set(['lxc-destroy']))).toHaveLength(1);
        },
        stillIntact: async () => {
          expect((await readContainer(target)).data).toMatchObject({ name: target, state: 'RUNNING' });
        },
      };
    },

    'POST /api/v1/containers/{name}/restart': lifecycleCase('restart'),
    'POST /api/v1/containers/{name}/start': lifecycleCase('start'),
    'POST /api/v1/containers/{name}/stop': lifecycleCase('stop'),

    'POST /api/v1/containers/{name}/connect': () => ({
      method: 'post',
      path: `/api/v1/containers/${sharedContainer}/connect`,
      unknownPath: `/api/v1/containers/${containerName()}/connect`,
      snapshot: () => hostState(sharedContainer),
      verify: async (response) => {
        const address = ((await readContainer(sharedContainer)).data!.ipv4 as string[])[0];
        expect(response.body.data).toMatchObject({
          ipv4: address,
          ssh_user: 'root',
          ssh_command: `ssh root@${address}`,
          port_forwards: (await portForwardsOf(sharedContainer)).data,
        });
      },
    }),

    'POST /api/v1/containers/{name}/authkey': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwayContainer() : sharedContainer;
      const publicKey = publicKeyLine();
      return {
        method: 'post',
        path: `/api/v1/containers/${target}/authkey`,
        body: { public_keys: [publicKey] },
        unknownPath: `/api/v1/containers/${containerName()}/authkey`,
        snapshot: () => hostState(target),
        verify: async (response) => {
          expect(await acceptedOperation(response, 'container.authkey')).toMatchObject({
            status: 'succeeded',
            result: { user: 'root', added: 1, skipped: 0 },
          });
          expect(fake.authorizedKeys(target)).toContain(keyMaterial(publicKey));
          discardContainer(target);
        },
        stillIntact: () => {
          expect(fake.authorizedKeys(target) ?? '').not.toContain(keyMaterial(publicKey));
          return Promise.resolve();
        },
      };
    },

    'POST /api/v1/containers/{name}/portforward': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwayContainer() : sharedContainer;
      const rule = `pf-${randomUUID().slice(0, 8)}`;
      const hostPort = nextHostPort();
      return {
        method: 'post',
        path: `/api/v1/containers/${target}/portforward`,
        body: { name: rule, protocol: 'tcp', host_port: hostPort, container_port: 8080 },
        unknownPath: `/api/v1/containers/${containerName()}/portforward`,
        snapshot: () => hostState(target),
        verify: async (response) => {
          const address = ((await readContainer(target)).data!.ipv4 as string[])[0];
          const forward = { name: rule, container: target, protocol: 'tcp', host_port: hostPort, container_address: address, container_port: 8080 };
          expect(response.body.data).toEqual(forward);
          expect((await portForwardsOf(target)).data).toEqual([forward]);
          discardContainer(target);
        },
        stillIntact: async () => {
          expect((await portForwardsOf(target)).data!.map((forward) => forward.name)).toEqual([sharedForward]);
        },
      };
    },

    'GET /api/v1/containers/{name}/portforward': () => ({
      method: 'get',
      path: `/api/v1/containers/${sharedContainer}/portforward`,
      unknownPath: `/api/v1/containers/${containerName()}/portforward`,
      snapshot: () => hostState(sharedContainer),
      verify: async (response) => {
        expect(response.body.data).toEqual((await portForwardsOf(sharedContainer)).data);
        expect(response.body.data).toEqual([expect.objectContaining({ name: sharedForward, container: sharedContainer })]);
      },
    }),

    'DELETE /api/v1/containers/{name}/portforward/{rule}': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwayContainer() : sharedContainer;
      const rule = isSuccess(expected) ? `pf-${randomUUID().slice(0, 8)}` : sharedForward;
      if (isSuccess(expected)) await addPortForward(target, rule);
      return {
        method: 'delete',
        path: `/api/v1/containers/${target}/portforward/${rule}`,
        unknownPath: `/api/v1/containers/${containerName()}/portforward/${rule}`,
        snapshot: () => hostState(target),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ name: rule, container: target });
          expect((await portForwardsOf(target)).data).toEqual([]);
          expect(fileOrNull(join(fake.stateDir, 'nft', 'rules'))).not.toContain(`${response.body.data.host_port}`);
          discardContainer(target);
        },
        stillIntact: async () => {
          expect((await portForwardsOf(target)).data).toEqual([expect.objectContaining({ name: rule })]);
        },
      };
    },

    'GET /api/v1/images': () => ({
      method: 'get',
      path: '/api/v1/images',
      snapshot: () => hostState(sharedContainer),
      verify: (response) => {
        expect(response.body.data).toEqual(
          expect.arrayContaining([
            { kind: 'template', name: 'busybox', arch: null, variant: null },
            { kind: 'image', name: 'debian:bookworm', arch: 'amd64', variant: 'default' },
          ]),
        );
      },
    }),

    // Always for one container: the host-wide default is shared with every other test file's containers.
    'POST /api/v1/network/setup': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwayContainer() : sharedContainer;
      return {
        method: 'post',
        path: '/api/v1/network/setup',
        body: { type: 'macvlan', parent: 'eth0', mode: 'bridge', container: target },
        snapshot: () => hostState(target),
        verify: async (response) => {
          expect(await acceptedOperation(response, 'network.setup')).toMatchObject({
            status: 'succeeded',
            resource: { type: 'container', id: target },
          });
          const config = fileOrNull(join(fake.lxcPath, target, 'config'));
          expect(config).toContain('lxc.net.0.type = macvlan');
          expect(config).toContain('lxc.net.0.link = eth0');
          discardContainer(target);
        },
        stillIntact: () => {
          expect(fileOrNull(join(fake.lxcPath, target, 'config'))).not.toContain('macvlan');
          return Promise.resolve();
        },
      };
    },

    'POST /api/v1/idrac/keys': () => {
      const name = unique(`${prefix}-new-key`);
      const named = async () => (await readOk('/api/v1/idrac/keys', { q: name, per_page: 100 })).body.data as unknown[];
      return {
        method: 'post',
        path: '/api/v1/idrac/keys',
        body: { name, type: 'ed25519', comment: 'matrix@example' },
        snapshot: named,
        verify: async (response) => {
          const key = response.body.data as { id: string };
          expect(key).toMatchObject({
            name,
            type: 'ed25519',
            comment: 'matrix@example',
            public_key: expect.stringMatching(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ matrix@example$/),
            fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
          });
          expect(JSON.stringify(response.body)).not.toMatch(/PRIVATE KEY/);
          expect((await readIdrac(`/api/v1/idrac/keys/${key.id}`)).data).toEqual(key);
          expect(statSync(privateKeyFile(key.id)).mode & 0o777).toBe(0o600);
        },
        stillIntact: async () => {
          expect(await named()).toEqual([]);
        },
      };
    },

    'GET /api/v1/idrac/keys': () => ({
      method: 'get',
      path: `/api/v1/idrac/keys?q=${encodeURIComponent(sharedIdracKey.name)}`,
      snapshot: async () => readIdrac(`/api/v1/idrac/keys/${sharedIdracKey.id}`),
      verify: (response) => {
        expect(response.body.data).toEqual([sharedIdracKey]);
        expect(JSON.stringify(response.body)).not.toMatch(/PRIVATE KEY/);
      },
    }),

    'GET /api/v1/idrac/keys/{id}': () => ({
      method: 'get',
      path: `/api/v1/idrac/keys/${sharedIdracKey.id}`,
      unknownPath: `/api/v1/idrac/keys/${unknownId()}`,
      snapshot: async () => readIdrac(`/api/v1/idrac/keys/${sharedIdracKey.id}`),
      verify: (response) => {
        expect(response.body.data).toEqual(sharedIdracKey);
      },
    }),

    'DELETE /api/v1/idrac/keys/{id}': async () => {
      const target = await throwAwayIdracKey();
      return {
        method: 'delete',
        path: `/api/v1/idrac/keys/${target.id}`,
        unknownPath: `/api/v1/idrac/keys/${unknownId()}`,
        snapshot: async () => ({ key: await readIdrac(`/api/v1/idrac/keys/${target.id}`), file: existsSync(privateKeyFile(target.id)) }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target.id });
          expect((await readIdrac(`/api/v1/idrac/keys/${target.id}`)).status).toBe(404);
          expect(existsSync(privateKeyFile(target.id))).toBe(false);
        },
        stillIntact: async () => {
          expect((await readIdrac(`/api/v1/idrac/keys/${target.id}`)).data).toEqual(target);
          expect(existsSync(privateKeyFile(target.id))).toBe(true);
        },
      };
    },

    'POST /api/v1/idrac/servers': () => {
      const tag = `${prefix}-${randomUUID().slice(0, 8)}`;
      const body = idracServerBody([tag]);
      const tagged = async () => (await readOk('/api/v1/idrac/servers', { tag, per_page: 100 })).body.data as unknown[];
      return {
        method: 'post',
        path: '/api/v1/idrac/servers',
        body,
        snapshot: tagged,
        verify: async (response) => {
          const { name, host, port, username, tags } = body;
          expect(response.body.data).toMatchObject({ name, host, port, username, tags, auth: 'password', user_index: 2, host_key_fingerprint: null });
          expect(JSON.stringify(response.body)).not.toContain(idracPassword);
          expect(await tagged()).toEqual([response.body.data]);
        },
        stillIntact: async () => {
          expect(await tagged()).toEqual([]);
        },
      };
    },

    'GET /api/v1/idrac/servers': () => ({
      method: 'get',
      path: `/api/v1/idrac/servers?tag=${sharedIdracTag}`,
      snapshot: async () => readIdrac(`/api/v1/idrac/servers/${sharedIdracServer}`),
      verify: async (response) => {
        expect(response.body.data).toEqual([(await readIdrac(`/api/v1/idrac/servers/${sharedIdracServer}`)).data]);
        expect(JSON.stringify(response.body)).not.toContain(idracPassword);
      },
    }),

    'GET /api/v1/idrac/servers/{id}': () => ({
      method: 'get',
      path: `/api/v1/idrac/servers/${sharedIdracServer}`,
      unknownPath: `/api/v1/idrac/servers/${unknownId()}`,
      snapshot: async () => readIdrac(`/api/v1/idrac/servers/${sharedIdracServer}`),
      verify: async (response) => {
        expect(response.body.data).toEqual((await readIdrac(`/api/v1/idrac/servers/${sharedIdracServer}`)).data);
        expect(response.body.data).toMatchObject({ id: sharedIdracServer, tags: [sharedIdracTag] });
      },
    }),

    'PUT /api/v1/idrac/servers/{id}': async (_caller, expected) => {
      const target = isSuccess(expected) ? await throwAwayIdracServer() : sharedIdracServer;
      const name = unique(`${prefix}-renamed`);
      return {
        method: 'put',
        path: `/api/v1/idrac/servers/${target}`,
        body: { name, user_index: 3 },
        unknownPath: `/api/v1/idrac/servers/${unknownId()}`,
        snapshot: async () => readIdrac(`/api/v1/idrac/servers/${target}`),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target, name, user_index: 3 });
          expect((await readIdrac(`/api/v1/idrac/servers/${target}`)).data).toEqual(response.body.data);
        },
      };
    },

    'DELETE /api/v1/idrac/servers/{id}': async () => {
      const target = await throwAwayIdracServer();
      return {
        method: 'delete',
        path: `/api/v1/idrac/servers/${target}`,
        unknownPath: `/api/v1/idrac/servers/${unknownId()}`,
        snapshot: async () => readIdrac(`/api/v1/idrac/servers/${target}`),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({ id: target });
          expect((await readIdrac(`/api/v1/idrac/servers/${target}`)).status).toBe(404);
        },
        stillIntact: async () => {
          expect((await readIdrac(`/api/v1/idrac/servers/${target}`)).status).toBe(200);
        },
      };
    },

    // A first test pins the host key: a refused one must not have connected at all.
    'POST /api/v1/idrac/servers/{id}/test': async () => {
      const target = await throwAwayIdracServer();
      return {
        method: 'post',
        path: `/api/v1/idrac/servers/${target}/test`,
        unknownPath: `/api/v1/idrac/servers/${unknownId()}/test`,
        snapshot: async () => ({ server: await readIdrac(`/api/v1/idrac/servers/${target}`), idrac: idracState() }),
        verify: async (response) => {
          expect(response.body.data).toMatchObject({
            reachable: true,
            auth_ok: true,
            reason: null,
            host_key_fingerprint: idrac().hostKeyFingerprint,
            racadm_version: expect.any(String),
          });
          expect((await readIdrac(`/api/v1/idrac/servers/${target}`)).data).toMatchObject({ host_key_fingerprint: idrac().hostKeyFingerprint });
        },
        stillIntact: async () => {
          expect((await readIdrac(`/api/v1/idrac/servers/${target}`)).data).toMatchObject({ host_key_fingerprint: null });
        },
      };
    },

    'POST /api/v1/idrac/deployments': async () => {
      const key = await throwAwayIdracKey();
      const server = await throwAwayIdracServer();
      emptyIdracSlots();
      return {
        method: 'post',
        path: '/api/v1/idrac/deployments',
        body: { key_id: key.id, server_ids: [server] },
        snapshot: async () => ({ server: await readIdrac(`/api/v1/idrac/servers/${server}`), idrac: idracState() }),
        verify: async (response) => {
          const operation = await acceptedOperation(response, 'idrac.deploy');
          expect(operation.status).toBe('succeeded');
          const slots = idracSlotsHolding(key.public_key);
          expect(slots).toHaveLength(1);
          expect((await readIdrac(`/api/v1/idrac/deployments/${operation.resource.id}`)).data).toMatchObject({
            kind: 'deploy',
            key_id: key.id,
            summary: { total: 1, succeeded: 1, skipped: 0, failed: 0 },
            servers: [{ server_id: server, outcome: 'succeeded', slots }],
          });
        },
        stillIntact: () => {
          expect(idracSlotsHolding(key.public_key)).toEqual([]);
          return Promise.resolve();
        },
      };
    },

    'GET /api/v1/idrac/deployments/{id}': (caller) => ({
      method: 'get',
      path: `/api/v1/idrac/deployments/${sharedDeployment}`,
      unknownPath: `/api/v1/idrac/deployments/${unknownId()}`,
      snapshot: async () => readIdrac(`/api/v1/idrac/deployments/${sharedDeployment}`),
      verify: async (response) => {
        const full = (await readIdrac(`/api/v1/idrac/deployments/${sharedDeployment}`)).data as { operation: Operation };
        // The admin asked for it: only the admin's own organization would see who.
        const requestedBy = caller.name === 'admin' ? full.operation.requested_by : { kind: 'user', id: null, label: null };
        expect(response.body.data).toEqual({ ...full, operation: { ...full.operation, requested_by: requestedBy } });
        expect(full).toMatchObject({ kind: 'deploy', key_id: sharedIdracKey.id, summary: { total: 1, succeeded: 1 } });
      },
    }),

    'POST /api/v1/idrac/revocations': async () => {
      const key = await throwAwayIdracKey();
      const server = await throwAwayIdracServer();
      emptyIdracSlots();
      await deployAsAdmin(key.id, server);
      expect(idracSlotsHolding(key.public_key)).toHaveLength(1);
      return {
        method: 'post',
        path: '/api/v1/idrac/revocations',
        body: { key_id: key.id, server_ids: [server] },
        snapshot: async () => ({ server: await readIdrac(`/api/v1/idrac/servers/${server}`), idrac: idracState() }),
        verify: async (response) => {
          const operation = await acceptedOperation(response, 'idrac.revoke');
          expect(operation.status).toBe('succeeded');
          expect(idracSlotsHolding(key.public_key)).toEqual([]);
          expect((await readIdrac(`/api/v1/idrac/deployments/${operation.resource.id}`)).data).toMatchObject({
            kind: 'revoke',
            key_id: key.id,
            summary: { total: 1, succeeded: 1, failed: 0 },
            servers: [{ server_id: server, outcome: 'succeeded' }],
          });
        },
        stillIntact: () => {
          expect(idracSlotsHolding(key.public_key)).toHaveLength(1);
          return Promise.resolve();
        },
      };
    },
  };

  // -------------------------------------------------------------------------------------------- the tests

  it('declares, for every route of the OpenAPI document, who may call it (and nothing that is not a route)', () => {
    const paths = t.opsdeck.openApiDocument.paths as Record<string, Partial<Record<(typeof HTTP_METHODS)[number], unknown>>>;
    const documented = Object.entries(paths).flatMap(([path, item]) =>
      HTTP_METHODS.filter((method) => item[method] !== undefined).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const declared = new Set(Object.keys(MATRIX).map(routeOf));
    expect({ notInTheMatrix: documented.filter((route) => !declared.has(route) && !PUBLIC_ROUTES.has(route)) }).toEqual({
      notInTheMatrix: [],
    });
    expect({ notDocumented: [...declared, ...PUBLIC_ROUTES].filter((route) => !documented.includes(route)) }).toEqual({
      notDocumented: [],
    });
    expect({ withoutBehaviour: Object.keys(MATRIX).filter((scenario) => !(scenario in ARRANGE)) }).toEqual({
      withoutBehaviour: [],
    });
    // The document's own security says the same: only the public routes have none.
    for (const route of documented) {
      const [method, path] = route.split(' ');
      const operation = paths[path][method.toLowerCase() as 'get'] as { security?: unknown[] };
      expect({ route, secured: (operation.security ?? []).length > 0 }).toEqual({ route, secured: !PUBLIC_ROUTES.has(route) });
    }
  });

  it('lets the public routes through without credentials (they are outside the matrix)', async () => {
    await t.http.get('/api/health').expect(200);
    await t.http.get('/api/v1/health').expect(200);
    // Login evaluates the credentials it is given rather than asking for a token.
    expectError(
      await t.http.post('/api/v1/auth/login').send({ email: `${unique('nobody')}@example.test`, password: 'not-the-password' }),
      401,
      'AUTH.INVALID_CREDENTIALS',
    );
  });

  for (const scenario of Object.keys(MATRIX)) {
    describe(scenario, () => {
      for (const callerName of CALLERS) {
        const expected = expectedFor(scenario, callerName);
        if (expected === null) continue;
        const outcome = isSuccess(expected) ? `allowed (${expected})` : `refused with ${expected}, nothing changed`;
        it(`${callerName}: ${outcome}`, async () => {
          const caller = callers.get(callerName)!;
          const arranged = await ARRANGE[scenario](caller, expected);
          const headers = arranged.headers ?? caller.headers;
          const send = (path: string) => {
            const request = t.http[arranged.method](path).set(headers);
            return arranged.body === undefined ? request : request.send(arranged.body);
          };

          const before = await arranged.snapshot();
          const response = await send(arranged.path);

          if (isSuccess(expected)) {
            expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: expected });
            await arranged.verify?.(response);
            return;
          }

          expectError(response, expected);
          if (expected === 401) expect(response.body.error).toBe('UNAUTHORIZED');
          if (expected === 404) expect(response.body.error).toMatch(/\.NOT_FOUND$/);
          if (expected === 422) expect(response.body.error).toBe('AUTH.NOT_A_SESSION');
          if (expected === 409) expect(response.body.error).toBe('OPERATION.NOT_CANCELLABLE');
          expect(await arranged.snapshot()).toEqual(before);
          await arranged.stillIntact?.();

          // Outside A, A's resource must be indistinguishable from one that does not exist.
          if (arranged.unknownPath && caller.org !== 'A' && caller.name !== 'admin') {
            const missing = await send(arranged.unknownPath);
            expect({ status: missing.status, error: missing.body.error }).toEqual({ status: response.status, error: response.body.error });
          }
        });
      }
    });
  }
});
