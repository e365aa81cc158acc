import ssh2 from 'ssh2';
import type { AppConfig } from '../../config/config.schema.js';
import type { RacadmCommandResult, RacadmSession } from '../racadm.js';
import { sshFingerprint } from '../ssh-key-material.js';
import { IdracSshError } from './idrac-ssh-error.js';
import { HandshakeGate } from './handshake-gate.js';

/**
 * The only code in OpsDeck that opens SSH client connections (DESIGN.md §1, §6). One `IdracSshSession` per
 * server, reused for all of a deployment's racadm commands, one exec request per command, commands run one
 * at a time. Host keys are pinned by SHA256 fingerprint and checked during key exchange, before any
 * credential is sent.
 */

export type IdracCredential =
  | { readonly kind: 'password'; readonly password: string }
  | { readonly kind: 'private_key'; readonly privateKey: string | Buffer; readonly passphrase?: string };

export interface IdracSshTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly credential: IdracCredential;
  /** The SHA256 fingerprint pinned on first contact, or null on first contact (the session reports it). */
  readonly expectedHostKey: string | null;
}

export interface IdracSshTimeouts {
  /** Socket connect + SSH handshake + authentication (ssh2 `readyTimeout`). */
  readonly connectTimeoutMs: number;
  /** One racadm command, from the exec request to the channel closing. */
  readonly commandTimeoutMs: number;
}

export interface ExecOptions {
  /** Overrides the client's command timeout for this command. */
  readonly timeoutMs?: number;
}

/** Old iDRACs (6/7/8) offer only these besides what ssh2 offers by default. */
export const LEGACY_ALGORITHMS = {
  kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1'],
  serverHostKey: ['ssh-rsa'],
  cipher: ['aes128-cbc', 'aes256-cbc'],
  hmac: ['hmac-sha1'],
} as const;

/** More than any racadm output; a misbehaving server cannot fill memory. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
/** ssh2's readyTimeout starts at the TCP connect; this net also covers DNS lookups that hang. */
const CONNECT_GUARD_MARGIN_MS = 1000;

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'EPIPE',
]);

type AuthMethodName = ssh2.AuthenticationType;

/** ssh2's defaults plus `extra` (its typings want all three keys of the operations record). */
function appendTo<T extends string>(extra: readonly T[]): Record<'append' | 'prepend' | 'remove', T[]> {
  return { append: [...extra], prepend: [], remove: [] };
}

interface Ssh2Error extends Error {
  level?: string;
  code?: string;
}

export class IdracSshClient {
  constructor(
    private readonly timeouts: IdracSshTimeouts,
    /** Logins in their key exchange at once; by default no limit. */
    private readonly handshakes: HandshakeGate = new HandshakeGate(0),
  ) {
    for (const [name, value] of Object.entries(timeouts)) {
      if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
    }
  }

  static fromConfig(config: Pick<AppConfig, 'idrac'>): IdracSshClient {
    return new IdracSshClient(
      { connectTimeoutMs: config.idrac.connect_timeout_ms, commandTimeoutMs: config.idrac.command_timeout_ms },
      new HandshakeGate(config.idrac.max_handshakes),
    );
  }

  /**
   * Opens and authenticates a session; rejects with an IdracSshError carrying the reason. The connect timeout
   * counts from the connection attempt, after any wait for a handshake slot.
   */
  async connect(target: IdracSshTarget): Promise<IdracSshSession> {
    const where = `${target.host}:${target.port}`;
    const privateKey = target.credential.kind === 'private_key' ? this.checkPrivateKey(target, where) : null;
    const leaveGate = await this.handshakes.enter();
    try {
      return await this.login(target, where, privateKey);
    } finally {
      leaveGate();
    }
  }

