import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IdracSimulator } from '../../../test/support/idrac-simulator/idrac-simulator.js';
import { openSshAvailable, runOpenSsh } from '../../../test/support/idrac-simulator/openssh-client.js';
import { parseKeysView, parseVersion } from '../racadm.js';
import { generateSshKeyPair, type GeneratedSshKeyPair } from '../ssh-key-material.js';

// The simulator must be a server a real SSH client accepts, not just one ssh2 accepts.
const describeWithSsh = openSshAvailable() ? describe : describe.skip;

describeWithSsh("OpenSSH's client against the simulator", () => {
  let sim: IdracSimulator;
  let keys: GeneratedSshKeyPair;

  beforeAll(async () => {
    keys = await generateSshKeyPair({ type: 'ed25519', comment: 'openssh-interop' });
    sim = await new IdracSimulator().start();
    sim.setSlot(sim.userIndex, 1, keys.publicKey);
  });
  afterAll(() => sim.stop());

  it('logs in with a deployed key over group14-sha1 / ssh-rsa and runs racadm', async () => {
    const base = { host: sim.host, port: sim.port, username: sim.username, privateKey: keys.privateKey };
    const version = await runOpenSsh({ ...base, command: 'racadm getversion' });
    expect(version.exitCode).toBe(0);
    expect(parseVersion(version.stdout).idracVersion).toBe('7.00.00.173');
    // OpenSSH prints the same fingerprint the adapter pins.
    expect(version.stderr).toContain(`Server host key: ssh-rsa ${sim.hostKeyFingerprint}`);
    expect(version.stderr).toContain('kex: algorithm: diffie-hellman-group14-sha1');

    const view = await runOpenSsh({ ...base, command: 'racadm sshpkauth -v -i 2 -k all' });
    expect(parseKeysView(view.stdout).slots[0].key?.fingerprint).toBe(keys.fingerprint);
  });
});
