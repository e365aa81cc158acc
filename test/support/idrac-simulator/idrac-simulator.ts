import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import {
  DEFAULT_FIRMWARE,
  emptySlots,
  publicKeyBlob,
  runRacadm,
  SLOTS_PER_USER,
  USER_INDEXES,
  type FirmwareVersions,
  type RacadmState,
  type ViewFormat,
} from './racadm-shell.js';

/**
 * A fake Dell iDRAC: an ssh2 server on loopback that answers the racadm subset OpsDeck uses
 * (`getversion`, `sshpkauth` view/add/delete) over exec requests, with injectable faults. Its state (the
 * 4 key slots of each of the 16 user indexes) is readable and writable from tests.
 */

export type SimulatorAlgorithms = 'legacy' | 'modern';
export type RefuseMode = false | 'closed' | 'reset';

export interface IdracSimulatorFaults {
  /** Every authentication attempt is refused, whatever the credentials. */
  readonly rejectAuthentication: boolean;
  /** Password authentication is not offered; keyboard-interactive asks for the password instead. */
  readonly keyboardInteractiveOnly: boolean;
  /** Added before each command's answer, in milliseconds. */
  readonly latencyMs: number;
  /** Authentication succeeds, then channel requests are never answered. */
  readonly hangAfterAuthentication: boolean;
  /** TCP connections are accepted but the server never speaks SSH. */
  readonly hangBeforeHandshake: boolean;
  /** 'closed': nothing listens on the port (connection refused); 'reset': accepted, then reset at once. */
  readonly refuseConnections: RefuseMode;
}

export interface IdracSimulatorOptions {
  /** Loopback only: 127.0.0.0/8 or ::1 (default 127.0.0.1). */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  readonly username?: string;
  readonly password?: string;
  /** The user index `username` is; its slots authorize public-key logins (default 2, like root on an iDRAC). */
  readonly userIndex?: number;
  /** RSA private key (PEM or OpenSSH); default: one generated per process and shared. */
  readonly hostKey?: string;
  readonly outputFormat?: ViewFormat;
  /** 'legacy' (default) offers only diffie-hellman-group14-sha1 and ssh-rsa host keys, like old iDRACs. */
  readonly algorithms?: SimulatorAlgorithms;
  readonly firmware?: Partial<FirmwareVersions>;
  readonly faults?: Partial<IdracSimulatorFaults> & { readonly slotsFull?: boolean };
}

export interface AuthAttempt {
  readonly method: string;
  readonly username: string;
  readonly accepted: boolean;
}

const NO_FAULTS: IdracSimulatorFaults = {
  rejectAuthentication: false,
  keyboardInteractiveOnly: false,
  latencyMs: 0,
  hangAfterAuthentication: false,
  hangBeforeHandshake: false,
  refuseConnections: false,
};

const LEGACY_ALGORITHMS: ssh2.Algorithms = {
  kex: ['diffie-hellman-group14-sha1'],
  serverHostKey: ['ssh-rsa'],
  cipher: ['aes128-ctr', 'aes256-ctr', 'aes128-cbc', 'aes256-cbc'],
  hmac: ['hmac-sha2-256', 'hmac-sha1'],
};

let sharedHostKey: Promise<string> | null = null;

/** One RSA host key per process, so a fleet of hundreds starts without generating hundreds of keys. */
export function sharedRsaHostKey(): Promise<string> {
  sharedHostKey ??= generateRsaHostKey();
  return sharedHostKey;
}

export function generateRsaHostKey(bits = 2048): Promise<string> {
  return new Promise((resolve, reject) =>
    ssh2.utils.generateKeyPair('rsa', { bits }, (err, keys) => (err ? reject(err) : resolve(keys.private))),
  );
}