  private login(target: IdracSshTarget, where: string, privateKey: Buffer | null): Promise<IdracSshSession> {
    return new Promise<IdracSshSession>((resolve, reject) => {
      const connection = new ssh2.Client();
      let settled = false;
      let presentedHostKey: string | null = null;
      let hostKeyRefused = false;

      const fail = (error: IdracSshError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        connection.destroy();
        reject(error);
      };
      const guard = setTimeout(
        () => fail(new IdracSshError('timeout', `${where}: no SSH login within ${this.timeouts.connectTimeoutMs} ms`)),
        this.timeouts.connectTimeoutMs + CONNECT_GUARD_MARGIN_MS,
      );

      connection.on('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        resolve(
          new IdracSshSession(connection, where, presentedHostKey ?? '', target.expectedHostKey === null, this.timeouts),
        );
      });
      const hostKeyMismatch = (): IdracSshError =>
        new IdracSshError(
          'host_key_mismatch',
          `${where}: host key ${presentedHostKey} does not match the pinned ${target.expectedHostKey}`,
          presentedHostKey,
        );
      connection.on('error', (err: Ssh2Error) => {
        if (hostKeyRefused) {
          fail(hostKeyMismatch());
          return;
        }
        fail(classifyConnectError(err, where, this.timeouts.connectTimeoutMs));
      });
      connection.on('close', () => {
        if (hostKeyRefused) {
          fail(hostKeyMismatch());
          return;
        }
        fail(new IdracSshError('unreachable', `${where}: connection closed before the SSH login completed`));
      });

      const password = target.credential.kind === 'password' ? target.credential.password : null;
      const tried = new Set<AuthMethodName>();
      const authHandler: ssh2.AuthHandlerMiddleware = (methodsLeft, _partialSuccess, next) => {
        const username = target.username;
        // ssh2 passes null before the first attempt. The 'none' request asks the server which methods it
        // takes, so no password is spent on a method it does not offer (iDRACs block addresses after
        // repeated failures).
        if ((methodsLeft as AuthMethodName[] | null) === null) return next({ type: 'none', username });
        const wanted: AuthMethodName[] = privateKey ? ['publickey'] : ['password', 'keyboard-interactive'];
        const method = wanted.find((m) => methodsLeft.includes(m) && !tried.has(m));
        // `false` ends authentication as failed (ssh2 supports it; its typings omit it).
        if (method === undefined) return next(false as unknown as AuthMethodName);
        tried.add(method);
        if (method === 'publickey') return next({ type: 'publickey', username, key: privateKey! });
        if (method === 'password') return next({ type: 'password', username, password: password ?? '' });
        return next({
          type: 'keyboard-interactive',
          username,
          // iDRACs ask for the password only; every prompt gets it.
          prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password ?? '')),
        });
      };

      try {
        connection.connect({
          host: target.host,
          port: target.port,
          username: target.username,
          readyTimeout: this.timeouts.connectTimeoutMs,
          keepaliveInterval: 0,
          authHandler,
          algorithms: {
            kex: appendTo(LEGACY_ALGORITHMS.kex),
            serverHostKey: appendTo(LEGACY_ALGORITHMS.serverHostKey),
            cipher: appendTo(LEGACY_ALGORITHMS.cipher),
            hmac: appendTo(LEGACY_ALGORITHMS.hmac),
          },
          hostVerifier: (key: Buffer) => {
            presentedHostKey = sshFingerprint(key);
            if (target.expectedHostKey === null || target.expectedHostKey === presentedHostKey) return true;
            hostKeyRefused = true;
            return false;
          },
        });
        // Every message of this protocol is small and answered before the next is sent (key exchange, one
        // exec request, CHANNEL_CLOSE): with Nagle's algorithm a second small write waits for the ACK of the
        // first, which the server delays (40 ms on Linux), so each command cost ~45 ms more on loopback.
        connection.setNoDelay(true);
      } catch (err) {
        fail(new IdracSshError('unreachable', `${where}: ${(err as Error).message}`));
      }
    });
  }

  /** Connects, runs `work`, and always closes the session. */
  async withSession<T>(target: IdracSshTarget, work: (session: IdracSshSession) => Promise<T>): Promise<T> {
    const session = await this.connect(target);
    try {
      return await work(session);
    } finally {
      session.close();
    }
  }

  private checkPrivateKey(target: IdracSshTarget, where: string): Buffer {
    if (target.credential.kind !== 'private_key') throw new Error('unreachable');
    const { privateKey, passphrase } = target.credential;
    const parsed = ssh2.utils.parseKey(privateKey, passphrase);
    const key = Array.isArray(parsed) ? (parsed[0] as ssh2.ParsedKey | undefined) : parsed;
    if (!key || key instanceof Error || !key.isPrivateKey()) {
      // The key itself never goes into the message.
      throw new IdracSshError('auth_failed', `${where}: the private key for this server cannot be read`);
    }
    return Buffer.isBuffer(privateKey) ? privateKey : Buffer.from(privateKey);
  }
}

