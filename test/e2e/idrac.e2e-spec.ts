import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io-client';
import ssh2 from 'ssh2';
import { DataSource } from 'typeorm';
import { IdracFleet } from '../support/idrac-simulator/fleet.js';
import type { IdracSimulator } from '../support/idrac-simulator/idrac-simulator.js';
import { expectErrorEnvelope, type HttpResponse } from '../support/http-assertions.js';
import { bearer, IdentityFixtures, unique, type TestUser } from '../support/identity.js';
import { connectSocket, EventRecorder, joinRoom } from '../support/socket.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { withSharedDatabase } from '../support/test-database.js';

interface ServerResult {
  server_id: string;
  name: string;
  outcome: string;
  reason: string | null;
  slots: number[];
  duration_ms: number | null;
}

const PASSWORD = 'calvin-Secret-9f2a';
const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPK3Vt7i4zLeQ173lPU2hTgnUnGLbgVwt3vsCssSSzNv';
const CONNECT_TIMEOUT_MS = 1_500;
const COMMAND_TIMEOUT_MS = 1_000;

/**
 * iDRAC keys, servers, deployments and revocations (issue 6) against a fleet of simulated iDRACs on loopback
 * (test/support/idrac-simulator: ssh2's Server speaking racadm), one per fault, beside healthy ones.
 */