export function isLoopback(host: string): boolean {
  return host === '::1' || host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export class IdracSimulator {
  readonly host: string;
  readonly username: string;
  readonly password: string;
  readonly userIndex: number;
  private readonly algorithms: SimulatorAlgorithms;
  private readonly state: RacadmState;
  private faultState: IdracSimulatorFaults;
  private hostKey: string | null;
  private sshServer: ssh2.Server | null = null;
  private listener: NetServer | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private requestedPort: number;
  private boundPort = 0;
  private fillerCounter = 0;
  /** Every exec request received, in order. */
  readonly commands: string[] = [];
  readonly authAttempts: AuthAttempt[] = [];
  /** TCP connections accepted. */
  connections = 0;

  constructor(options: IdracSimulatorOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    if (!isLoopback(this.host)) throw new Error(`the simulator listens on loopback only, not ${this.host}`);
    this.requestedPort = options.port ?? 0;
    this.username = options.username ?? 'root';
    this.password = options.password ?? 'calvin';
    this.userIndex = options.userIndex ?? 2;
    if (!Number.isInteger(this.userIndex) || this.userIndex < 1 || this.userIndex > USER_INDEXES) {
      throw new Error('userIndex must be 1..16');
    }
    this.hostKey = options.hostKey ?? null;
    this.algorithms = options.algorithms ?? 'legacy';
    this.state = {
      slots: emptySlots(),
      firmware: { ...DEFAULT_FIRMWARE, ...options.firmware },
      format: options.outputFormat ?? 'banner',
    };
    const { slotsFull, ...faults } = options.faults ?? {};
    this.faultState = { ...NO_FAULTS, ...faults };
    if (slotsFull) this.fillAllSlots();
  }

  get port(): number {
    return this.boundPort;
  }

  get faults(): IdracSimulatorFaults {
    return this.faultState;
  }

  get outputFormat(): ViewFormat {
    return this.state.format;
  }

  set outputFormat(format: ViewFormat) {
    this.state.format = format;
  }

  /** SHA256 fingerprint of the current host key, as `ssh-keygen -l` prints it. */
  get hostKeyFingerprint(): string {
    if (!this.hostKey) throw new Error('the simulator has not started');
    return hostKeyFingerprint(this.hostKey);
  }

  async start(): Promise<this> {
    this.hostKey ??= await sharedRsaHostKey();
    this.sshServer = this.buildSshServer(this.hostKey);
    await this.listen();
    if (this.faultState.refuseConnections === 'closed') await this.closeListener();
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await this.closeListener();
  }

  /** Changes faults at run time; `refuseConnections` stops or resumes listening on the same port. */
  async setFaults(faults: Partial<IdracSimulatorFaults> & { readonly slotsFull?: boolean }): Promise<void> {
    const { slotsFull, ...rest } = faults;
    const wasClosed = this.faultState.refuseConnections === 'closed';
    this.faultState = { ...this.faultState, ...rest };
    if (slotsFull) this.fillAllSlots();
    const nowClosed = this.faultState.refuseConnections === 'closed';
    if (!wasClosed && nowClosed) await this.closeListener();
    if (wasClosed && !nowClosed && this.sshServer) await this.listen();
  }

  /** A new host key (generated unless given): clients that pinned the old one must refuse it. */
  async rotateHostKey(privateKey?: string): Promise<string> {
    this.hostKey = privateKey ?? (await generateRsaHostKey());
    this.sshServer = this.buildSshServer(this.hostKey);
    return this.hostKeyFingerprint;
  }

  /** The key text in each of the user's 4 slots (null when empty). */
  slots(userIndex = this.userIndex): (string | null)[] {
    return [...this.slotArray(userIndex)];
  }

  setSlot(userIndex: number, slot: number, keyText: string | null): void {
    if (!Number.isInteger(slot) || slot < 1 || slot > SLOTS_PER_USER) throw new Error('slot must be 1..4');
    this.slotArray(userIndex)[slot - 1] = keyText;
  }

  /** Fills every empty slot (of one user, or of all) with distinct valid ed25519 keys. */
  fillAllSlots(userIndex?: number): void {
    const users = userIndex === undefined ? [...this.state.slots.keys()] : [userIndex];
    for (const user of users) {
      const slots = this.slotArray(user);
      for (let i = 0; i < slots.length; i++) slots[i] ??= this.fillerKey();
    }
  }

  private slotArray(userIndex: number): (string | null)[] {
    const slots = this.state.slots.get(userIndex);
    if (!slots) throw new Error('userIndex must be 1..16');
    return slots;
  }

  private fillerKey(): string {
    const type = Buffer.from('ssh-ed25519');
    const blob = Buffer.concat([u32(type.length), type, u32(32), randomBytes(32)]);
    return `ssh-ed25519 ${blob.toString('base64')} filler-${++this.fillerCounter}@simulator`;
  }

  private async listen(): Promise<void> {
    const listener = createServer((socket) => this.onSocket(socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.boundPort || this.requestedPort, this.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.listener = listener;
    this.boundPort = (listener.address() as AddressInfo).port;
  }

  private async closeListener(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
  }

  private onSocket(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (this.faultState.refuseConnections === 'reset') {
      socket.resetAndDestroy();
      return;
    }
    if (this.faultState.hangBeforeHandshake) return;
    // ssh2's Server writes each packet on its own (a command's output, exit-status, EOF and CHANNEL_CLOSE are
    // four writes), where OpenSSH coalesces them; with Nagle's algorithm each later write waited for a delayed
    // ACK (40 ms on Linux), which no real iDRAC adds per command.
    socket.setNoDelay(true);
    this.sshServer?.injectSocket(socket);
  }

  private buildSshServer(hostKey: string): ssh2.Server {
    const server = new ssh2.Server(
      {
        hostKeys: [hostKey],
        ident: 'OpenSSH_7.4',
        ...(this.algorithms === 'legacy' ? { algorithms: LEGACY_ALGORITHMS } : {}),
      },
      (client) => this.onClient(client),
    );
    return server;
  }

  private offeredMethods(): ssh2.AuthenticationType[] {
    return this.faultState.keyboardInteractiveOnly ? ['publickey', 'keyboard-interactive'] : ['publickey', 'password'];
  }

  private onClient(client: ssh2.Connection): void {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => this.authenticate(ctx));
    client.on('ready', () => {
      client.on('session', (accept, reject) => {
        if (this.faultState.hangAfterAuthentication) return; // never confirmed, never refused
        const session = accept();
        session.on('pty', (acceptPty) => acceptPty?.());
        session.on('env', (acceptEnv) => acceptEnv?.());
        session.on('shell', (_accept, rejectShell) => rejectShell?.());
        session.on('exec', (acceptExec, _rejectExec, info) => {
          const channel = acceptExec();
          this.commands.push(info.command);
          const reply = runRacadm(this.state, info.command);
          const send = (): void => {
            if (channel.destroyed) return;
            channel.write(reply.stdout);
            channel.exit(reply.exitCode);
            channel.end();
          };
          this.later(send, this.faultState.latencyMs);
        });
        void reject;
      });
    });
  }

  private authenticate(ctx: ssh2.AuthContext): void {
    const record = (accepted: boolean): void => {
      this.authAttempts.push({ method: ctx.method, username: ctx.username, accepted });
      if (accepted) ctx.accept();
      else ctx.reject(this.offeredMethods());
    };
    const offered = this.offeredMethods();
    if (ctx.method === 'none' || !offered.includes(ctx.method)) return record(false);
    if (this.faultState.rejectAuthentication || ctx.username !== this.username) return record(false);
    switch (ctx.method) {
      case 'password':
        return record(sameSecret(ctx.password, this.password));
      case 'keyboard-interactive':
        ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => record(sameSecret(answers[0] ?? '', this.password)));
        return;
      case 'publickey': {
        const allowed = this.slotArray(this.userIndex).some((text) => {
          const blob = text ? publicKeyBlob(text) : null;
          return blob !== null && blob.equals(ctx.key.data);
        });
        if (!allowed) return record(false);
        if (!ctx.signature || !ctx.blob) return record(true); // the "would this key do?" query
        const verifier = parsePublicBlob(ctx.key.data);
        return record(verifier ? verifier.verify(ctx.blob, ctx.signature, ctx.hashAlgo) : false);
      }
      case 'hostbased':
        return record(false);
    }
  }

  private later(fn: () => void, delayMs: number): void {
    if (delayMs <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delayMs);
    this.timers.add(timer);
  }
}

export function hostKeyFingerprint(privateKey: string): string {
  const parsed = ssh2.utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? (parsed[0] as ssh2.ParsedKey) : parsed;
  if (key instanceof Error) throw key;
  return `SHA256:${createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
}

function parsePublicBlob(blob: Buffer): ssh2.ParsedKey | null {
  const typeLength = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + typeLength).toString('latin1');
  const parsed = ssh2.utils.parseKey(`${type} ${blob.toString('base64')}`);
  const key = Array.isArray(parsed) ? (parsed[0] as ssh2.ParsedKey | undefined) : parsed;
  return !key || key instanceof Error ? null : key;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
