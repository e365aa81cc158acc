import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { drain } from '../../src/shutdown.js';
import { ProbeModule } from '../support/probe.module.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('graceful shutdown', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp({ extraModules: [ProbeModule] });
    await t.opsdeck.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await t.close();
  });

  it('lets an in-flight request finish, refuses new connections, then reports drained', async () => {
    const inFlight = fetch(`${base}/api/v1/probe/slow?ms=700`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const drained = drain(t.server, 5_000);
    await expect(fetch(`${base}/api/health`)).rejects.toThrow();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { waited_ms: number } }).data.waited_ms).toBe(700);
    await expect(drained).resolves.toBe(true);
  });
});

describe('graceful shutdown deadline', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp({ extraModules: [ProbeModule] });
    await t.opsdeck.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await t.close();
  });

  it('closes a request that outlives the deadline', async () => {
    const hung = fetch(`${base}/api/v1/probe/slow?ms=5000`).then(
      (response) => response.status,
      () => 'closed',
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    const started = Date.now();
    await expect(drain(t.server, 300)).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(hung).resolves.toBe('closed');
  });
});
