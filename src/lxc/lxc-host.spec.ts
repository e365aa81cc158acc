import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fakeLxc, type FakeLxc } from '../../test/support/fake-lxc.js';
import { LxcError } from './lxc-errors.js';
import { LxcHost } from './lxc-host.js';

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJMMqBqF3ZiDepnDjcjw3PlVAtcGadLG5PkuUk1UHIbZ ops@example';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPK3Vt7i4zLeQ173lPU2hTgnUnGLbgVwt3vsCssSSzNv';

async function failure(promise: Promise<unknown>): Promise<LxcError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof LxcError)) throw new Error(`expected an LxcError, got ${String(outcome)}`);
  return outcome;
}

describe('LxcHost against the fake tool set', () => {
  let fake: FakeLxc;
  let host: LxcHost;

  beforeAll(() => {
    fake = fakeLxc();
    host = new LxcHost(fake.config(), fake.hostOptions);
  });
  afterAll(() => fake.cleanup());
  afterEach(() => {
    for (const name of ['delay', 'delay-lxc-start', 'fail-lxc-ls', 'fail-container-broken']) fake.clearFault(name);
  });

  it('lists nothing before any container exists, passing -P and the columns it parses', async () => {
    await expect(host.list()).resolves.toEqual([]);
    expect(fake.calls().at(-1)).toEqual(['lxc-ls', '-P', fake.lxcPath, '-f', '-F', 'name,state,ipv4,ipv6,pid,autostart,ram']);
  });

  it('creates a busybox container with a static address on the bridge, then starts, reads and stops it', async () => {
    await host.create('web-1', { kind: 'template', template: 'busybox' }, { ipv4: '10.0.3.21/24', gateway: '10.0.3.1' });
    const config = readFileSync(join(fake.lxcPath, 'web-1', 'config'), 'utf8');
    expect(config).toContain('lxc.net.0.link = lxcbr0');
    expect(config).toContain('lxc.net.0.ipv4.address = 10.0.3.21/24');
    expect(config).toContain('lxc.net.0.ipv4.gateway = 10.0.3.1');
    expect(readFileSync(join(fake.lxcPath, 'web-1', 'rootfs', 'etc', 'init.d', 'rcS'), 'utf8')).not.toMatch(/^\/bin\/udhcpc/m);

    await expect(host.get('web-1')).resolves.toMatchObject({ name: 'web-1', state: 'STOPPED', ipv4: [], pid: null });
    await host.start('web-1');
    await host.start('web-1'); // already running: nothing changes
    const running = await host.get('web-1');
    expect(running).toMatchObject({ state: 'RUNNING', ipv4: ['10.0.3.21'], autostart: false });
    expect(running.pid).toEqual(expect.any(Number));
    expect(running.memoryBytes).toBeGreaterThan(0);

    await host.stop('web-1');
    await host.stop('web-1'); // already stopped: nothing changes
    await expect(host.get('web-1')).resolves.toMatchObject({ state: 'STOPPED' });
  });

  it('runs the sshd fix-up after creating from the sshd template', async () => {
    await host.create('ssh-1', { kind: 'template', template: 'sshd' });
    expect(fake.calls().some((call) => call[0] === 'lxc-create' && call.includes('ssh-1'))).toBe(true);
    await host.destroy('ssh-1');
  });

  it('creates from a download image with distro, release and arch', async () => {
    await host.create('deb-1', { kind: 'image', distro: 'debian', release: 'bookworm', arch: 'amd64' });
    expect(fake.calls().find((call) => call[0] === 'lxc-create' && call.includes('deb-1'))).toEqual([
      'lxc-create', '-P', fake.lxcPath, '-n', 'deb-1', '-t', 'download', '--', '-d', 'debian', '-r', 'bookworm', '-a', 'amd64',
    ]);
    await host.destroy('deb-1');
  });

  it('answers 409 for an existing container and 400 for an unknown template', async () => {
    const exists = await failure(host.create('web-1', { kind: 'template', template: 'busybox' }));
    expect(exists.getStatus()).toBe(409);
    expect(exists.reason).toBe('already_exists');
    expect(exists.code).toBe('LXC.ALREADY_EXISTS');

    const unknown = await failure(host.create('x-1', { kind: 'template', template: 'nosuch' }));
    expect(unknown.getStatus()).toBe(400);
    expect(unknown.reason).toBe('unknown_template');
  });

  it('answers 404 for a missing container on get, start, stop and destroy', async () => {
    for (const action of [() => host.get('ghost'), () => host.start('ghost'), () => host.stop('ghost'), () => host.destroy('ghost')]) {
      const error = await failure(action());
      expect(error.getStatus()).toBe(404);
      expect(error.reason).toBe('not_found');
    }
  });

  it('refuses to destroy a running container (409) and destroys a stopped one with its port forwards', async () => {
    await host.create('gone', { kind: 'template', template: 'busybox' });
    await host.start('gone');
    const running = await failure(host.destroy('gone'));
    expect([running.getStatus(), running.reason]).toEqual([409, 'running']);

    await host.addPortForward({ container: 'gone', rule: 'web', protocol: 'tcp', hostPort: 18090, containerAddress: '10.0.3.30', containerPort: 80 });
    await host.stop('gone');
    await host.destroy('gone');
    await expect(host.listPortForwards('gone')).resolves.toEqual([]);
    await expect(failure(host.get('gone'))).resolves.toMatchObject({ reason: 'not_found' });
  });

  it('turns an unrecognised failure into 502 with the tool\'s message and no source location', async () => {
    await host.create('broken', { kind: 'template', template: 'busybox' });
    fake.setFault('fail-container-broken', 'lxc-start: broken: ../src/lxc/start.c: __lxc_start: 2107 Failed to spawn container "broken"\n');
    const error = await failure(host.start('broken'));
    expect(error.getStatus()).toBe(502);
    expect(error.reason).toBe('command_failed');
    expect(error.message).toBe('lxc-start failed: Failed to spawn container "broken"');
  });

  it('reports what failed rather than the hints lxc-start prints after a failed start', async () => {
    fake.setFault(
      'fail-container-broken',
      [
        'lxc-start: broken: ../src/lxc/lxccontainer.c: wait_on_daemonized_start: 878 Received container state "ABORTING" instead of "RUNNING"',
        'lxc-start: broken: ../src/lxc/tools/lxc_start.c: main: 306 The container failed to start',
        'lxc-start: broken: ../src/lxc/tools/lxc_start.c: main: 309 To get more details, run the container in foreground mode',
        'lxc-start: broken: ../src/lxc/tools/lxc_start.c: main: 311 Additional information can be obtained by setting the --logfile and --logpriority options',
        '',
      ].join('\n'),
    );
    await expect(failure(host.start('broken'))).resolves.toMatchObject({ message: 'lxc-start failed: The container failed to start' });
  });

  it('kills a call that outlives its timeout (504), including the tool it started', async () => {
    const quick = new LxcHost(fake.config({ start: 300 }), fake.hostOptions);
    fake.setFault('delay-lxc-start', '5');
    const started = Date.now();
    const error = await failure(quick.start('web-1'));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect([error.getStatus(), error.reason]).toEqual([504, 'timeout']);
    await expect(quick.get('web-1')).resolves.toMatchObject({ state: 'STOPPED' }); // the killed start did nothing
  });

  it('answers 503 when the LXC tools are not installed', async () => {
    const bare = fake.config();
    const missing = new LxcHost({ ...bare, lxc: { ...bare.lxc, tools_path: join(fake.stateDir, 'empty') } }, { ...fake.hostOptions, systemPath: '/nonexistent' });
    const error = await failure(missing.list());
    expect([error.getStatus(), error.reason, error.message]).toEqual([503, 'lxc_unavailable', 'lxc-ls is not installed on this host']);
  });

  describe('hostile names never reach a process', () => {
    const hostile = ['has space', 'a/b', '../etc', '$(reboot)', 'a;id', 'a`id`', 'a\nb', '-n', '--help', 'a'.repeat(64), '', 'a|b'];

    it.each(hostile)('refuses %p with 400 and spawns nothing', async (name) => {
      const before = fake.calls().length;
      const attempts = [
        () => host.get(name),
        () => host.create(name, { kind: 'template', template: 'busybox' }),
        () => host.start(name),
        () => host.stop(name),
        () => host.destroy(name),
        () => host.deployAuthorizedKeys(name, 'root', [KEY_A]),
        () => host.addPortForward({ container: name, rule: 'r', protocol: 'tcp', hostPort: 1, containerAddress: '10.0.3.2', containerPort: 1 }),
        () => host.addPortForward({ container: 'web-1', rule: name, protocol: 'tcp', hostPort: 1, containerAddress: '10.0.3.2', containerPort: 1 }),
        () => host.listPortForwards(name),
        () => host.removePortForward('web-1', name),
        () => host.removeAllPortForwards(name),
        () => host.setupMacvlan({ parent: 'eth0', mode: 'bridge', container: name }),
        () => host.setupMacvlan({ parent: name, mode: 'bridge' }),
        () => host.deployAuthorizedKeys('web-1', name, [KEY_A]),
        () => host.create('ok-name', { kind: 'template', template: name }),
        () => host.create('ok-name', { kind: 'image', distro: 'debian', release: name, arch: 'amd64' }),
      ];
      for (const attempt of attempts) {
        const error = await failure(attempt());
        expect([error.getStatus(), error.reason]).toEqual([400, 'invalid_argument']);
      }
      expect(fake.calls().length).toBe(before);
    });

    it('refuses a hostile address, gateway or key the same way', async () => {
      const before = fake.calls().length;
      for (const attempt of [
        () => host.create('ok-name', { kind: 'template', template: 'busybox' }, { ipv4: '10.0.3.5/24; reboot' }),
        () => host.create('ok-name', { kind: 'template', template: 'busybox' }, { ipv4: '10.0.3.5/24', gateway: '$(id)' }),
        () => host.deployAuthorizedKeys('web-1', 'root', [`${KEY_A}\nssh-rsa AAAAB3NzaC1yc2EAAAADAQAB evil`]),
        () => host.deployAuthorizedKeys('web-1', 'root', [`command="/bin/sh" ${KEY_A}`]),
        () => host.deployAuthorizedKeys('web-1', 'root', []),
      ]) {
        await expect(failure(attempt())).resolves.toMatchObject({ reason: 'invalid_argument' });
      }
      expect(fake.calls().length).toBe(before);
    });
  });

  describe('authorized keys', () => {
    it('appends new keys with 700/600 modes and skips keys already present', async () => {
      await host.start('web-1');
      await expect(host.deployAuthorizedKeys('web-1', 'root', [KEY_A, KEY_B])).resolves.toEqual({ added: 2, skipped: 0 });
      await expect(host.deployAuthorizedKeys('web-1', 'root', [`${KEY_A.split(' ').slice(0, 2).join(' ')} other-comment`])).resolves.toEqual({ added: 0, skipped: 1 });
      expect(fake.authorizedKeys('web-1')).toBe(`${KEY_A}\n${KEY_B}\n`);
      const ssh = join(fake.lxcPath, 'web-1', 'rootfs', 'root', '.ssh');
      expect(statSync(ssh).mode & 0o777).toBe(0o700);
      expect(statSync(join(ssh, 'authorized_keys')).mode & 0o777).toBe(0o600);
      // The keys went over stdin: no argument of any call holds key material.
      expect(fake.calls().flat().some((arg) => arg.includes('AAAAC3NzaC1lZDI1NTE5'))).toBe(false);
    });

    it('answers 404 for a user the container does not have and 409 for a stopped container', async () => {
      await expect(failure(host.deployAuthorizedKeys('web-1', 'nobody', [KEY_A]))).resolves.toMatchObject({ reason: 'not_found' });
      await host.stop('web-1');
      const stopped = await failure(host.deployAuthorizedKeys('web-1', 'root', [KEY_A]));
      expect([stopped.getStatus(), stopped.reason]).toEqual([409, 'not_running']);
    });
  });

  describe('port forwards', () => {
    const web = { container: 'web-1', rule: 'http', protocol: 'tcp' as const, hostPort: 18080, containerAddress: '10.0.3.21', containerPort: 80 };

    it('adds idempotently, lists and removes', async () => {
      await expect(host.addPortForward(web)).resolves.toEqual({ created: true });
      await expect(host.addPortForward(web)).resolves.toEqual({ created: false });
      await host.addPortForward({ ...web, rule: 'dns', protocol: 'udp', containerPort: 53 });
      await expect(host.listPortForwards('web-1')).resolves.toEqual([web, { ...web, rule: 'dns', protocol: 'udp', containerPort: 53 }]);
      await host.removePortForward('web-1', 'dns');
      await expect(host.listPortForwards()).resolves.toEqual([web]);
    });

    it('answers 409 for a host port already forwarded or a rule name reused, 404 for a missing rule', async () => {
      const port = await failure(host.addPortForward({ ...web, container: 'other', rule: 'x' }));
      expect([port.getStatus(), port.reason]).toEqual([409, 'port_in_use']);
      const rule = await failure(host.addPortForward({ ...web, hostPort: 18081 }));
      expect([rule.getStatus(), rule.reason]).toEqual([409, 'rule_exists']);
      const missing = await failure(host.removePortForward('web-1', 'nope'));
      expect([missing.getStatus(), missing.reason]).toEqual([404, 'not_found']);
    });

    it('removes every forward of a container', async () => {
      await host.addPortForward({ ...web, rule: 'ssh', hostPort: 12222, containerPort: 22 });
      await expect(host.removeAllPortForwards('web-1')).resolves.toBe(2);
      await expect(host.listPortForwards('web-1')).resolves.toEqual([]);
    });
  });

  describe('macvlan, templates and images', () => {
    it('switches a container to macvlan, replacing the managed block', async () => {
      await host.setupMacvlan({ parent: 'eth0', mode: 'bridge', container: 'web-1', ipv4: '192.168.50.20/24' });
      await host.setupMacvlan({ parent: 'eth0', mode: 'private', container: 'web-1', ipv4: '192.168.50.20/24' });
      const config = readFileSync(join(fake.lxcPath, 'web-1', 'config'), 'utf8');
      expect(config.match(/BEGIN OpsDeck network/g)).toHaveLength(1);
      expect(config.match(/^lxc\.net\.0\.type = .*$/gm)).toEqual(['lxc.net.0.type = macvlan']);
      expect(config).toContain('lxc.net.0.macvlan.mode = private');
      expect(config).not.toContain('lxcbr0');
    });

    it('sets a default macvlan that containers created without an address get', async () => {
      await expect(host.setupMacvlan({ parent: 'eth0', mode: 'vepa' })).resolves.toEqual({ container: null, parent: 'eth0', mode: 'vepa', ipv4: null });
      await host.create('mv-1', { kind: 'template', template: 'busybox' });
      const config = readFileSync(join(fake.lxcPath, 'mv-1', 'config'), 'utf8');
      expect(config).toContain('lxc.net.0.type = macvlan');
      expect(config).toContain('lxc.net.0.macvlan.mode = vepa');
      // No static address: the container keeps its DHCP client for the parent's network.
      expect(readFileSync(join(fake.lxcPath, 'mv-1', 'rootfs', 'etc', 'init.d', 'rcS'), 'utf8')).toMatch(/^\/bin\/udhcpc$/m);
    });

    it('refuses a macvlan parent the host does not have', async () => {
      await expect(failure(host.setupMacvlan({ parent: 'eth9', mode: 'bridge' }))).resolves.toMatchObject({ reason: 'invalid_argument' });
    });

    it('lists local templates and cached download images', async () => {
      await expect(host.listTemplates()).resolves.toEqual(['busybox', 'download', 'sshd']);
      await expect(host.listCachedImages()).resolves.toEqual([
        { distro: 'alpine', release: '3.20', arch: 'amd64', variant: 'default' },
        { distro: 'debian', release: 'bookworm', arch: 'amd64', variant: 'default' },
      ]);
    });
  });
});
