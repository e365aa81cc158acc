import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ssh2 from 'ssh2';
import type { Socket } from 'socket.io-client';
import { bearer, IdentityFixtures, type TestUser } from '../support/identity.js';
import {
  chooseLxcTarget,
  lxcHostOptionsModule,
  opsdeckNftRules,
  removeContainers,
  type LxcTarget,
} from '../support/lxc-integration.js';
import { connectSocket, EventRecorder, joinRoom } from '../support/socket.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface Operation {
  id: string;
  type: string;
  status: string;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; reason?: string } | null;
}

interface ContainerUpdate extends Record<string, unknown> {
  type: string;
  container: string;
  operation_id: string | null;
  status: string;
  message: string | null;
  error: unknown;
  timestamp: string;
}

/** Every container this suite makes starts with this; afterAll removes any that is left. */
const SUITE_PREFIX = 'odit-';
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'interrupted'];

/**
 * Issue 5, "Real LXC": the containers API end to end (HTTP, operations, Socket.IO) against the host's real LXC
 * when this machine can run containers (root, lxc, nftables, the lxcbr0 bridge), and otherwise, after a loud
 * message, the same flow against the fake lxc-* and nft tool set. One busybox and one sshd-template container with
 * static addresses on 10.0.3.0/24 are created, started, restarted, given a key (and logged into over SSH), given
 * a port forward (and reached through it), and deleted; the dashboards' container_update events are checked in order.
 */