function classifyConnectError(err: Ssh2Error, where: string, connectTimeoutMs: number): IdracSshError {
  if (err.level === 'client-authentication') return new IdracSshError('auth_failed', `${where}: authentication failed`);
  if (err.level === 'client-timeout') {
    return new IdracSshError('timeout', `${where}: no SSH login within ${connectTimeoutMs} ms`);
  }
  if (err.level === 'client-dns') return new IdracSshError('unreachable', `${where}: host name does not resolve`);
  if (err.code === 'ETIMEDOUT') return new IdracSshError('timeout', `${where}: TCP connect timed out`);
  if (err.code && UNREACHABLE_CODES.has(err.code)) return new IdracSshError('unreachable', `${where}: ${err.code}`);
  // Handshake and protocol errors (no common algorithm, garbage instead of SSH): the SSH service is not usable.
  return new IdracSshError('unreachable', `${where}: SSH handshake failed: ${err.message.slice(0, 200)}`);
}

/** An authenticated connection to one iDRAC. */
export class IdracSshSession implements RacadmSession {
  private queue: Promise<unknown> = Promise.resolve();
  private brokenBy: IdracSshError | null = null;
  private readonly closeListeners = new Set<(error: IdracSshError) => void>();

  constructor(
    private readonly connection: ssh2.Client,
    private readonly where: string,
    /** SHA256 fingerprint of the server's host key; store it on first contact. */
    readonly hostKeyFingerprint: string,
    /** True when no host key was pinned yet: the caller should pin `hostKeyFingerprint`. */
    readonly firstContact: boolean,
    private readonly timeouts: IdracSshTimeouts,
  ) {
    connection.on('close', () => this.breakWith(new IdracSshError('unreachable', `${where}: connection closed`)));
    connection.on('error', (err: Ssh2Error) =>
      this.breakWith(new IdracSshError('unreachable', `${where}: connection failed: ${err.message.slice(0, 200)}`)),
    );
  }

  get closed(): boolean {
    return this.brokenBy !== null;
  }

  /** Runs one command in its own exec channel, after any command already running on this session. */
  exec(command: string, options: ExecOptions = {}): Promise<RacadmCommandResult> {
    const run = (): Promise<RacadmCommandResult> => this.execNow(command, options.timeoutMs ?? this.timeouts.commandTimeoutMs);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.breakWith(new IdracSshError('unreachable', `${this.where}: session closed`));
  }

  private breakWith(error: IdracSshError): void {
    if (this.brokenBy === null) this.brokenBy = error;
    for (const listener of [...this.closeListeners]) listener(this.brokenBy);
    this.connection.end();
  }

  private execNow(command: string, timeoutMs: number): Promise<RacadmCommandResult> {
    const subcommand = command.split(/\s+/).slice(0, 2).join(' ');
    return new Promise<RacadmCommandResult>((resolve, reject) => {
      if (this.brokenBy) {
        reject(this.brokenBy);
        return;
      }
      let settled = false;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let outputBytes = 0;
      let exitCode: number | null = null;

      const finish = (error: IdracSshError | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.closeListeners.delete(onClosed);
        if (error) reject(error);
        else {
          resolve({
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
            exitCode,
          });
        }
      };
      const onClosed = (error: IdracSshError): void => finish(error);
      this.closeListeners.add(onClosed);
      const timer = setTimeout(() => {
        const error = new IdracSshError('timeout', `${this.where}: ${subcommand} gave no answer within ${timeoutMs} ms`);
        finish(error);
        // A server that stops answering mid-session is not trusted with the next command.
        this.breakWith(error);
      }, timeoutMs);

      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        outputBytes += chunk.length;
        if (outputBytes > MAX_OUTPUT_BYTES) {
          finish(new IdracSshError('command_failed', `${this.where}: ${subcommand} printed more than 1 MiB`));
          this.breakWith(new IdracSshError('command_failed', `${this.where}: output too large`));
          return;
        }
        into.push(chunk);
      };

      try {
        this.connection.exec(command, (err, channel) => {
          if (err) {
            finish(new IdracSshError('command_failed', `${this.where}: ${subcommand}: ${err.message.slice(0, 200)}`));
            return;
          }
          if (settled) {
            channel.close();
            return;
          }
          channel.on('data', collect(stdout));
          channel.stderr.on('data', collect(stderr));
          channel.on('exit', (code: number | null) => {
            exitCode = typeof code === 'number' ? code : null;
          });
          channel.on('close', () => finish(null));
        });
      } catch (err) {
        finish(new IdracSshError('unreachable', `${this.where}: ${(err as Error).message.slice(0, 200)}`));
      }
    });
  }
}
