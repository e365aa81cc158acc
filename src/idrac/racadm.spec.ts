import { beforeEach, describe, expect, it } from '@jest/globals';
import { emptySlots, runRacadm, type RacadmState } from '../../test/support/idrac-simulator/racadm-shell.js';
import {
  addKeyCommand,
  assertRacadmSucceeded,
  deleteKeyCommand,
  deployKey,
  parseKeysView,
  parseVersion,
  RacadmArgumentError,
  RacadmClient,
  RacadmError,
  revokeKey,
  testConnection,
  viewKeysCommand,
  type RacadmSession,
} from './racadm.js';
import { parsePublicKey } from './ssh-key-material.js';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIzHrVD8/8MX5lglu9Xrznnesnb8k8sAMEJDMNwPzObu vector@test';
const RSA_TYPE = 'ssh-rsa';
const RSA_B64 =
  'AAAAB3NzaC1yc2EAAAADAQABAAABAQCuylEk/e978Zv8c0Hs+bJgPh0vrXObqpsX9VopwWx9DdvMKYnG8ndmxzDNNhI0hhEADCFSpIjzuahoZt/41MMOrtjh5QJ2YnIGVEIbBxkDbeP1/nE8Rc1iDcDyfb1E+UO1yxZjvqrp33p23CG7SAWPpqiJmbupvPlzJmTZhkOco/cajFa+N3mG+smm83WNAAyBZ+fIYGkU97Wg2viDbSQ/HfRv022H6oYB1NYCaST7mQz6ryuJtgSjuPg8wq0k8iUpiq5oQlkouU0UXNe3oF/d3JpnpWS05vhzrqgC13Pp/ekH11nwqCW8XYk+P0/ELEN7y7lQ7hdqOa9JIyMGDHwb';
const RSA = `${RSA_TYPE} ${RSA_B64} ops@deck`;

async function rejection(promise: Promise<unknown>): Promise<RacadmError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RacadmError) return err;
    throw err;
  }
  throw new Error('expected a RacadmError');
}

describe('racadm commands', () => {
  it('builds the sshpkauth and getversion command lines', () => {
    expect(viewKeysCommand(2)).toBe('racadm sshpkauth -v -i 2 -k all');
    expect(viewKeysCommand(16, 4)).toBe('racadm sshpkauth -v -i 16 -k 4');
    expect(addKeyCommand(2, 1, ED25519)).toBe(`racadm sshpkauth -i 2 -k 1 -t "${ED25519}"`);
    expect(deleteKeyCommand(3, 'all')).toBe('racadm sshpkauth -i 3 -d -k all');
  });

  it.each([
    () => viewKeysCommand(0),
    () => viewKeysCommand(17),
    () => viewKeysCommand(2.5),
    () => addKeyCommand(2, 0, ED25519),
    () => addKeyCommand(2, 5, ED25519),
    () => addKeyCommand(2, 1, `${ED25519}" ; racadm racreset "`),
    () => addKeyCommand(2, 1, `${ED25519}\nracadm racreset`),
    () => addKeyCommand(2, 1, "ssh-ed25519 AAAA$(reboot)"),
    () => deleteKeyCommand(1, 9 as never),
  ])('refuses bad user indexes, slots and key text before sending (%#)', (build) => {
    expect(build).toThrow(RacadmArgumentError);
  });
});

