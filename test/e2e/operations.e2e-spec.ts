import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io-client';
import { DataSource } from 'typeorm';
import { expectErrorEnvelope, auditRows } from '../support/http-assertions.js';
import { bearer, IdentityFixtures, unique, type TestUser } from '../support/identity.js';
import { ProbeOperationsModule } from '../support/probe-operations.module.js';
import { connectSocket, EventRecorder, joinRoom, refusedConnection } from '../support/socket.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { withSharedDatabase } from '../support/test-database.js';

interface Operation {
  id: string;
  type: string;
  status: string;
  resource: { type: string; id: string };
  progress: Record<string, unknown> | null;
  result: unknown;
  error: { code: string; message: string; reason?: string } | null;
  may_cancel: boolean;
  requested_by: { kind: string; id: string | null; label: string | null };
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/**
 * Operations (DESIGN.md §3) and the Socket.IO gateway (§4), driven by a probe operation the test releases by
 * hand, on an app that runs one operation at a time so `pending` can be observed and cancelled.
 */
describe('operations and the Socket.IO gateway', () => {
  const instance = unique('ops-instance');
  // Every app of this file signs and checks tokens with the same secret, as instances of one deployment do.
  const jwtSecret = `operations-e2e-${randomUUID()}`;
  let t: TestApp;
  let fixtures: IdentityFixtures;
  let operator: TestUser;
  let viewer: TestUser;
  let otherOperator: TestUser;
  let dashboard: Socket;
  let updates: EventRecorder;

  beforeAll(async () => {
    t = await startTestApp({
      listen: true,
      extraModules: [ProbeOperationsModule],
      env: { OPERATIONS_MAX_RUNNING: '1', INSTANCE_NAME: instance, JWT_SECRET: jwtSecret },
    });
    fixtures = new IdentityFixtures(t);
    const organization = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', organization.id);
    viewer = await fixtures.newUser('viewer', organization.id);
    otherOperator = await fixtures.newUser('operator', (await fixtures.newOrganization()).id);
    dashboard = await connectSocket(t.url!, { token: viewer.token });
    updates = new EventRecorder(dashboard, 'operation_update');
    expect(await joinRoom(dashboard, 'operations')).toEqual({ ok: true, room: 'operations' });
  });

  afterAll(async () => {
    dashboard?.close();
    await t?.close();
  });

  const start = (key: string, token = operator.token) => t.http.post(`/api/v1/probe-operations/${key}`).set(bearer(token));
  const release = (key: string, fail = false) =>
    t.http.post(`/api/v1/probe-operations/${key}/release`).set(bearer(operator.token)).send({ fail }).expect(201);
  const getOperation = (id: string, token = viewer.token) => t.http.get(`/api/v1/operations/${id}`).set(bearer(token));
  const waitFor = (id: string, timeout: number) =>
    t.http.get(`/api/v1/operations/${id}/wait`).query({ timeout }).set(bearer(viewer.token));

  it('answers 202 with Location, runs in the background, and wait returns it once it ends', async () => {
    const key = unique('ok');
    const accepted = await start(key).expect(202);
    const operation = accepted.body.data as Operation;
    expect(accepted.headers.location).toBe(`/api/v1/operations/${operation.id}`);
    expect(operation).toMatchObject({
      type: 'probe.gate',
      status: 'pending',
      resource: { type: 'probe', id: key },
      may_cancel: true,
      requested_by: { kind: 'user', id: operator.id, label: operator.email },
      started_at: null,
      finished_at: null,
    });

    const stillRunning = await waitFor(operation.id, 1).expect(200);
    expect(stillRunning.body.data).toMatchObject({ status: 'running', may_cancel: false, progress: { step: 'waiting' } });

    await release(key);
    const ended = (await waitFor(operation.id, 10).expect(200)).body.data as Operation;
    expect(ended).toMatchObject({ status: 'succeeded', result: { key, released: true }, error: null });
    expect(Date.parse(ended.finished_at!)).toBeGreaterThanOrEqual(Date.parse(ended.started_at!));

    for (const type of ['operation_pending', 'operation_running', 'operation_progress', 'operation_succeeded']) {
      await updates.next((event) => event.operation_id === operation.id && event.type === type);
    }
    const order = updates.events.filter((event) => event.operation_id === operation.id).map((event) => event.type);
    expect(order.indexOf('operation_pending')).toBeLessThan(order.indexOf('operation_running'));
    expect(order.indexOf('operation_running')).toBeLessThan(order.indexOf('operation_succeeded'));

    const { rows: audit } = await auditRows(t, await fixtures.admin(), { action: 'probe.gate' });
    expect(audit.find((row) => row.changes?.operation_id === operation.id)).toMatchObject({ status_code: 202, outcome: 'success' });
  });

  it('stores a failed run with the error the route would have answered', async () => {
    const key = unique('fail');
    const operation = (await start(key).expect(202)).body.data as Operation;
    await release(key, true);
    const ended = (await waitFor(operation.id, 10).expect(200)).body.data as Operation;
    expect(ended).toMatchObject({ status: 'failed', result: null, error: { code: 'PROBE.FAILED', status: 422 } });
    await updates.next((event) => event.operation_id === operation.id && event.type === 'operation_failed');
  });

  it('refuses a second operation on a busy resource with 409 naming the one under way', async () => {
    const key = unique('busy');
    const first = (await start(key).expect(202)).body.data as Operation;
    const second = await start(key);
    expectErrorEnvelope(second, 409, 'OPERATION.RESOURCE_BUSY');
    expect(second.body.details).toMatchObject({ operation_id: first.id, operation_type: 'probe.gate' });
    await release(key);
    await waitFor(first.id, 10).expect(200);
    // Once it has ended the resource is free again.
    const third = (await start(key).expect(202)).body.data as Operation;
    await release(key);
    expect((await waitFor(third.id, 10)).body.data.status).toBe('succeeded');
  });

  it('cancels a pending operation but not a running one', async () => {
    const runningKey = unique('running');
    const queuedKey = unique('queued');
    const running = (await start(runningKey).expect(202)).body.data as Operation;
    await waitFor(running.id, 1);
    const queued = (await start(queuedKey).expect(202)).body.data as Operation;
    expect((await getOperation(queued.id).expect(200)).body.data).toMatchObject({ status: 'pending', may_cancel: true });

    expectErrorEnvelope(await t.http.delete(`/api/v1/operations/${queued.id}`).set(bearer(viewer.token)), 403);
    const cancelled = await t.http.delete(`/api/v1/operations/${queued.id}`).set(bearer(operator.token)).expect(200);
    expect(cancelled.body.data).toMatchObject({ status: 'cancelled', may_cancel: false });
    expect(cancelled.body.data.finished_at).not.toBeNull();

    const refused = await t.http.delete(`/api/v1/operations/${running.id}`).set(bearer(operator.token));
    expectErrorEnvelope(refused, 409, 'OPERATION.NOT_CANCELLABLE');
    await release(runningKey);
    expect((await waitFor(running.id, 10)).body.data.status).toBe('succeeded');
    // The cancelled run never started, even after the slot freed up.
    await release(queuedKey);
    expect((await getOperation(queued.id).expect(200)).body.data).toMatchObject({ status: 'cancelled', started_at: null });
  });

  it('lists with filters, newest first, and hides requesters of other organizations from non-admins', async () => {
    const key = unique('list');
    const mine = (await start(key, otherOperator.token).expect(202)).body.data as Operation;
    await release(key);
    await waitFor(mine.id, 10);
    const list = await t.http
      .get('/api/v1/operations')
      .query({ resource_type: 'probe', resource_id: key, status: 'succeeded' })
      .set(bearer(viewer.token))
      .expect(200);
    expect(list.body.meta).toMatchObject({ page: 1, per_page: 20, total: 1 });
    expect(list.body.data[0]).toMatchObject({ id: mine.id, requested_by: { kind: 'user', id: null, label: null } });
    const asAdmin = await t.http.get(`/api/v1/operations/${mine.id}`).set(bearer(await fixtures.admin())).expect(200);
    expect(asAdmin.body.data.requested_by).toEqual({ kind: 'user', id: otherOperator.id, label: otherOperator.email });

    const recent = await t.http.get('/api/v1/operations').query({ type: 'probe.gate', per_page: 100 }).set(bearer(viewer.token)).expect(200);
    const created = (recent.body.data as Operation[]).map((operation) => Date.parse(operation.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('answers bad ids and filters with 400 and unknown ids with 404', async () => {
    expectErrorEnvelope(await getOperation('not-a-uuid'), 400);
    expectErrorEnvelope(await getOperation(randomUUID()), 404, 'OPERATION.NOT_FOUND');
    expectErrorEnvelope(await waitFor(randomUUID(), 1), 404);
    expectErrorEnvelope(await t.http.get(`/api/v1/operations/${randomUUID()}/wait`).query({ timeout: -1 }).set(bearer(viewer.token)), 400);
    expectErrorEnvelope(await t.http.get('/api/v1/operations').query({ status: 'exploded' }).set(bearer(viewer.token)), 400);
    expectErrorEnvelope(await t.http.delete(`/api/v1/operations/${randomUUID()}`).set(bearer(operator.token)), 404);
    expectErrorEnvelope(await t.http.get('/api/v1/operations'), 401);
  });

  it('refuses Socket.IO clients without valid credentials and rooms a role may not see', async () => {
    expect((await refusedConnection(t.url!, {})).data?.code).toBe('UNAUTHORIZED');
    expect((await refusedConnection(t.url!, { token: 'a.b.c' })).data?.code).toBe('UNAUTHORIZED');
    expect((await refusedConnection(t.url!, { api_key: 'x'.repeat(40) })).data?.code).toBe('UNAUTHORIZED');

    const organization = await fixtures.newOrganization();
    const site = await fixtures.newSite(organization.id);
    const siteKey = await fixtures.newApiKey({ role: 'operator', organizationId: organization.id, siteId: site.id });
    const machine = await connectSocket(t.url!, { api_key: siteKey.key });
    try {
      expect(await joinRoom(machine, 'containers')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      expect(await joinRoom(machine, 'operations')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    } finally {
      machine.close();
    }
    expect(await joinRoom(dashboard, 'container:web-01')).toEqual({ ok: true, room: 'container:web-01' });
    expect(await joinRoom(dashboard, 'container:../etc')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await joinRoom(dashboard, 'nowhere')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await joinRoom(dashboard, 42)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await dashboard.timeout(5_000).emitWithAck('leave_room', { room: 'container:web-01' })).toEqual({ ok: true, room: 'container:web-01' });
  });

  withSharedDatabase(it)('marks what an instance left unfinished as interrupted when it starts again', async () => {
    const crashed = unique('crashed-instance');
    const dataSource = t.opsdeck.app.get(DataSource);
    const [row] = await dataSource.query<Array<{ id: string }>>(
      `INSERT INTO operations (type, status, resource_type, resource_id, lock_key, instance, requested_by_kind, requested_by_label, started_at)
       VALUES ('probe.gate', 'running', 'probe', $1, $2, $3, 'user', 'someone@example.test', now()) RETURNING id`,
      [crashed, `probe:${crashed}`, crashed],
    );
    const restarted = await startTestApp({ env: { INSTANCE_NAME: crashed, JWT_SECRET: jwtSecret } });
    try {
      const after = await restarted.http.get(`/api/v1/operations/${row.id}`).set(bearer(viewer.token)).expect(200);
      expect(after.body.data).toMatchObject({ status: 'interrupted', error: { code: 'OPERATION.INTERRUPTED' } });
      expect(after.body.data.finished_at).not.toBeNull();
    } finally {
      await restarted.close();
    }
  });

  withSharedDatabase(it)('interrupts its own running operations when it shuts down', async () => {
    const name = unique('stopping-instance');
    const stopping = await startTestApp({ extraModules: [ProbeOperationsModule], env: { INSTANCE_NAME: name, JWT_SECRET: jwtSecret } });
    const key = unique('shutdown');
    const operation = (await stopping.http.post(`/api/v1/probe-operations/${key}`).set(bearer(operator.token)).expect(202)).body
      .data as Operation;
    await stopping.http.get(`/api/v1/operations/${operation.id}/wait`).query({ timeout: 1 }).set(bearer(viewer.token));
    await stopping.close();
    const after = await getOperation(operation.id).expect(200);
    expect(after.body.data).toMatchObject({ status: 'interrupted', error: { reason: 'interrupted' } });
  });
});