describe('containers through the API on LXC', () => {
  const prefix = `${SUITE_PREFIX}${randomBytes(3).toString('hex')}`;
  const busybox = `${prefix}-bb`;
  const sshd = `${prefix}-ssh`;
  const keyPair = ssh2.utils.generateKeyPairSync('ed25519', { comment: `${prefix}@opsdeck-integration` });
  let target: LxcTarget;
  let t: TestApp;
  let operator: TestUser;
  let dashboard: Socket;
  let sshdWatcher: Socket;
  let updates: EventRecorder<ContainerUpdate>;
  let sshdOnly: EventRecorder<ContainerUpdate>;
  let addresses: { busybox: string; sshd: string };
  let hostPort: number;
  const operationIds: Record<string, string[]> = {};

  beforeAll(async () => {
    target = await chooseLxcTarget();
    process.stdout.write(`LXC integration suite: running on ${target.kind === 'real' ? 'REAL LXC' : `the FAKE tool set (${target.reason})`}\n`);
    // Containers a crashed earlier run left behind would hold names, addresses and host ports.
    await removeContainers(target, SUITE_PREFIX);
    addresses = await freeAddresses(target);
    hostPort = await freeHostPort(target);
    t = await startTestApp({
      listen: true,
      env: target.env,
      extraModules: target.fake ? [lxcHostOptionsModule(target.fake.hostOptions)] : [],
    });
    const fixtures = new IdentityFixtures(t);
    const organization = await fixtures.newOrganization();
    operator = await fixtures.newUser('operator', organization.id);
    const viewer = await fixtures.newUser('viewer', organization.id);
    dashboard = await connectSocket(t.url!, { token: viewer.token });
    updates = new EventRecorder<ContainerUpdate>(dashboard, 'container_update');
    expect(await joinRoom(dashboard, 'containers')).toEqual({ ok: true, room: 'containers' });
    sshdWatcher = await connectSocket(t.url!, { token: viewer.token });
    sshdOnly = new EventRecorder<ContainerUpdate>(sshdWatcher, 'container_update');
    expect(await joinRoom(sshdWatcher, `container:${sshd}`)).toEqual({ ok: true, room: `container:${sshd}` });
  }, 120_000);

  afterAll(async () => {
    dashboard?.close();
    sshdWatcher?.close();
    if (target) {
      const left = await removeContainers(target, SUITE_PREFIX);
      if (left.length > 0) process.stderr.write(`LXC integration suite: removed leftover containers ${left.join(', ')}\n`);
      expect(await opsdeckNftRules(target)).not.toContain(`opsdeck:${prefix}`);
    }
    await t?.close();
    target?.cleanup();
    if (target) process.stdout.write(`LXC integration suite ran on ${target.kind === 'real' ? 'REAL LXC' : 'the FAKE tool set'}\n`);
  }, 180_000);

  const api = () => ({
    post: (path: string, body?: object) => t.http.post(`/api/v1${path}`).set(bearer(operator.token)).send(body),
    get: (path: string) => t.http.get(`/api/v1${path}`).set(bearer(operator.token)),
    delete: (path: string) => t.http.delete(`/api/v1${path}`).set(bearer(operator.token)),
  });

  /** Submits an operation (202 + Location), waits for it through /wait, and returns how it ended. */
  async function runOperation(container: string, request: () => ReturnType<ReturnType<typeof api>['post']>): Promise<Operation> {
    const accepted = await request();
    expect(accepted.status).toBe(202);
    const operation = accepted.body.data as Operation;
    expect(accepted.headers.location).toBe(`/api/v1/operations/${operation.id}`);
    (operationIds[container] ??= []).push(operation.id);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const waited = await api().get(`/operations/${operation.id}/wait?timeout=60`);
      expect(waited.status).toBe(200);
      const current = waited.body.data as Operation;
      if (TERMINAL.includes(current.status)) return current;
    }
    throw new Error(`operation ${operation.id} (${operation.type}) did not end within 10 minutes`);
  }

  const expectSucceeded = (operation: Operation): void => {
    expect({ status: operation.status, error: operation.error }).toEqual({ status: 'succeeded', error: null });
  };

  it('creates a busybox and an sshd container with static addresses, stopped, as operations', async () => {
    const [bb, ssh] = await Promise.all([
      runOperation(busybox, () =>
        api().post('/containers', { name: busybox, template: 'busybox', ipv4: `${addresses.busybox}/24`, start: false }),
      ),
      runOperation(sshd, () => api().post('/containers', { name: sshd, template: 'sshd', ipv4: `${addresses.sshd}/24`, start: false })),
    ]);
    expectSucceeded(bb);
    expectSucceeded(ssh);
    expect(bb.result).toMatchObject({ name: busybox, state: 'STOPPED' });
    expect(ssh.result).toMatchObject({ name: sshd, state: 'STOPPED' });
    const duplicate = await api().post('/containers', { name: busybox, template: 'busybox' });
    expect(duplicate.status).toBe(409);
    const listed = await api().get(`/containers?q=${prefix}`);
    expect(listed.status).toBe(200);
    expect((listed.body.data as Array<{ name: string }>).map((container) => container.name).sort()).toEqual([busybox, sshd]);
  }, 600_000);

  it('starts them; each comes up on its static address', async () => {
    for (const [name, address] of [
      [busybox, addresses.busybox],
      [sshd, addresses.sshd],
    ] as const) {
      const started = await runOperation(name, () => api().post(`/containers/${name}/start`));
      expectSucceeded(started);
      expect(started.result).toMatchObject({ name, state: 'RUNNING' });
      const container = await waitForAddress(name, address);
      expect(container).toMatchObject({ name, state: 'RUNNING', ipv4: [address] });
    }
  }, 300_000);

  it('restarts them (a new init process, the same address)', async () => {
    for (const [name, address] of [
      [busybox, addresses.busybox],
      [sshd, addresses.sshd],
    ] as const) {
      const before = (await api().get(`/containers/${name}`)).body.data as { pid: number | null };
      const restarted = await runOperation(name, () => api().post(`/containers/${name}/restart`));
      expectSucceeded(restarted);
      const after = await waitForAddress(name, address);
      expect(after).toMatchObject({ state: 'RUNNING', ipv4: [address] });
      if (target.kind === 'real') expect(after.pid).not.toBe(before.pid);
    }
  }, 300_000);

  it('deploys a key through POST /containers/{name}/authkey and logs in over SSH with it', async () => {
    const deployed = await runOperation(sshd, () => api().post(`/containers/${sshd}/authkey`, { public_keys: [keyPair.public] }));
    expectSucceeded(deployed);
    expect(deployed.result).toEqual({ user: 'root', added: 1, skipped: 0 });
    const again = await runOperation(sshd, () => api().post(`/containers/${sshd}/authkey`, { public_keys: [keyPair.public] }));
    expect(again.result).toEqual({ user: 'root', added: 0, skipped: 1 });

    const connection = await api().post(`/containers/${sshd}/connect`);
    expect(connection.status).toBe(200);
    expect(connection.body.data).toMatchObject({ ipv4: addresses.sshd, ssh_user: 'root', ssh_command: `ssh root@${addresses.sshd}` });

    if (target.kind === 'real') {
      const output = await sshRun({ host: addresses.sshd, port: 22 }, 'id -u; cat /etc/hostname 2>/dev/null || hostname');
      expect(output.split('\n')[0]).toBe('0');
    } else {
      expect(target.fake!.authorizedKeys(sshd)).toContain(keyPair.public.split(' ')[1]);
    }
  }, 180_000);

  it('adds a port forward (the nft rule appears, traffic reaches sshd) and removes it (the rule goes)', async () => {
    const comment = `opsdeck:${sshd}:ssh`;
    const created = await api().post(`/containers/${sshd}/portforward`, { name: 'ssh', protocol: 'tcp', host_port: hostPort, container_port: 22 });
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({
      name: 'ssh',
      container: sshd,
      protocol: 'tcp',
      host_port: hostPort,
      container_address: addresses.sshd,
      container_port: 22,
    });
    const rules = await opsdeckNftRules(target);
    expect(rules).toContain(`tcp dport ${hostPort} dnat to ${addresses.sshd}:22 comment "${comment}"`);
    expect(rules.split('\n').filter((line) => line.includes(comment))).toHaveLength(2); // prerouting and output
    const listed = await api().get(`/containers/${sshd}/portforward`);
    expect(listed.body.data).toEqual([created.body.data]);
    const taken = await api().post(`/containers/${busybox}/portforward`, { name: 'x', protocol: 'tcp', host_port: hostPort, container_port: 80 });
    expect(taken.status).toBe(409);

    if (target.kind === 'real') {
      // The host's own bridge address goes through the output chain's DNAT to the container's sshd.
      const output = await sshRun({ host: target.bridgeAddress, port: hostPort }, 'id -u');
      expect(output.trim()).toBe('0');
    }

    const removed = await api().delete(`/containers/${sshd}/portforward/ssh`);
    expect(removed.status).toBe(200);
    expect(await opsdeckNftRules(target)).not.toContain(comment);
    expect((await api().get(`/containers/${sshd}/portforward`)).body.data).toEqual([]);
    if (target.kind === 'real') {
      expect(await tcpConnectError(target.bridgeAddress, hostPort)).toBe('ECONNREFUSED');
    }
  }, 120_000);

  it('deletes them: stopped, destroyed, gone from the API and from LXC', async () => {
    for (const name of [busybox, sshd]) {
      const deleted = await runOperation(name, () => api().delete(`/containers/${name}`));
      expectSucceeded(deleted);
      expect(deleted.result).toEqual({ name, deleted: true });
      expect((await api().get(`/containers/${name}`)).status).toBe(404);
    }
    const listing = await target.tool('lxc-ls', ['-P', target.lxcPath, '-1']);
    expect(listing.stdout).not.toContain(prefix);
    expect(existsSync(join(target.lxcPath, busybox))).toBe(false);
  }, 300_000);

  it('sent every step to the dashboards as container_update events, in order', async () => {
    const lifecycle = (action: string) => [`container_${action}_start`, `container_${action}_success`];
    const expected: Record<string, string[]> = {
      [busybox]: [...lifecycle('create'), ...lifecycle('start'), ...lifecycle('restart'), ...lifecycle('delete')],
      [sshd]: [
        ...lifecycle('create'),
        ...lifecycle('start'),
        ...lifecycle('restart'),
        'authkey_deploy_start',
        'authkey_deploy_success',
        'authkey_deploy_start',
        'authkey_deploy_success',
        'portforward_create_start',
        'portforward_create_success',
        ...lifecycle('delete'),
      ],
    };
    for (const name of [busybox, sshd]) {
      await updates.next((event) => event.container === name && event.type === 'container_delete_success');
    }
    await sshdOnly.next((event) => event.type === 'container_delete_success');

    for (const name of [busybox, sshd]) {
      const events = updates.events.filter((event) => event.container === name);
      expect(events.map((event) => event.type)).toEqual(expected[name]);
      const times = events.map((event) => Date.parse(event.timestamp));
      expect(times.every((time, index) => index === 0 || time >= times[index - 1])).toBe(true);
      for (const event of events) {
        expect(event.status).toBe(event.type.endsWith('_start') ? 'running' : 'succeeded');
        expect(event.error).toBeNull();
      }
      // Each operation's start and success carry its id; the port forward is not an operation.
      const ids = events.filter((event) => !event.type.startsWith('portforward_')).map((event) => event.operation_id);
      expect([...new Set(ids)]).toEqual(operationIds[name]);
      expect(events.filter((event) => event.type.startsWith('portforward_')).every((event) => event.operation_id === null)).toBe(true);
    }
    // The container:<name> room got that container's events and nothing else.
    expect(sshdOnly.events.map((event) => event.type)).toEqual(expected[sshd]);
    expect(sshdOnly.events.every((event) => event.container === sshd)).toBe(true);
  }, 60_000);

  /** GET /containers/{name} until it shows the address (the fake and LXC report it once the veth is up). */
  async function waitForAddress(name: string, address: string): Promise<{ state: string; ipv4: string[]; pid: number | null }> {
    let container: { state: string; ipv4: string[]; pid: number | null } | null = null;
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const response = await api().get(`/containers/${name}`);
      expect(response.status).toBe(200);
      container = response.body.data as { state: string; ipv4: string[]; pid: number | null };
      if (container.ipv4.includes(address)) return container;
      await delay(250);
    }
    return container!;
  }

  /** Runs a command over SSH as root with the deployed key, pinning the container's own host key. */
  async function sshRun(endpoint: { host: string; port: number }, command: string): Promise<string> {
    const hostKeys = ['ssh_host_rsa_key.pub', 'ssh_host_ed25519_key.pub', 'ssh_host_ecdsa_key.pub']
      .map((file) => join(target.lxcPath, sshd, 'rootfs', 'etc', 'ssh', file))
      .filter((file) => existsSync(file))
      .map((file) => Buffer.from(readFileSync(file, 'utf8').split(' ')[1] ?? '', 'base64'));
    expect(hostKeys.length).toBeGreaterThan(0);
    let lastError: unknown = null;
    // sshd may still be starting just after a restart: a few bounded attempts.
    for (let attempt = 0; attempt < 15; attempt += 1) {
      try {
        return await sshExec(endpoint, command, (key) => hostKeys.some((known) => known.equals(key)));
      } catch (error) {
        lastError = error;
        if (error instanceof Error && /authentication|host key/i.test(error.message)) break;
        await delay(1_000);
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  function sshExec(endpoint: { host: string; port: number }, command: string, verify: (key: Buffer) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      const timer = setTimeout(() => {
        client.end();
        reject(new Error(`ssh to ${endpoint.host}:${endpoint.port} timed out`));
      }, 15_000);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        client.end();
        reject(error);
      };
      client.on('error', fail);
      client.on('ready', () => {
        client.exec(command, (error, stream) => {
          if (error) return fail(error);
          let stdout = '';
          stream.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
          stream.stderr.on('data', () => undefined);
          stream.on('close', (code: number | null) => {
            clearTimeout(timer);
            client.end();
            if (code === 0) resolve(stdout);
            else reject(new Error(`ssh command exited with ${code}`));
          });
        });
      });
      client.connect({
        host: endpoint.host,
        port: endpoint.port,
        username: 'root',
        privateKey: keyPair.private,
        readyTimeout: 8_000,
        hostVerifier: (key: Buffer) => verify(key),
      });
    });
  }
});