describe('iDRAC key management', () => {
  const logDir = mkdtempSync(join(tmpdir(), 'opsdeck-idrac-logs-'));
  const jwtSecret = `idrac-e2e-${randomUUID()}`;
  const instance = unique('idrac-instance');
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let operator: TestUser;
  let viewer: TestUser;
  let fleet: IdracFleet;
  let dashboard: Socket;
  let idracEvents: EventRecorder;
  const responses: HttpResponse[] = [];
  const secrets: string[] = [PASSWORD];

  const healthy = ['banner', 'line', 'keyboard-interactive', 'spare'] as const;
  const faulty = ['auth_failed', 'timeout_hang', 'timeout_slow', 'unreachable', 'no_free_slot', 'host_key_mismatch'] as const;
  const names = [...healthy, ...faulty];
  const simulator = (name: (typeof names)[number]): IdracSimulator => fleet.simulators[names.indexOf(name)];
  const serverIds = new Map<string, string>();
  // The database may be shared with other runs: tags are this run's own.
  const FLEET = unique('fleet');
  const SPARE = unique('spare');

  // Instances sharing a database share the key that seals iDRAC passwords.
  const masterKey = randomUUID().replace(/-/g, '').repeat(2);
  const env = () => ({
    SECRETS_MASTER_KEY: masterKey,
    JWT_SECRET: jwtSecret,
    INSTANCE_NAME: instance,
    IDRAC_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    IDRAC_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
    LOG_LEVEL: 'debug',
    LOG_FILE: join(logDir, 'opsdeck.log'),
  });

  beforeAll(async () => {
    fleet = await IdracFleet.start({
      count: names.length,
      password: PASSWORD,
      overrides: (index) => {
        switch (names[index]) {
          case 'line':
            return { outputFormat: 'line' };
          case 'keyboard-interactive':
            return { faults: { keyboardInteractiveOnly: true } };
          case 'auth_failed':
            return { faults: { rejectAuthentication: true } };
          case 'timeout_hang':
            return { faults: { hangAfterAuthentication: true } };
          case 'timeout_slow':
            return { faults: { latencyMs: COMMAND_TIMEOUT_MS * 2 } };
          case 'unreachable':
            return { faults: { refuseConnections: 'closed' } };
          case 'no_free_slot':
            return { faults: { slotsFull: true } };
          case 'banner':
          case 'spare':
          case 'host_key_mismatch':
            return {};
        }
      },
    });
    t = await startTestApp({ listen: true, env: env() });
    fixtures = new IdentityFixtures(t);
    const organization = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', organization.id);
    viewer = await fixtures.newUser('viewer', organization.id);
    secrets.push(operator.password, viewer.password, operator.token, viewer.token);
    dashboard = await connectSocket(t.url!, { token: viewer.token });
    idracEvents = new EventRecorder(dashboard, 'idrac_update');
    expect(await joinRoom(dashboard, 'idrac')).toEqual({ ok: true, room: 'idrac' });

    for (const name of names) {
      const sim = simulator(name);
      const response = await call(
        t.http.post('/api/v1/idrac/servers').set(as(operator)).send({
          name: unique(`idrac-${name}`),
          host: '127.0.0.1',
          port: sim.port,
          username: sim.username,
          password: PASSWORD,
          tags: [name === 'spare' ? SPARE : FLEET],
        }),
      );
      expect(response.status).toBe(201);
      serverIds.set(name, response.body.data.id as string);
    }
  });

  afterAll(async () => {
    dashboard?.close();
    await t?.close();
    await fleet?.stop();
    if (!process.env.KEEP_TEST_LOGS) rmSync(logDir, { recursive: true, force: true });
    else console.log(logDir);
  });

  const as = (user: TestUser) => bearer(user.token);
  async function call(request: PromiseLike<HttpResponse>): Promise<HttpResponse> {
    const response = await request;
    responses.push(response);
    return response;
  }
  const waitFor = async (operationId: string, timeout = 30) =>
    (await call(t.http.get(`/api/v1/operations/${operationId}/wait`).query({ timeout }).set(as(viewer)))).body.data as {
      id: string;
      status: string;
      resource: { id: string };
      result: { summary: Record<string, number> } | null;
    };
  const newKey = async (body: Record<string, unknown> = {}, user = operator) =>
    call(t.http.post('/api/v1/idrac/keys').set(as(user)).send({ name: unique('key'), type: 'ed25519', ...body }));
  const deployment = async (id: string) =>
    (await call(t.http.get(`/api/v1/idrac/deployments/${id}`).set(as(viewer)))).body.data as {
      kind: string;
      summary: Record<string, number>;
      servers: ServerResult[];
      operation: { status: string };
    };
  const byName = (results: ServerResult[]) => {
    const named = new Map(results.map((result) => [result.server_id, result]));
    return Object.fromEntries(names.filter((name) => serverIds.has(name)).map((name) => [name, named.get(serverIds.get(name)!)]));
  };

  describe('keys', () => {
    it('generates an RSA-4096 key by default: public key and fingerprint back, the private key only in a 0600 file', async () => {
      const response = await newKey({ type: undefined, comment: 'ops@example' });
      expect(response.status).toBe(201);
      const key = response.body.data as { id: string; type: string; bits: number; public_key: string; fingerprint: string };
      expect(key).toMatchObject({ type: 'rsa', bits: 4096, comment: 'ops@example' });
      expect(key.public_key).toMatch(/^ssh-rsa AAAA[A-Za-z0-9+/=]+ ops@example$/);
      expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(JSON.stringify(response.body)).not.toMatch(/PRIVATE KEY/);
      const file = join(t.dataDir, 'ssh', `${key.id}.key`);
      expect(readFileSync(file, 'utf8')).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
      secrets.push(readFileSync(file, 'utf8').split('\n').slice(1, 3).join(''));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(t.dataDir, 'ssh')).mode & 0o777).toBe(0o700);
      await idracEvents.next((event) => event.type === 'idrac_key_generate_success' && event.key_id === key.id);
      expect((await call(t.http.get(`/api/v1/idrac/keys/${key.id}`).set(as(viewer)))).body.data).toEqual(key);
    });

    it('refuses bad key requests with 400 and a taken name with 409', async () => {
      for (const body of [
        { name: '../etc/passwd' },
        { name: 'a/b' },
        { name: 'a\\b' },
        { name: '' },
        { type: 'dsa' },
        { type: 'rsa', bits: 1024 },
        { type: 'ed25519', bits: 4096 },
        { type: 'ecdsa', bits: 4096 },
        { comment: 'quote"me' },
      ]) {
        expectErrorEnvelope(await newKey(body), 400);
      }
      const name = unique('taken');
      expect((await newKey({ name })).status).toBe(201);
      expectErrorEnvelope(await newKey({ name: name.toUpperCase() }), 409, 'IDRAC_KEY.NAME_TAKEN');
      expectErrorEnvelope(await newKey({}, viewer), 403);
    });

    it('imports a public key (deployable, not for logging in) and refuses malformed or weak ones', async () => {
      const imported = await newKey({ type: undefined, public_key: `${OTHER_KEY} imported@example` });
      expect(imported.status).toBe(201);
      expect(imported.body.data).toMatchObject({ type: 'ed25519', bits: 256, comment: 'imported@example', has_private_key: false });
      expect(imported.body.data.public_key).toBe(`${OTHER_KEY} imported@example`);
      expect(existsSync(join(t.dataDir, 'ssh', `${imported.body.data.id}.key`))).toBe(false);

      const weak = ssh2.utils.generateKeyPairSync('rsa', { bits: 1024 }).public;
      for (const body of [
        { public_key: 'ssh-rsa not-base64!' },
        { public_key: 'ssh-dss AAAAB3NzaC1kc3MAAACBAP' },
        { public_key: `${OTHER_KEY}\nssh-rsa AAAA injected` },
        { public_key: weak },
        { public_key: OTHER_KEY, type: 'rsa' },
      ]) {
        const response = await newKey({ type: undefined, ...body });
        expectErrorEnvelope(response, 400);
      }
      expect((await newKey({ type: undefined, public_key: weak })).body.details[0].messages[0]).toMatch(/too_weak/);

      const login = await call(
        t.http.post('/api/v1/idrac/servers').set(as(operator)).send({
          name: unique('keylogin'),
          host: '127.0.0.1',
          username: 'root',
          auth_key_id: imported.body.data.id,
        }),
      );
      expectErrorEnvelope(login, 400, 'IDRAC_KEY.NO_PRIVATE_KEY');
    });

    it('limits key generation per caller (429 with Retry-After)', async () => {
      const generator = await fixtures.newUser('operator', (await fixtures.newOrganization()).id);
      let refused: HttpResponse | undefined;
      for (let attempt = 0; attempt < 15 && !refused; attempt += 1) {
        const response = await newKey({}, generator);
        if (response.status === 429) refused = response;
        else expect(response.status).toBe(201);
      }
      expect(refused).toBeDefined();
      expectErrorEnvelope(refused!, 429);
      expect(Number(refused!.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('servers', () => {
    it('stores the password encrypted and never returns it', async () => {
      const id = serverIds.get('banner')!;
      const response = await call(t.http.get(`/api/v1/idrac/servers/${id}`).set(as(viewer)));
      expect(response.body.data).toMatchObject({ auth: 'password', user_index: 2, port: simulator('banner').port, tags: [FLEET] });
      expect(JSON.stringify(response.body)).not.toContain(PASSWORD);
      const [row] = await t.opsdeck.app
        .get(DataSource)
        .query<Array<{ password_ciphertext: string }>>('SELECT password_ciphertext FROM idrac_servers WHERE id = $1', [id]);
      expect(row.password_ciphertext).toMatch(/^v1:/);
      expect(row.password_ciphertext).not.toContain(PASSWORD);
      const listed = await call(t.http.get('/api/v1/idrac/servers').query({ tag: SPARE }).set(as(viewer)));
      expect((listed.body.data as Array<{ id: string }>).map((server) => server.id)).toEqual([serverIds.get('spare')]);
    });

    it('refuses invalid servers with 400', async () => {
      const valid = { name: unique('bad'), host: '127.0.0.1', username: 'root', password: PASSWORD };
      for (const body of [
        { ...valid, host: 'not a host' },
        { ...valid, host: '999.1.1.1' },
        { ...valid, host: '-rf' },
        { ...valid, port: 0 },
        { ...valid, port: 65536 },
        { ...valid, user_index: 0 },
        { ...valid, user_index: 17 },
        { ...valid, tags: ['Bad Tag'] },
        { ...valid, password: undefined },
        { ...valid, auth_key_id: randomUUID() },
        { ...valid, password: undefined, auth_key_id: randomUUID() },
      ]) {
        expectErrorEnvelope(await call(t.http.post('/api/v1/idrac/servers').set(as(operator)).send(body)), 400);
      }
      const ipv6 = await call(t.http.post('/api/v1/idrac/servers').set(as(operator)).send({ ...valid, host: '::1', name: unique('v6') }));
      expect(ipv6.status).toBe(201);
    });

    it('tests a connection: version and pinned host key, or the precise failure', async () => {
      const ok = await call(t.http.post(`/api/v1/idrac/servers/${serverIds.get('banner')}/test`).set(as(operator)));
      expect(ok.status).toBe(200);
      expect(ok.body.data).toMatchObject({ reachable: true, auth_ok: true, reason: null, host_key_fingerprint: simulator('banner').hostKeyFingerprint });
      expect(ok.body.data.racadm_version).toEqual(expect.any(String));
      expect(ok.body.data.latency_ms).toBeGreaterThanOrEqual(0);
      const pinned = await call(t.http.get(`/api/v1/idrac/servers/${serverIds.get('banner')}`).set(as(viewer)));
      expect(pinned.body.data.host_key_fingerprint).toBe(simulator('banner').hostKeyFingerprint);

      const wrong = await call(t.http.post(`/api/v1/idrac/servers/${serverIds.get('auth_failed')}/test`).set(as(operator)));
      expect(wrong.body.data).toMatchObject({ reachable: true, auth_ok: false, reason: 'auth_failed' });
      const refused = await call(t.http.post(`/api/v1/idrac/servers/${serverIds.get('unreachable')}/test`).set(as(operator)));
      expect(refused.body.data).toMatchObject({ reachable: false, auth_ok: false, reason: 'unreachable' });
    });
  });

  describe('deployments', () => {
    let keyId: string;
    let publicKey: string;

    beforeAll(async () => {
      const key = (await newKey()).body.data as { id: string; public_key: string };
      keyId = key.id;
      publicKey = key.public_key;
      // Pin the last server's key, then change it: the deployment must refuse it.
      await call(t.http.post(`/api/v1/idrac/servers/${serverIds.get('host_key_mismatch')}/test`).set(as(operator))).then((r) =>
        expect(r.body.data.auth_ok).toBe(true),
      );
      await simulator('host_key_mismatch').rotateHostKey();
    });

    it('ends each fault in its precise reason within its timeout while the others succeed', async () => {
      const started = Date.now();
      const accepted = await call(t.http.post('/api/v1/idrac/deployments').set(as(operator)).send({ key_id: keyId, tag: FLEET, concurrency: 4 }));
      expect(accepted.status).toBe(202);
      expect(accepted.headers.location).toBe(`/api/v1/operations/${accepted.body.data.id}`);
      const operation = await waitFor(accepted.body.data.id as string);
      expect(operation.status).toBe('succeeded');
      const result = await deployment(operation.resource.id);
      const outcomes = byName(result.servers);
      expect(Object.fromEntries(Object.entries(outcomes).map(([name, r]) => [name, r && `${r.outcome}:${r.reason ?? ''}`]))).toEqual({
        banner: 'succeeded:',
        line: 'succeeded:',
        'keyboard-interactive': 'succeeded:',
        spare: undefined,
        auth_failed: 'failed:auth_failed',
        timeout_hang: 'failed:timeout',
        timeout_slow: 'failed:timeout',
        unreachable: 'failed:unreachable',
        no_free_slot: 'failed:no_free_slot',
        host_key_mismatch: 'failed:host_key_mismatch',
      });
      expect(result.summary).toEqual({ total: 9, pending: 0, succeeded: 3, skipped: 0, failed: 6 });
      // Each fault ended within its own timeout (plus scheduling slack), not the sum of them.
      for (const name of faulty) expect(outcomes[name]!.duration_ms).toBeLessThan(CONNECT_TIMEOUT_MS + COMMAND_TIMEOUT_MS + 1_500);
      expect(Date.now() - started).toBeLessThan(15_000);
      for (const name of ['banner', 'line', 'keyboard-interactive'] as const) {
        expect(simulator(name).slots().filter((slot) => slot !== null)).toHaveLength(1);
        expect(simulator(name).slots()[outcomes[name]!.slots[0] - 1]).toContain(publicKey.split(' ')[1].slice(0, 40));
      }
      expect(simulator('auth_failed').slots().every((slot) => slot === null)).toBe(true);

      await idracEvents.next((event) => event.type === 'idrac_deploy_start' && event.operation_id === operation.id);
      await idracEvents.next((event) => event.type === 'idrac_deploy_error' && event.operation_id === operation.id);
      const progress = idracEvents.events.filter((event) => event.type === 'idrac_deploy_progress' && event.operation_id === operation.id);
      expect(progress).toHaveLength(9);
    });

    it('logs in with a generated key once it is deployed', async () => {
      const sim = simulator('banner');
      const created = await call(
        t.http.post('/api/v1/idrac/servers').set(as(operator)).send({
          name: unique('by-key'),
          host: '127.0.0.1',
          port: sim.port,
          username: sim.username,
          auth_key_id: keyId,
        }),
      );
      expect(created.body.data).toMatchObject({ auth: 'key', auth_key_id: keyId });
      const tested = await call(t.http.post(`/api/v1/idrac/servers/${created.body.data.id}/test`).set(as(operator)));
      expect(tested.body.data).toMatchObject({ reachable: true, auth_ok: true, reason: null });
      expectErrorEnvelope(await call(t.http.delete(`/api/v1/idrac/keys/${keyId}`).set(as(operator))), 409, 'IDRAC_KEY.IN_USE');
      await call(t.http.delete(`/api/v1/idrac/servers/${created.body.data.id}`).set(as(operator))).then((r) => expect(r.status).toBe(200));
    });

    it('reports skipped everywhere when the same key is deployed again, and a revocation removes it', async () => {
      const healthyIds = ['banner', 'line', 'keyboard-interactive'].map((name) => serverIds.get(name)!);
      const again = await call(t.http.post('/api/v1/idrac/deployments').set(as(operator)).send({ key_id: keyId, server_ids: healthyIds }));
      const operation = await waitFor(again.body.data.id as string);
      const repeated = await deployment(operation.resource.id);
      expect(repeated.summary).toMatchObject({ total: 3, skipped: 3, succeeded: 0, failed: 0 });

      const revoked = await call(t.http.post('/api/v1/idrac/revocations').set(as(operator)).send({ key_id: keyId, server_ids: healthyIds }));
      expect(revoked.status).toBe(202);
      const revocation = await deployment((await waitFor(revoked.body.data.id as string)).resource.id);
      expect(revocation).toMatchObject({ kind: 'revoke', summary: { total: 3, succeeded: 3, failed: 0 } });
      for (const name of ['banner', 'line', 'keyboard-interactive'] as const) {
        expect(simulator(name).slots().every((slot) => slot === null)).toBe(true);
      }
    });

    it('deploys after the changed host key is re-pinned through PUT', async () => {
      const id = serverIds.get('host_key_mismatch')!;
      await call(t.http.put(`/api/v1/idrac/servers/${id}`).set(as(operator)).send({ host_key_fingerprint: null })).then((r) =>
        expect(r.body.data.host_key_fingerprint).toBeNull(),
      );
      const accepted = await call(t.http.post('/api/v1/idrac/deployments').set(as(operator)).send({ key_id: keyId, server_ids: [id], key_slot: 3 }));
      const result = await deployment((await waitFor(accepted.body.data.id as string)).resource.id);
      expect(result.servers[0]).toMatchObject({ outcome: 'succeeded', slots: [3] });
      const server = await call(t.http.get(`/api/v1/idrac/servers/${id}`).set(as(viewer)));
      expect(server.body.data.host_key_fingerprint).toBe(simulator('host_key_mismatch').hostKeyFingerprint);
    });

    it('refuses bad deployments with 400 naming what is wrong', async () => {
      const unknownServer = randomUUID();
      const unknown = await call(
        t.http.post('/api/v1/idrac/deployments').set(as(operator)).send({ key_id: keyId, server_ids: [serverIds.get('banner'), unknownServer] }),
      );
      expectErrorEnvelope(unknown, 400, 'IDRAC_SERVER.UNKNOWN');
      expect(JSON.stringify(unknown.body.details)).toContain(unknownServer);
      expectErrorEnvelope(await call(t.http.post('/api/v1/idrac/deployments').set(as(operator)).send({ key_id: keyId, tag: 'nobody-has-this' })), 400, 'IDRAC_DEPLOYMENT.NO_SERVERS');
      for (const body of [
        { key_id: keyId },
        { key_id: keyId, tag: FLEET, server_ids: [serverIds.get('banner')] },
        { key_id: keyId, tag: FLEET, key_slot: 5 },
        { key_id: keyId, tag: FLEET, key_slot: 0 },
        { key_id: keyId, tag: FLEET, key_slot: 'first' },
        { key_id: randomUUID(), tag: FLEET },
        { key_id: 'nope', tag: FLEET },
        { key_id: keyId, server_ids: [] },
        { key_id: keyId, server_ids: ['not-a-uuid'] },
      ]) {
        expectErrorEnvelope(await call(t.http.post('/api/v1/idrac/deployments').set(as(operator)).send(body)), 400);
      }
      expectErrorEnvelope(await call(t.http.post('/api/v1/idrac/deployments').set(as(viewer)).send({ key_id: keyId, tag: FLEET })), 403);
      expectErrorEnvelope(await call(t.http.get(`/api/v1/idrac/deployments/${randomUUID()}`).set(as(viewer))), 404);
    });

    it('refuses to delete a key while a deployment uses it, then deletes key and file', async () => {
      const key = (await newKey()).body.data as { id: string };
      await simulator('spare').setFaults({ latencyMs: 300 });
      const accepted = await call(
        t.http.post('/api/v1/idrac/deployments').set(as(operator)).send({ key_id: key.id, server_ids: [serverIds.get('spare')] }),
      );
      expectErrorEnvelope(await call(t.http.delete(`/api/v1/idrac/keys/${key.id}`).set(as(operator))), 409, 'IDRAC_KEY.IN_USE');
      await waitFor(accepted.body.data.id as string);
      await simulator('spare').setFaults({ latencyMs: 0 });
      expect((await call(t.http.delete(`/api/v1/idrac/keys/${key.id}`).set(as(operator)))).status).toBe(200);
      expect(existsSync(join(t.dataDir, 'ssh', `${key.id}.key`))).toBe(false);
      expectErrorEnvelope(await call(t.http.get(`/api/v1/idrac/keys/${key.id}`).set(as(viewer))), 404);
    });

    withSharedDatabase(it)('leaves a deployment interrupted, not running, when the service restarts mid-way', async () => {
      const key = (await newKey()).body.data as { id: string };
      // Three commands of 3 s each outlast the 5 s shutdown grace, so the run is cut off.
      await simulator('spare').setFaults({ latencyMs: 3_000 });
      const second = await startTestApp({ env: { ...env(), INSTANCE_NAME: unique('idrac-restart'), IDRAC_COMMAND_TIMEOUT_MS: '20000' } });
      try {
        const accepted = await second.http
          .post('/api/v1/idrac/deployments')
          .set(as(operator))
          .send({ key_id: key.id, server_ids: [serverIds.get('spare')] })
          .expect(202);
        await second.http.get(`/api/v1/operations/${accepted.body.data.id}/wait`).query({ timeout: 0 }).set(as(viewer));
        await second.close();
        const after = await waitFor(accepted.body.data.id as string, 0);
        expect(after).toMatchObject({ status: 'interrupted' });
      } finally {
        await simulator('spare').setFaults({ latencyMs: 0 });
      }
    });
  });

  it('writes no password, private key, token or API key into any log line or response body', async () => {
    const apiKey = await fixtures.newApiKey({ role: 'operator', organizationId: operator.organizationId });
    secrets.push(apiKey.key);
    await call(t.http.get('/api/v1/idrac/servers').set('X-API-Key', apiKey.key));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const logs = readdirSync(logDir)
      .map((name) => readFileSync(join(logDir, name), 'utf8'))
      .join('\n');
    expect(logs.length).toBeGreaterThan(1000);
    const bodies = responses.map((response) => JSON.stringify(response.body)).join('\n');
    for (const secret of secrets) {
      expect({ secret: secret.slice(0, 12), inLogs: logs.includes(secret) }).toEqual({ secret: secret.slice(0, 12), inLogs: false });
      expect({ secret: secret.slice(0, 12), inBodies: bodies.includes(secret) }).toEqual({ secret: secret.slice(0, 12), inBodies: false });
    }
  });
});
