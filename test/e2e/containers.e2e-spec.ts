import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { fakeLxc, type FakeLxc } from '../support/fake-lxc.js';
import { FakeLxcHostModule } from '../support/fake-lxc-host.module.js';
import { auditRows, expectErrorEnvelope } from '../support/http-assertions.js';
import { bearer, IdentityFixtures, type TestUser } from '../support/identity.js';
import { connectSocket, EventRecorder, joinRoom, refusedConnection } from '../support/socket.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJMMqBqF3ZiDepnDjcjw3PlVAtcGadLG5PkuUk1UHIbZ ops@example';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPK3Vt7i4zLeQ173lPU2hTgnUnGLbgVwt3vsCssSSzNv';

interface Operation {
  id: string;
  status: string;
  type: string;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; reason?: string } | null;
}

/**
 * The containers API over HTTP, operations and Socket.IO, on the fake LXC tool set (issue 5; the real-LXC flow
 * is test/integration). The fake prints what LXC 5.0 prints and logs every call, so "nothing was spawned" is
 * checked against that log.
 */
describe('containers', () => {
  let fake: FakeLxc;
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let operator: TestUser;
  let viewer: TestUser;
  let dashboard: Socket;
  let updates: EventRecorder;

  beforeAll(async () => {
    fake = fakeLxc();
    t = await startTestApp({
      listen: true,
      env: { LXC_PATH: fake.lxcPath, LXC_TOOLS_PATH: fake.toolsPath },
      extraModules: [FakeLxcHostModule.with(fake.hostOptions)],
    });
    fixtures = new IdentityFixtures(t);
    const organization = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', organization.id);
    viewer = await fixtures.newUser('viewer', organization.id);
    dashboard = await connectSocket(t.url!, { token: viewer.token });
    updates = new EventRecorder(dashboard, 'container_update');
    expect(await joinRoom(dashboard, 'containers')).toEqual({ ok: true, room: 'containers' });
  });

  afterAll(async () => {
    dashboard?.close();
    await t?.close();
    fake?.cleanup();
  });

  beforeEach(() => {
    for (const fault of ['delay-lxc-create', 'fail-lxc-create']) fake.clearFault(fault);
  });

  const as = (user: TestUser) => bearer(user.token);
  const waitFor = async (operationId: string): Promise<Operation> =>
    (await t.http.get(`/api/v1/operations/${operationId}/wait`).query({ timeout: 20 }).set(as(viewer)).expect(200)).body.data as Operation;
  const create = (body: Record<string, unknown>, user = operator) => t.http.post('/api/v1/containers').set(as(user)).send(body);
  async function created(name: string, extra: Record<string, unknown> = {}): Promise<Operation> {
    const accepted = await create({ name, template: 'busybox', ...extra }).expect(202);
    const ended = await waitFor(accepted.body.data.id as string);
    expect(ended).toMatchObject({ status: 'succeeded' });
    return ended;
  }

  it('creates and starts a container as an operation, with start then success events to container:<name> in order', async () => {
    const watcher = await connectSocket(t.url!, { token: viewer.token });
    try {
      const events = new EventRecorder(watcher, 'container_update');
      expect(await joinRoom(watcher, 'container:web-1')).toEqual({ ok: true, room: 'container:web-1' });
      const accepted = await create({ name: 'web-1', template: 'busybox', ipv4: '10.0.3.21/24' }).expect(202);
      expect(accepted.headers.location).toBe(`/api/v1/operations/${accepted.body.data.id}`);
      expect(accepted.body.data).toMatchObject({ type: 'container.create', resource: { type: 'container', id: 'web-1' } });

      const ended = await waitFor(accepted.body.data.id as string);
      expect(ended).toMatchObject({ status: 'succeeded', result: { name: 'web-1', state: 'RUNNING', ipv4: ['10.0.3.21'] } });
      const success = await events.next((event) => event.type === 'container_create_success');
      expect(events.events.map((event) => event.type)).toEqual(['container_create_start', 'container_create_success']);
      expect(success).toMatchObject({ container: 'web-1', operation_id: ended.id, status: 'succeeded', error: null });
      expect(typeof success.timestamp).toBe('string');
      // Another container's events do not reach this room.
      await created('other-1');
      expect(events.events.every((event) => event.container === 'web-1')).toBe(true);
    } finally {
      watcher.close();
    }

    const one = await t.http.get('/api/v1/containers/web-1').set(as(viewer)).expect(200);
    expect(one.body.data).toMatchObject({ name: 'web-1', state: 'RUNNING', ipv4: ['10.0.3.21'], autostart: false });
    const list = await t.http.get('/api/v1/containers').query({ state: 'RUNNING', q: 'web' }).set(as(viewer)).expect(200);
    expect((list.body.data as Array<{ name: string }>).map((container) => container.name)).toEqual(['web-1']);
    expect(list.body.meta).toMatchObject({ total: 1, page: 1 });

    const { rows } = await auditRows(t, await fixtures.admin(), { action: 'container.create', actor: operator.id });
    expect(rows.find((row) => row.resource_id === 'web-1')).toMatchObject({ outcome: 'success', status_code: 202, actor: { id: operator.id } });
  });

  it('reports a failing create as container_create_error and a failed operation', async () => {
    fake.setFault('fail-lxc-create', 'lxc-create: broken-1: ../src/lxc/tools/lxc_create.c: main: 318 Failed to create container broken-1');
    const accepted = await create({ name: 'broken-1', template: 'busybox' }).expect(202);
    const ended = await waitFor(accepted.body.data.id as string);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: expect.stringMatching(/^LXC\./), message: expect.stringContaining('Failed to create container') });
    expect(ended.error!.message).not.toMatch(/lxc_create\.c|main: \d+/);
    const error = await updates.next((event) => event.type === 'container_create_error' && event.container === 'broken-1');
    expect(error).toMatchObject({ operation_id: ended.id, status: 'failed', error: { code: ended.error!.code } });
    const order = updates.events.filter((event) => event.container === 'broken-1').map((event) => event.type);
    expect(order).toEqual(['container_create_start', 'container_create_error']);
    expectErrorEnvelope(await t.http.get('/api/v1/containers/broken-1').set(as(viewer)), 404);
  });

  describe('bad input is refused before any process starts', () => {
    const hostile = [
      'has space',
      'a/b',
      '../etc',
      '$(reboot)',
      'a;b',
      '`id`',
      'line\nbreak',
      '-rf',
      'x'.repeat(64),
      '',
      '.hidden',
    ];

    it.each(hostile)('POST /containers with name %j → 400', async (name) => {
      const before = fake.calls().length;
      const response = await create({ name, template: 'busybox' });
      expectErrorEnvelope(response, 400);
      expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'name' })]));
      expect(fake.calls()).toHaveLength(before);
    });

    it.each(hostile.filter((name) => name !== ''))('path name %j → 400 on every container route', async (name) => {
      const before = fake.calls().length;
      const path = `/api/v1/containers/${encodeURIComponent(name)}`;
      for (const request of [
        t.http.get(path).set(as(viewer)),
        t.http.delete(path).set(as(operator)),
        t.http.post(`${path}/restart`).set(as(operator)),
        t.http.post(`${path}/connect`).set(as(operator)),
        t.http.post(`${path}/authkey`).set(as(operator)).send({ public_keys: [KEY_A] }),
        t.http.get(`${path}/portforward`).set(as(viewer)),
      ]) {
        const response = await request;
        // A slash splits the path into other routes: those are 404s, never a spawned process.
        expect([400, 404]).toContain(response.status);
        expectErrorEnvelope(response, response.status);
      }
      expect(fake.calls()).toHaveLength(before);
    });

    it('refuses unknown templates, malformed images, both at once, and bad addresses', async () => {
      expectErrorEnvelope(await create({ name: 'tpl-1', template: 'nosuch' }), 400, 'CONTAINER.UNKNOWN_TEMPLATE');
      const before = fake.calls().length;
      for (const body of [
        { name: 'img-1', image: 'debian' },
        { name: 'img-1', image: 'debian:bookworm;reboot' },
        { name: 'img-1', image: '../x:y' },
        { name: 'img-1', template: 'Bad Template' },
        { name: 'img-1', image: 'debian:bookworm', template: 'busybox' },
        { name: 'img-1', ipv4: '10.0.3.300/24' },
        { name: 'img-1', ipv4: '10.0.3.5' },
        { name: 'img-1', start: 'yes' },
        { name: 'img-1', extra: true },
      ]) {
        expectErrorEnvelope(await create(body), 400);
      }
      expect(fake.calls()).toHaveLength(before);
    });

    it('answers 409 for an existing name or address, and 404 for a container that does not exist', async () => {
      await created('dup-1', { ipv4: '10.0.3.31/24' });
      expectErrorEnvelope(await create({ name: 'dup-1' }), 409, 'CONTAINER.EXISTS');
      expectErrorEnvelope(await create({ name: 'dup-2', ipv4: '10.0.3.31/24' }), 409, 'CONTAINER.ADDRESS_TAKEN');
      for (const response of [
        await t.http.get('/api/v1/containers/ghost').set(as(viewer)),
        await t.http.delete('/api/v1/containers/ghost').set(as(operator)),
        await t.http.post('/api/v1/containers/ghost/start').set(as(operator)),
        await t.http.post('/api/v1/containers/ghost/connect').set(as(operator)),
      ]) {
        expectErrorEnvelope(response, 404);
      }
    });
  });

  it('refuses a second action on a container while an operation is under way (409)', async () => {
    fake.setFault('delay-lxc-create', '1.5');
    const accepted = await create({ name: 'slow-1', template: 'busybox' }).expect(202);
    await t.http.get(`/api/v1/operations/${accepted.body.data.id}/wait`).query({ timeout: 0 }).set(as(viewer));
    // Until lxc-create has made it the container does not exist, so a second create is the busy case.
    expectErrorEnvelope(await create({ name: 'slow-1', template: 'busybox' }), 409);
    await waitFor(accepted.body.data.id as string);
    fake.clearFault('delay-lxc-create');

    fake.setFault('delay-lxc-start', '1.5');
    const restarting = await t.http.post('/api/v1/containers/slow-1/restart').set(as(operator)).expect(202);
    const busy = await t.http.post('/api/v1/containers/slow-1/stop').set(as(operator));
    expectErrorEnvelope(busy, 409, 'OPERATION.RESOURCE_BUSY');
    expect(busy.body.details).toMatchObject({ operation_id: restarting.body.data.id });
    expectErrorEnvelope(
      await t.http.post('/api/v1/containers/slow-1/portforward').set(as(operator)).send({ name: 'web', protocol: 'tcp', host_port: 18081, container_port: 80 }),
      409,
      'OPERATION.RESOURCE_BUSY',
    );
    expect((await waitFor(restarting.body.data.id as string)).status).toBe('succeeded');
    fake.clearFault('delay-lxc-start');
  });

  it('stops, starts and restarts, each as an operation with its events', async () => {
    await created('life-1');
    for (const [action, state] of [
      ['stop', 'STOPPED'],
      ['start', 'RUNNING'],
      ['restart', 'RUNNING'],
    ] as const) {
      const accepted = await t.http.post(`/api/v1/containers/life-1/${action}`).set(as(operator)).expect(202);
      const ended = await waitFor(accepted.body.data.id as string);
      expect(ended).toMatchObject({ type: `container.${action}`, status: 'succeeded', result: { state } });
      await updates.next((event) => event.type === `container_${action}_success` && event.operation_id === ended.id);
    }
  });

  it('deploys public keys into a running container, skipping keys already there, with modes 700/600', async () => {
    await created('keys-1');
    const first = await t.http.post('/api/v1/containers/keys-1/authkey').set(as(operator)).send({ public_keys: [KEY_A] }).expect(202);
    expect(await waitFor(first.body.data.id as string)).toMatchObject({ status: 'succeeded', result: { user: 'root', added: 1, skipped: 0 } });
    const second = await t.http
      .post('/api/v1/containers/keys-1/authkey')
      .set(as(operator))
      .send({ public_keys: [KEY_A.replace('ops@example', 'renamed'), KEY_B] })
      .expect(202);
    expect(await waitFor(second.body.data.id as string)).toMatchObject({ status: 'succeeded', result: { added: 1, skipped: 1 } });
    const keys = fake.authorizedKeys('keys-1')!;
    expect(keys.trim().split('\n')).toHaveLength(2);
    const ssh = join(fake.lxcPath, 'keys-1', 'rootfs', 'root', '.ssh');
    expect(statSync(ssh).mode & 0o777).toBe(0o700);
    expect(statSync(join(ssh, 'authorized_keys')).mode & 0o777).toBe(0o600);
    await updates.next((event) => event.type === 'authkey_deploy_success' && event.container === 'keys-1');

    for (const body of [
      { public_keys: [] },
      { public_keys: ['not a key'] },
      { public_keys: [`${KEY_A}\nssh-rsa AAAA injected`] },
      { public_keys: [KEY_A], user: '../root' },
      { public_keys: [KEY_A], user: 'root; reboot' },
    ]) {
      expectErrorEnvelope(await t.http.post('/api/v1/containers/keys-1/authkey').set(as(operator)).send(body), 400);
    }
    const stopped = await t.http.post('/api/v1/containers/keys-1/stop').set(as(operator)).expect(202);
    await waitFor(stopped.body.data.id as string);
    expectErrorEnvelope(
      await t.http.post('/api/v1/containers/keys-1/authkey').set(as(operator)).send({ public_keys: [KEY_A] }),
      422,
      'CONTAINER.NOT_RUNNING',
    );
  });

  it('adds, lists and removes port forwards; a forwarded host port is 409', async () => {
    await created('pf-1', { ipv4: '10.0.3.41/24' });
    await created('pf-2', { ipv4: '10.0.3.42/24' });
    const added = await t.http
      .post('/api/v1/containers/pf-1/portforward')
      .set(as(operator))
      .send({ name: 'ssh', protocol: 'tcp', host_port: 2241, container_port: 22 })
      .expect(201);
    expect(added.body.data).toEqual({ name: 'ssh', container: 'pf-1', protocol: 'tcp', host_port: 2241, container_address: '10.0.3.41', container_port: 22 });
    await updates.next((event) => event.type === 'portforward_create_success' && event.container === 'pf-1');

    expectErrorEnvelope(
      await t.http.post('/api/v1/containers/pf-2/portforward').set(as(operator)).send({ name: 'other', protocol: 'tcp', host_port: 2241, container_port: 22 }),
      409,
      'PORTFORWARD.HOST_PORT_TAKEN',
    );
    for (const body of [
      { name: 'x', protocol: 'sctp', host_port: 2242, container_port: 22 },
      { name: 'x', protocol: 'tcp', host_port: 0, container_port: 22 },
      { name: 'x', protocol: 'tcp', host_port: 70000, container_port: 22 },
      { name: 'x', protocol: 'tcp', host_port: '2242', container_port: 22 },
      { name: 'bad name', protocol: 'tcp', host_port: 2242, container_port: 22 },
    ]) {
      expectErrorEnvelope(await t.http.post('/api/v1/containers/pf-2/portforward').set(as(operator)).send(body), 400);
    }

    const list = await t.http.get('/api/v1/containers/pf-1/portforward').set(as(viewer)).expect(200);
    expect(list.body.data).toEqual([added.body.data]);
    const connection = await t.http.post('/api/v1/containers/pf-1/connect').set(as(operator)).expect(200);
    expect(connection.body.data).toMatchObject({ ipv4: '10.0.3.41', ssh_user: 'root', ssh_command: 'ssh root@10.0.3.41', port_forwards: [added.body.data] });

    await t.http.delete('/api/v1/containers/pf-1/portforward/ssh').set(as(operator)).expect(200);
    expect((await t.http.get('/api/v1/containers/pf-1/portforward').set(as(viewer)).expect(200)).body.data).toEqual([]);
    expectErrorEnvelope(await t.http.delete('/api/v1/containers/pf-1/portforward/ssh').set(as(operator)), 404);
  });

  it('deletes a container with its port forwards', async () => {
    await created('gone-1', { ipv4: '10.0.3.51/24' });
    await t.http
      .post('/api/v1/containers/gone-1/portforward')
      .set(as(operator))
      .send({ name: 'web', protocol: 'tcp', host_port: 18051, container_port: 80 })
      .expect(201);
    const accepted = await t.http.delete('/api/v1/containers/gone-1').set(as(operator)).expect(202);
    expect(await waitFor(accepted.body.data.id as string)).toMatchObject({ status: 'succeeded', type: 'container.delete' });
    expectErrorEnvelope(await t.http.get('/api/v1/containers/gone-1').set(as(viewer)), 404);
    const calls = fake.calls().map((call) => call.join(' '));
    expect(calls.some((call) => call.startsWith('lxc-stop') && call.includes('gone-1'))).toBe(true);
    expect(calls.some((call) => call.startsWith('lxc-destroy') && call.includes('gone-1'))).toBe(true);
    const dashboardTypes = updates.events.filter((event) => event.container === 'gone-1').map((event) => event.type);
    expect(dashboardTypes).toEqual(expect.arrayContaining(['container_delete_start', 'container_delete_success']));
  });

  it('lists templates and cached images, and sets up macvlan networking as an operation', async () => {
    const images = await t.http.get('/api/v1/images').set(as(viewer)).expect(200);
    expect(images.body.data).toEqual(
      expect.arrayContaining([
        { kind: 'template', name: 'busybox', arch: null, variant: null },
        { kind: 'image', name: 'debian:bookworm', arch: 'amd64', variant: 'default' },
      ]),
    );
    await created('net-1');
    const accepted = await t.http.post('/api/v1/network/setup').set(as(operator)).send({ type: 'macvlan', parent: 'eth0', mode: 'bridge', container: 'net-1' }).expect(202);
    expect(await waitFor(accepted.body.data.id as string)).toMatchObject({ status: 'succeeded', type: 'network.setup' });
    await updates.next((event) => event.type === 'network_setup_success' && event.container === 'net-1');
    for (const body of [
      { type: 'bridge', parent: 'eth0', mode: 'bridge' },
      { type: 'macvlan', parent: 'eth0;reboot', mode: 'bridge' },
      { type: 'macvlan', parent: 'eth0', mode: 'loud' },
    ]) {
      expectErrorEnvelope(await t.http.post('/api/v1/network/setup').set(as(operator)).send(body), 400);
    }
  });

  it('lets viewers read and only operators and admins act', async () => {
    await t.http.get('/api/v1/containers').set(as(viewer)).expect(200);
    expectErrorEnvelope(await create({ name: 'viewer-1' }, viewer), 403);
    expectErrorEnvelope(await t.http.post('/api/v1/containers/web-1/stop').set(as(viewer)), 403);
    expectErrorEnvelope(await t.http.get('/api/v1/containers'), 401);
    expect((await refusedConnection(t.url!, { token: 'not-a-token' })).data?.code).toBe('UNAUTHORIZED');
  });
});