describe('parseKeysView', () => {
  it("reads the RACADM guide's banner format with wrapped key text and empty slots", () => {
    const output = [
      '********************* User ID 2 ******************',
      'Key ID 1:',
      RSA_TYPE,
      RSA_B64.slice(0, 68),
      RSA_B64.slice(68, 78),
      RSA_B64.slice(78, 200),
      RSA_B64.slice(200),
      'ops@deck converted from OpenSSH',
      'Key ID 2:',
      'Key ID 3:',
      ED25519,
      'Key ID 4:',
      '',
    ].join('\r\n');
    const view = parseKeysView(output);
    expect(view.format).toBe('banner');
    expect(view.userIndex).toBe(2);
    expect(view.slots.map((s) => s.slot)).toEqual([1, 2, 3, 4]);
    expect(view.slots[0].key?.fingerprint).toBe(parsePublicKey(RSA).fingerprint);
    expect(view.slots[0].key?.comment).toBe('ops@deck converted from OpenSSH');
    expect(view.slots[1]).toMatchObject({ key: null, unparsable: false });
    expect(view.slots[2].key?.fingerprint).toBe(parsePublicKey(ED25519).fingerprint);
    expect(view.slots[3].key).toBeNull();
  });

  it('reads the one-line-per-slot firmware format', () => {
    const view = parseKeysView(`Key 1 : ${RSA}\nKey 2 :\nKey 3 : \nKey 4 : ${ED25519}\n`);
    expect(view.format).toBe('line');
    expect(view.slots.map((s) => s.key?.wireType ?? null)).toEqual(['ssh-rsa', null, null, 'ssh-ed25519']);
  });

  it('reads CMC-style UNDEFINED slots as empty and keeps unreadable text as occupied', () => {
    const view = parseKeysView('Key 1=UNDEFINED\nKey 2=ssh-rsa garbage\n');
    expect(view.slots[0]).toMatchObject({ key: null, unparsable: false });
    expect(view.slots[1]).toMatchObject({ key: null, unparsable: true });
  });

  it('turns an ERROR line into command_failed with the message', () => {
    const error = (() => {
      try {
        parseKeysView('ERROR: Invalid user index.\n');
      } catch (err) {
        return err as RacadmError;
      }
    })();
    expect(error).toMatchObject({ reason: 'command_failed', message: 'ERROR: Invalid user index.' });
  });
});

describe('parseVersion', () => {
  it('reads the getversion fields, aligned or not', () => {
    expect(parseVersion('Bios Version = 2.0.18\niDRAC Version = 2.00.00.00\nLifecycle Controller Version = 2.00.00.00\n'))
      .toMatchObject({ biosVersion: '2.0.18', idracVersion: '2.00.00.00', lifecycleControllerVersion: '2.00.00.00' });
    expect(parseVersion('Bios Version                     = 1.0.4\n\niDRAC Version                    = 2.86.86.86\n'))
      .toMatchObject({ biosVersion: '1.0.4', idracVersion: '2.86.86.86', lifecycleControllerVersion: null });
  });

  it('fails on ERROR output and on output without fields', () => {
    expect(() => parseVersion('ERROR: Unable to perform the requested operation.')).toThrow(RacadmError);
    expect(() => parseVersion('racadm: command not found')).toThrow(/no version fields/);
  });
});

/** The simulator's racadm interpreter as an in-memory session: the same texts, no sockets. */
function memorySession(state: RacadmState, exitCodeOnError: number | null = 1) {
  const commands: string[] = [];
  const session: RacadmSession = {
    exec: (command) => {
      commands.push(command);
      const reply = runRacadm(state, command);
      return Promise.resolve({ stdout: reply.stdout, stderr: '', exitCode: reply.exitCode === 0 ? 0 : exitCodeOnError });
    },
  };
  return { session, commands };
}

