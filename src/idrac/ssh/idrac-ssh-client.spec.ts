import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { IdracFleet } from '../../../test/support/idrac-simulator/fleet.js';
import { IdracSimulator, type IdracSimulatorOptions } from '../../../test/support/idrac-simulator/idrac-simulator.js';
import { addKeyCommand, assertRacadmSucceeded, RacadmClient, RacadmError } from '../racadm.js';
import { generateSshKeyPair, type GeneratedSshKeyPair } from '../ssh-key-material.js';
import { IdracSshClient, type IdracSshSession, type IdracSshTarget } from './idrac-ssh-client.js';
import { IdracSshError } from './idrac-ssh-error.js';
import { HandshakeGate } from './handshake-gate.js';

const CONNECT_TIMEOUT_MS = 1500;
const COMMAND_TIMEOUT_MS = 700;
const client = new IdracSshClient({ connectTimeoutMs: CONNECT_TIMEOUT_MS, commandTimeoutMs: COMMAND_TIMEOUT_MS });

const running: IdracSimulator[] = [];
const sessions: IdracSshSession[] = [];

async function simulator(options: IdracSimulatorOptions = {}): Promise<IdracSimulator> {
  const sim = await new IdracSimulator(options).start();
  running.push(sim);
  return sim;
}

function target(sim: IdracSimulator, overrides: Partial<IdracSshTarget> = {}): IdracSshTarget {
  return {
    host: sim.host,
    port: sim.port,
    username: sim.username,
    credential: { kind: 'password', password: sim.password },
    expectedHostKey: null,
    ...overrides,
  };
}

async function connect(t: IdracSshTarget): Promise<IdracSshSession> {
  const session = await client.connect(t);
  sessions.push(session);
  return session;
}

/** The failure, and how long it took to come. */
async function failure(promise: Promise<unknown>): Promise<{ error: IdracSshError; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (err) {
    if (err instanceof IdracSshError) return { error: err, ms: Date.now() - started };
    throw err;
  }
  throw new Error('expected an IdracSshError');
}

let deployKeyPair: GeneratedSshKeyPair;
beforeAll(async () => {
  deployKeyPair = await generateSshKeyPair({ type: 'ed25519', comment: 'opsdeck-deploy' });
});

afterEach(async () => {
  for (const session of sessions.splice(0)) session.close();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe('IdracSshClient against the simulator', () => {
  it('logs in with a password over legacy algorithms and reports the host key on first contact', async () => {
    const sim = await simulator();
    const session = await connect(target(sim));
    expect(session.firstContact).toBe(true);
    expect(session.hostKeyFingerprint).toBe(sim.hostKeyFingerprint);
    await expect(new RacadmClient(session, 2).testConnection()).resolves.toMatchObject({ idracVersion: '7.00.00.173' });
    // Pinned: the same key is accepted.
    const pinned = await connect(target(sim, { expectedHostKey: sim.hostKeyFingerprint }));
    expect(pinned.firstContact).toBe(false);
  });

  it('also speaks to a server offering only modern algorithms', async () => {
    const sim = await simulator({ algorithms: 'modern' });
    const session = await connect(target(sim));
    await expect(session.exec('racadm getversion')).resolves.toMatchObject({ exitCode: 0 });
  });

  it('refuses a changed host key with host_key_mismatch before authenticating', async () => {
    const sim = await simulator();
    const pinned = sim.hostKeyFingerprint;
    const fresh = await sim.rotateHostKey();
    const attemptsBefore = sim.authAttempts.length;
    const { error } = await failure(connect(target(sim, { expectedHostKey: pinned })));
    expect(error.reason).toBe('host_key_mismatch');
    expect(error.presentedHostKey).toBe(fresh);
    expect(sim.authAttempts.length).toBe(attemptsBefore); // no credential was sent
  });

  it('answers keyboard-interactive prompts with the password', async () => {
    const sim = await simulator({ faults: { keyboardInteractiveOnly: true } });
    const session = await connect(target(sim));
    await expect(session.exec('racadm getversion')).resolves.toMatchObject({ exitCode: 0 });
    expect(sim.authAttempts.filter((a) => a.accepted).map((a) => a.method)).toEqual(['keyboard-interactive']);
    expect(sim.authAttempts.some((a) => a.method === 'password')).toBe(false);
  });

  it('logs in with a private key held in one of the user slots', async () => {
    const sim = await simulator();
    sim.setSlot(2, 1, deployKeyPair.publicKey);
    const session = await connect(
      target(sim, { credential: { kind: 'private_key', privateKey: deployKeyPair.privateKey } }),
    );
    await expect(session.exec('racadm getversion')).resolves.toMatchObject({ exitCode: 0 });
  });

  it.each([
    ['a wrong password', {}, { kind: 'password' as const, password: 'not-the-password' }],
    ['a server refusing every login', { faults: { rejectAuthentication: true } }, undefined],
    ['keyboard-interactive with a wrong password', { faults: { keyboardInteractiveOnly: true } }, { kind: 'password' as const, password: 'nope' }],
  ])('fails auth_failed on %s, without the secret in the message', async (_case, options, credential) => {
    const sim = await simulator(options);
    const { error, ms } = await failure(connect(target(sim, credential ? { credential } : {})));
    expect(error.reason).toBe('auth_failed');
    expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS);
    expect(error.message).not.toContain('not-the-password');
    expect(error.message).not.toContain(sim.password);
  });

  it('fails auth_failed for an unreadable private key without echoing it', async () => {
    const sim = await simulator();
    const secret = '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----\n';
    const { error } = await failure(client.connect(target(sim, { credential: { kind: 'private_key', privateKey: secret } })));
    expect(error.reason).toBe('auth_failed');
    expect(error.message).not.toContain('c2VjcmV0');
  });

  it('fails unreachable quickly when nothing listens, or the connection is reset', async () => {
    const closed = await simulator({ faults: { refuseConnections: 'closed' } });
    const reset = await simulator({ faults: { refuseConnections: 'reset' } });
    for (const sim of [closed, reset]) {
      const { error, ms } = await failure(connect(target(sim)));
      expect(error.reason).toBe('unreachable');
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS);
    }
    // Listening again on the same port: reachable.
    await closed.setFaults({ refuseConnections: false });
    await expect(connect(target(closed))).resolves.toBeDefined();
  });

  it('fails timeout within the connect timeout when the server never speaks SSH', async () => {
    const sim = await simulator({ faults: { hangBeforeHandshake: true } });
    const { error, ms } = await failure(connect(target(sim)));
    expect(error.reason).toBe('timeout');
    expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 1000);
  });

  it('with one handshake slot, a server that never speaks SSH holds up the next login by at most maxHoldMs', async () => {
    const gate = new HandshakeGate(1, 200);
    const gated = new IdracSshClient({ connectTimeoutMs: CONNECT_TIMEOUT_MS, commandTimeoutMs: COMMAND_TIMEOUT_MS }, gate);
    const hung = await simulator({ faults: { hangBeforeHandshake: true } });
    const healthy = await simulator();
    const hungLogin = failure(gated.connect(target(hung)));
    const started = Date.now();
    const session = await gated.connect(target(healthy));
    sessions.push(session);
    const waitedMs = Date.now() - started;
    expect(waitedMs).toBeGreaterThanOrEqual(150);
    expect(waitedMs).toBeLessThan(CONNECT_TIMEOUT_MS - 200);
    expect(gate.load).toEqual({ inUse: 0, waiting: 0 });
    expect((await hungLogin).error.reason).toBe('timeout');
    // Failed and successful logins both gave their slot back.
    expect(gate.load).toEqual({ inUse: 0, waiting: 0 });
  });

  it('fails timeout within the command timeout when the server hangs after login', async () => {
    const sim = await simulator({ faults: { hangAfterAuthentication: true } });
    const session = await connect(target(sim));
    const { error, ms } = await failure(session.exec('racadm getversion'));
    expect(error.reason).toBe('timeout');
    expect(ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 500);
    expect(session.closed).toBe(true);
    expect((await failure(session.exec('racadm getversion'))).error.reason).toBe('timeout');
  });

  it('fails timeout on slow answers, and waits for answers slower than usual but in time', async () => {
    const sim = await simulator({ faults: { latencyMs: 300 } });
    const session = await connect(target(sim));
    await expect(session.exec('racadm getversion')).resolves.toMatchObject({ exitCode: 0 });
    const { error } = await failure(session.exec('racadm getversion', { timeoutMs: 100 }));
    expect(error.reason).toBe('timeout');
  });
});

