import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io-client';
import { bearer, IdentityFixtures, unique, type TestUser } from '../support/identity.js';
import { ProbeOperationsModule } from '../support/probe-operations.module.js';
import { connectSocket, EventRecorder, joinRoom } from '../support/socket.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { withSharedDatabase } from '../support/test-database.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Two instances behind one database and one Redis (DESIGN.md §2): an operation run by instance A is seen live
 * by a dashboard connected to instance B (the Socket.IO Redis adapter), and B's /wait sees it end.
 */
withSharedDatabase(describe)('events across instances (REDIS_URL; needs TEST_DATABASE_URL to share one database)', () => {
  const jwtSecret = `scale-out-${randomUUID()}`;
  let a: TestApp;
  let b: TestApp;
  let operator: TestUser;
  let viewer: TestUser;
  let dashboardOnB: Socket;
  let updates: EventRecorder;

  beforeAll(async () => {
    const shared = { REDIS_URL, JWT_SECRET: jwtSecret };
    a = await startTestApp({ listen: true, extraModules: [ProbeOperationsModule], env: { ...shared, INSTANCE_NAME: unique('instance-a') } });
    b = await startTestApp({ listen: true, env: { ...shared, INSTANCE_NAME: unique('instance-b') } });
    const fixtures = new IdentityFixtures(a);
    const organization = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', organization.id);
    viewer = await fixtures.newUser('viewer', organization.id);
    dashboardOnB = await connectSocket(b.url!, { token: viewer.token });
    updates = new EventRecorder(dashboardOnB, 'operation_update');
    expect(await joinRoom(dashboardOnB, 'operations')).toEqual({ ok: true, room: 'operations' });
  });

  afterAll(async () => {
    dashboardOnB?.close();
    await b?.close();
    await a?.close();
  });

  it("delivers instance A's operation events to a client of instance B, and B's wait sees the end", async () => {
    const key = unique('scale');
    const accepted = await a.http.post(`/api/v1/probe-operations/${key}`).set(bearer(operator.token)).expect(202);
    const id = accepted.body.data.id as string;
    await updates.next((event) => event.operation_id === id && event.type === 'operation_running');

    const waiting = b.http.get(`/api/v1/operations/${id}/wait`).query({ timeout: 10 }).set(bearer(viewer.token));
    await a.http.post(`/api/v1/probe-operations/${key}/release`).set(bearer(operator.token)).send({}).expect(201);
    const ended = await waiting;
    expect(ended.status).toBe(200);
    expect(ended.body.data).toMatchObject({ id, status: 'succeeded' });
    await updates.next((event) => event.operation_id === id && event.type === 'operation_succeeded');
  });
});