describe.each(['banner', 'line'] as const)('deploy and revoke (%s output)', (format) => {
  let state: RacadmState;
  beforeEach(() => {
    state = {
      slots: emptySlots(),
      format,
      firmware: { biosVersion: '2.19.1', idracVersion: '7.00.00.173', lifecycleControllerVersion: '7.00.00.173' },
    };
  });

  it('writes to the first free slot, verifies, then skips the same key material', async () => {
    state.slots.get(2)![0] = ED25519;
    const { session, commands } = memorySession(state);
    await expect(deployKey(session, 2, RSA, 'auto')).resolves.toMatchObject({ outcome: 'succeeded', slot: 2 });
    expect(commands).toEqual([
      'racadm sshpkauth -v -i 2 -k all',
      `racadm sshpkauth -i 2 -k 2 -t "${RSA}"`,
      'racadm sshpkauth -v -i 2 -k all',
    ]);
    // Another comment, same key: already there.
    await expect(deployKey(session, 2, `${RSA_TYPE} ${RSA_B64} someone-else`, 'auto')).resolves.toMatchObject({
      outcome: 'skipped',
      slot: 2,
    });
  });

  it('uses an explicit slot, and refuses one holding another key unless told to overwrite', async () => {
    const { session } = memorySession(state);
    await expect(deployKey(session, 3, ED25519, 4)).resolves.toMatchObject({ outcome: 'succeeded', slot: 4 });
    expect((await rejection(deployKey(session, 3, RSA, 4))).reason).toBe('no_free_slot');
    await expect(deployKey(session, 3, RSA, 4, { overwrite: true })).resolves.toMatchObject({ slot: 4 });
    expect(state.slots.get(3)![3]).toBe(RSA);
  });

  it('awaits beforeChange after reading the slots and before writing or deleting, and not when nothing changes', async () => {
    const { session, commands } = memorySession(state);
    const seen: string[] = [];
    const beforeChange = () => {
      seen.push(`before change after ${commands.length} command(s)`);
      return Promise.resolve();
    };
    await deployKey(session, 2, RSA, 'auto', { beforeChange });
    await deployKey(session, 2, RSA, 'auto', { beforeChange });
    await revokeKey(session, 2, RSA, { beforeChange });
    expect(seen).toEqual(['before change after 1 command(s)', 'before change after 5 command(s)']);
    const failing = () => Promise.reject(new Error('pin not stored'));
    await expect(deployKey(session, 2, RSA, 'auto', { beforeChange: failing })).rejects.toThrow('pin not stored');
    expect(commands.at(-1)).toBe('racadm sshpkauth -v -i 2 -k all');
    expect(state.slots.get(2)).toEqual([null, null, null, null]);
  });

  it('answers no_free_slot when all four slots hold other keys', async () => {
    for (let i = 0; i < 4; i++) state.slots.get(2)![i] = ED25519;
    const { session } = memorySession(state);
    const error = await rejection(deployKey(session, 2, RSA, 'auto'));
    expect(error).toMatchObject({ reason: 'no_free_slot' });
  });

  it('revokes every slot holding the key and verifies; absent keys are skipped', async () => {
    state.slots.get(2)![1] = RSA;
    state.slots.get(2)![3] = `${RSA_TYPE} ${RSA_B64}`;
    state.slots.get(2)![2] = ED25519;
    const client = new RacadmClient(memorySession(state).session, 2);
    await expect(client.revokeKey(RSA)).resolves.toMatchObject({ outcome: 'succeeded', slots: [2, 4] });
    expect(state.slots.get(2)).toEqual([null, null, ED25519, null]);
    await expect(revokeKey(memorySession(state).session, 2, RSA)).resolves.toMatchObject({ outcome: 'skipped', slots: [] });
  });

  it('reports command_failed with the racadm message when the iDRAC calls the key corrupt (exit 0 or not)', async () => {
    for (const exitCode of [1, 0, null]) {
      const { session } = memorySession(state, exitCode);
      const result = await session.exec(addKeyCommand(2, 1, 'ssh-rsa AAAAnot-a-key'));
      let error: unknown;
      try {
        assertRacadmSucceeded(result, 'sshpkauth upload');
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({
        reason: 'command_failed',
        message: 'sshpkauth upload: ERROR: Key text appears to be corrupt',
      });
    }
  });

  it('fails command_failed when the key is not there on read-back', async () => {
    const { session: inner } = memorySession(state);
    // An iDRAC that says "uploaded" but stores nothing.
    const session: RacadmSession = {
      exec: (command) => (command.includes(' -t ') ? Promise.resolve({ stdout: 'OK\n', stderr: '', exitCode: 0 }) : inner.exec(command)),
    };
    expect(await rejection(deployKey(session, 2, RSA, 'auto'))).toMatchObject({
      reason: 'command_failed',
      message: expect.stringContaining('after upload'),
    });
  });

  it('tests the connection with getversion', async () => {
    await expect(testConnection(memorySession(state).session)).resolves.toMatchObject({ idracVersion: '7.00.00.173' });
  });
});