/** Two addresses in 10.0.3.100-249 no container uses (the bridge itself is 10.0.3.1). */
async function freeAddresses(target: LxcTarget): Promise<{ busybox: string; sshd: string }> {
  const listing = await target.tool('lxc-ls', ['-P', target.lxcPath, '-f', '-F', 'name,ipv4']);
  const configs = await target.tool('grep', ['-rhs', 'lxc.net.0.ipv4.address', target.lxcPath, '--include=config']);
  const used = `${listing.stdout}\n${configs.stdout}`;
  const candidates: string[] = [];
  for (let attempt = 0; attempt < 200 && candidates.length < 2; attempt += 1) {
    const address = `10.0.3.${randomInt(100, 250)}`;
    if (!new RegExp(`\\b${address.replace(/\./g, '\\.')}\\b`).test(used) && !candidates.includes(address)) candidates.push(address);
  }
  if (candidates.length < 2) throw new Error('no free addresses left in 10.0.3.100-249');
  return { busybox: candidates[0], sshd: candidates[1] };
}

/** A TCP port in 40000-49999 that nothing on the host listens on and no forward uses. */
async function freeHostPort(target: LxcTarget): Promise<number> {
  const rules = await opsdeckNftRules(target);
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = randomInt(40_000, 50_000);
    if (rules.includes(`dport ${port} `)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free host port found in 40000-49999');
}

/** The error code of a TCP connection attempt ('connected' if it was accepted), within 5 s. */
function tcpConnectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 5_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
