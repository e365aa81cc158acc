import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether OpenSSH's `ssh` client is on PATH (the interop check is skipped without it). */
export function openSshAvailable(): boolean {
  return spawnSync('ssh', ['-V'], { timeout: 5000 }).status === 0;
}

export interface OpenSshResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `ssh -i <key> -p <port> user@host <command>` with OpenSSH's client against a loopback simulator,
 * with the options an operator needs for an old iDRAC (group14-sha1 key exchange, ssh-rsa host keys), no
 * user config, no known_hosts, and a hard time limit.
 */
export async function runOpenSsh(options: {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  command: string;
  timeoutMs?: number;
}): Promise<OpenSshResult> {
  const dir = await mkdtemp(join(tmpdir(), 'opsdeck-openssh-'));
  try {
    const keyFile = join(dir, 'id');
    await writeFile(keyFile, options.privateKey, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    const args = [
      '-F', '/dev/null',
      '-v',
      '-i', keyFile,
      '-p', String(options.port),
      '-o', 'BatchMode=yes',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'ConnectTimeout=5',
      '-o', 'FingerprintHash=sha256',
      '-o', 'KexAlgorithms=+diffie-hellman-group14-sha1',
      '-o', 'HostKeyAlgorithms=+ssh-rsa',
      `${options.username}@${options.host}`,
      options.command,
    ];
    return await new Promise<OpenSshResult>((resolve) => {
      execFile('ssh', args, { timeout: options.timeoutMs ?? 15_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ exitCode: code, stdout, stderr });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