describe.each(['banner', 'line'] as const)('key deployment over SSH (%s output)', (outputFormat) => {
  it('deploys (succeeded), deploys again (skipped), revokes, all on one connection', async () => {
    const sim = await simulator({ outputFormat });
    const session = await connect(target(sim));
    const racadm = new RacadmClient(session, 2);
    await expect(racadm.deployKey(deployKeyPair.publicKey)).resolves.toMatchObject({ outcome: 'succeeded', slot: 1 });
    expect(sim.slots(2)[0]).toBe(deployKeyPair.publicKey);
    await expect(racadm.deployKey(deployKeyPair.publicKey)).resolves.toMatchObject({ outcome: 'skipped', slot: 1 });
    await expect(racadm.revokeKey(deployKeyPair.publicKey)).resolves.toMatchObject({ outcome: 'succeeded', slots: [1] });
    expect(sim.slots(2)).toEqual([null, null, null, null]);
    expect(sim.connections).toBe(1);
    // One exec request per racadm command.
    const kind = (c: string): string => (c.includes(' -v ') ? 'view' : c.includes(' -t ') ? 'add' : c.includes(' -d ') ? 'delete' : c);
    expect(sim.commands.map(kind)).toEqual(['view', 'add', 'view', 'view', 'view', 'delete', 'view']);
  });

  it('answers no_free_slot when every slot is taken', async () => {
    const sim = await simulator({ outputFormat, faults: { slotsFull: true } });
    const session = await connect(target(sim));
    await expect(new RacadmClient(session, 2).deployKey(deployKeyPair.publicKey)).rejects.toMatchObject({
      reason: 'no_free_slot',
    });
  });

  it('answers command_failed with the message when the iDRAC calls the key corrupt', async () => {
    const sim = await simulator({ outputFormat });
    const session = await connect(target(sim));
    const result = await session.exec(addKeyCommand(2, 1, 'ssh-rsa AAAAB3NzaC1yc2EAAAAbroken'));
    let error: unknown;
    try {
      assertRacadmSucceeded(result, 'sshpkauth upload');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RacadmError);
    expect(error).toMatchObject({ reason: 'command_failed', message: 'sshpkauth upload: ERROR: Key text appears to be corrupt' });
  });
});

describe('fleet', () => {
  it('starts N simulators on distinct loopback ports and stops them', async () => {
    const fleet = await IdracFleet.start({ count: 5, overrides: (i) => (i === 4 ? { faults: { slotsFull: true } } : {}) });
    try {
      expect(new Set(fleet.simulators.map((s) => s.port)).size).toBe(5);
      expect(fleet.simulators[4].slots(2).every((s) => s !== null)).toBe(true);
      const session = await connect(target(fleet.simulators[0]));
      await expect(session.exec('racadm getversion')).resolves.toMatchObject({ exitCode: 0 });
    } finally {
      for (const session of sessions.splice(0)) session.close();
      await fleet.stop();
    }
  });
});
