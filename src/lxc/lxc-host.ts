import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import {
  isArch,
  isContainerName,
  isIPv4Address,
  isIPv4Cidr,
  isInterfaceName,
  isPort,
  isPortForwardRuleName,
  isTemplateName,
  isUserName,
  normalizeSshPublicKey,
} from './container-name.js';
import {
  LxcCommandError,
  LxcConflictError,
  LxcError,
  LxcInvalidArgumentError,
  LxcNotFoundError,
  LxcTimeoutError,
  LxcUnavailableError,
} from './lxc-errors.js';
import { parseLxcLsFancy, type ContainerInfo } from './lxc-ls.parser.js';

export type { ContainerInfo } from './lxc-ls.parser.js';

export type ContainerSource =
  | { readonly kind: 'template'; readonly template: string }
  | { readonly kind: 'image'; readonly distro: string; readonly release: string; readonly arch: string };

export interface CreateContainerOptions {
  /** A static address on config.lxc.bridge, `a.b.c.d/nn` (the bridge has no DHCP server). */
  readonly ipv4?: string;
  /** Defaults to the bridge's own address when it is on the same network. */
  readonly gateway?: string;
}

export interface CachedImage {
  readonly distro: string;
  readonly release: string;
  readonly arch: string;
  readonly variant: string;
}

export type MacvlanMode = 'bridge' | 'vepa' | 'private' | 'passthru';

export interface MacvlanSetup {
  readonly parent: string;
  readonly mode: MacvlanMode;
  /** Without a container the setting becomes the default for containers created later without a static address. */
  readonly container?: string;
  readonly ipv4?: string;
  readonly gateway?: string;
}

export interface MacvlanResult {
  /** null: the default for new containers was set. */
  readonly container: string | null;
  readonly parent: string;
  readonly mode: MacvlanMode;
  readonly ipv4: string | null;
}

export type PortForwardProtocol = 'tcp' | 'udp';

export interface PortForward {
  readonly container: string;
  readonly rule: string;
  readonly protocol: PortForwardProtocol;
  readonly hostPort: number;
  readonly containerAddress: string;
  readonly containerPort: number;
}

export interface KeyDeploymentResult {
  readonly added: number;
  readonly skipped: number;
}

/** Host paths LxcHost reads besides the configuration; tests point them elsewhere. */
export interface LxcHostOptions {
  /** PATH after config.lxc.tools_path; never taken from the service's own environment. */
  readonly systemPath?: string;
  readonly templatesDir?: string;
  readonly downloadCacheDir?: string;
  /** Where the host's network interfaces are listed (macvlan parents must exist). */
  readonly netClassDir?: string;
}
export const LXC_HOST_OPTIONS = Symbol('LXC_HOST_OPTIONS');

type CallKind = keyof AppConfig['lxc']['timeouts_ms'];

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
const MACVLAN_MODES: readonly MacvlanMode[] = ['bridge', 'vepa', 'private', 'passthru'];
/** Exit codes of scripts/lxc-tools (common.sh). */
const SCRIPT_EXIT = { invalid: 2, notFound: 3, conflict: 4, toolMissing: 5, commandNotFound: 127 } as const;

/**
 * The only code that starts processes for LXC: lxc-* and scripts/lxc-tools, always with an argument array (no
 * shell), a fixed environment, a per-kind timeout that kills the whole process group, and every argument checked
 * against its pattern first, so a hostile name never reaches a process.
 */
@Injectable()
export class LxcHost {
  private readonly lxcPath: string;
  private readonly scriptsDir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly templatesDir: string;
  private readonly downloadCacheDir: string;
  private readonly netClassDir: string;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @Optional() @Inject(LXC_HOST_OPTIONS) options: LxcHostOptions | null = null,
  ) {
    this.lxcPath = resolve(config.lxc.path);
    this.scriptsDir = resolve(config.lxc.scripts_dir ?? defaultScriptsDir());
    const systemPath = options?.systemPath ?? SYSTEM_PATH;
    const path = config.lxc.tools_path === null ? systemPath : `${resolve(config.lxc.tools_path)}:${systemPath}`;
    // Fixed C locale: the error texts matched below are LXC's untranslated ones.
    this.env = { PATH: path, LANG: 'C', LC_ALL: 'C', LXC_PATH: this.lxcPath };
    this.templatesDir = options?.templatesDir ?? '/usr/share/lxc/templates';
    this.downloadCacheDir = options?.downloadCacheDir ?? '/var/cache/lxc/download';
    this.netClassDir = options?.netClassDir ?? '/sys/class/net';
  }

  async list(): Promise<ContainerInfo[]> {
    const result = await this.lxc('query', 'lxc-ls', ['-f', '-F', 'name,state,ipv4,ipv6,pid,autostart,ram']);
    this.failUnlessZero('lxc-ls', result);
    return parseLxcLsFancy(result.stdout);
  }

  async get(name: string): Promise<ContainerInfo> {
    checkContainerName(name);
    const filter = `^${name.replace(/\./g, '\\.')}$`;
    const result = await this.lxc('query', 'lxc-ls', ['-f', '-F', 'name,state,ipv4,ipv6,pid,autostart,ram', filter]);
    this.failUnlessZero('lxc-ls', result);
    const container = parseLxcLsFancy(result.stdout).find((info) => info.name === name);
    if (!container) throw new LxcNotFoundError(`Container ${name} does not exist`);
    return container;
  }

  async exists(name: string): Promise<boolean> {
    checkContainerName(name);
    const result = await this.lxc('query', 'lxc-info', ['-n', name, '-s', '-H']);
    if (result.code === 0) return true;
    if (/doesn't exist/.test(result.stderr)) return false;
    throw this.commandFailed('lxc-info', result);
  }

  async create(name: string, source: ContainerSource, options: CreateContainerOptions = {}): Promise<void> {
    checkContainerName(name);
    const args = ['-n', name, ...templateArguments(source)];
    if (options.ipv4 !== undefined && !isIPv4Cidr(options.ipv4)) {
      throw new LxcInvalidArgumentError('ipv4', 'ipv4 must be a host address with its prefix length, such as 10.0.3.7/24');
    }
    if (options.gateway !== undefined && !isIPv4Address(options.gateway)) {
      throw new LxcInvalidArgumentError('gateway', 'gateway must be an IPv4 address');
    }
    const result = await this.lxc('create', 'lxc-create', args);
    if (result.code !== 0) {
      if (/Container already exists/.test(result.stderr)) throw new LxcConflictError('already_exists', `Container ${name} already exists`);
      if (/Template "[^"]*" not found|bad template/.test(result.stderr)) {
        throw new LxcInvalidArgumentError('image', `Template ${describeSource(source)} is not installed`, 'unknown_template');
      }
      throw this.commandFailed('lxc-create', result);
    }
    try {
      if (source.kind === 'template' && source.template === 'sshd') await this.script('sshd-fixup.sh', [name]);
      if (options.ipv4 !== undefined) {
        const extra = options.gateway === undefined ? [] : [options.gateway];
        await this.script('network.sh', ['bridge', name, this.config.lxc.bridge, options.ipv4, ...extra]);
      } else {
        await this.script('network.sh', ['apply-default', name]);
      }
    } catch (error) {
      // A container without the network it was asked for is not what the caller created; take it away again.
      await this.lxc('destroy', 'lxc-destroy', ['-n', name]).catch(() => undefined);
      throw error;
    }
  }

  /** Starting a running container changes nothing (lxc-start itself succeeds then). */
  async start(name: string): Promise<void> {
    checkContainerName(name);
    const result = await this.lxc('start', 'lxc-start', ['-n', name]);
    if (result.code === 0) return;
    if (/No container config specified|doesn't exist/.test(result.stderr)) {
      throw new LxcNotFoundError(`Container ${name} does not exist`);
    }
    throw this.commandFailed('lxc-start', result);
  }

  /** Clean shutdown, forced after most of the stop timeout. Stopping a stopped container changes nothing. */
  async stop(name: string): Promise<void> {
    checkContainerName(name);
    const graceSeconds = Math.max(1, Math.floor((this.config.lxc.timeouts_ms.stop * 0.8) / 1000));
    const result = await this.lxc('stop', 'lxc-stop', ['-n', name, '-t', String(graceSeconds)]);
    if (result.code === 0) return;
    if (/is not running/.test(result.stderr)) {
      if (await this.exists(name)) return;
      throw new LxcNotFoundError(`Container ${name} does not exist`);
    }
    throw this.commandFailed('lxc-stop', result);
  }

  /** The caller stops the container first (a running one is a 409). Its port forwards go with it. */
  async destroy(name: string): Promise<void> {
    checkContainerName(name);
    const result = await this.lxc('destroy', 'lxc-destroy', ['-n', name]);
    if (result.code !== 0) {
      if (/is not defined|doesn't exist/.test(result.stderr)) throw new LxcNotFoundError(`Container ${name} does not exist`);
      if (/is running/.test(result.stderr)) throw new LxcConflictError('running', `Container ${name} is running; stop it first`);
      throw this.commandFailed('lxc-destroy', result);
    }
    await this.removeAllPortForwards(name);
  }

  /** Local templates: /usr/share/lxc/templates/lxc-<name>. */
  async listTemplates(): Promise<string[]> {
    const entries = await readdir(this.templatesDir).catch(() => [] as string[]);
    return entries
      .filter((entry) => entry.startsWith('lxc-'))
      .map((entry) => entry.slice('lxc-'.length))
      .filter((template) => isTemplateName(template))
      .sort();
  }

  /** Images the download template has cached: <cache>/<distro>/<release>/<arch>/<variant>/. */
  async listCachedImages(): Promise<CachedImage[]> {
    const images: CachedImage[] = [];
    for (const distro of await subdirectories(this.downloadCacheDir)) {
      for (const release of await subdirectories(join(this.downloadCacheDir, distro))) {
        for (const arch of await subdirectories(join(this.downloadCacheDir, distro, release))) {
          for (const variant of await subdirectories(join(this.downloadCacheDir, distro, release, arch))) {
            images.push({ distro, release, arch, variant });
          }
        }
      }
    }
    return images.sort((a, b) => `${a.distro}:${a.release}:${a.arch}`.localeCompare(`${b.distro}:${b.release}:${b.arch}`));
  }

  /**
   * With a container: its network becomes a macvlan on `parent` (effective at its next start). Without: containers
   * created later without a static address get that macvlan instead of the bridge.
   */
  async setupMacvlan(setup: MacvlanSetup): Promise<MacvlanResult> {
    if (!isInterfaceName(setup.parent)) throw new LxcInvalidArgumentError('parent', 'parent must be a network interface name');
    if (!MACVLAN_MODES.includes(setup.mode)) {
      throw new LxcInvalidArgumentError('mode', `mode must be one of ${MACVLAN_MODES.join(', ')}`);
    }
    if (setup.container !== undefined) checkContainerName(setup.container);
    if (setup.ipv4 !== undefined && !isIPv4Cidr(setup.ipv4)) {
      throw new LxcInvalidArgumentError('ipv4', 'ipv4 must be a host address with its prefix length, such as 192.168.1.50/24');
    }
    if (setup.gateway !== undefined && !isIPv4Address(setup.gateway)) {
      throw new LxcInvalidArgumentError('gateway', 'gateway must be an IPv4 address');
    }
    if (!existsSync(join(this.netClassDir, setup.parent))) {
      throw new LxcInvalidArgumentError('parent', `The host has no network interface ${setup.parent}`);
    }
    if (setup.container === undefined) {
      await this.script('network.sh', ['default-macvlan', setup.parent, setup.mode]);
      return { container: null, parent: setup.parent, mode: setup.mode, ipv4: null };
    }
    const address = setup.ipv4 === undefined ? [] : [setup.ipv4, ...(setup.gateway === undefined ? [] : [setup.gateway])];
    await this.script('network.sh', ['macvlan', setup.container, setup.parent, setup.mode, ...address]);
    return { container: setup.container, parent: setup.parent, mode: setup.mode, ipv4: setup.ipv4 ?? null };
  }

  /** Appends keys to ~user/.ssh/authorized_keys in a running container; keys travel on stdin, never as arguments. */
  async deployAuthorizedKeys(name: string, user: string, publicKeys: readonly string[]): Promise<KeyDeploymentResult> {
    checkContainerName(name);
    if (!isUserName(user)) throw new LxcInvalidArgumentError('user', 'user must be a user name such as root or deploy');
    if (publicKeys.length === 0 || publicKeys.length > 100) {
      throw new LxcInvalidArgumentError('public_keys', 'between 1 and 100 public keys are needed');
    }
    const keys = publicKeys.map((key, index) => {
      const normalized = normalizeSshPublicKey(key);
      if (normalized === null) {
        throw new LxcInvalidArgumentError(`public_keys.${index}`, 'must be an OpenSSH public key line: type, key and an optional comment');
      }
      return normalized;
    });
    const stdout = await this.script('authorized-keys.sh', [name, user], `${keys.join('\n')}\n`, 'attach');
    const match = /added=(\d+) skipped=(\d+)/.exec(stdout);
    if (!match) throw new LxcCommandError('authorized-keys.sh printed no result');
    return { added: Number(match[1]), skipped: Number(match[2]) };
  }

  /** Idempotent: the same forward again answers `created: false`. */
  async addPortForward(forward: PortForward): Promise<{ created: boolean }> {
    checkPortForward(forward);
    const stdout = await this.script('port-forward.sh', [
      'add',
      forward.container,
      forward.rule,
      forward.protocol,
      String(forward.hostPort),
      forward.containerAddress,
      String(forward.containerPort),
    ]);
    return { created: stdout.startsWith('added ') };
  }

  async listPortForwards(container?: string): Promise<PortForward[]> {
    if (container !== undefined) checkContainerName(container);
    const stdout = await this.script('port-forward.sh', container === undefined ? ['list'] : ['list', container]);
    return stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [name, rule, protocol, hostPort, containerAddress, containerPort] = line.split('\t');
        return {
          container: name ?? '',
          rule: rule ?? '',
          protocol: protocol === 'udp' ? 'udp' : 'tcp',
          hostPort: Number(hostPort),
          containerAddress: containerAddress ?? '',
          containerPort: Number(containerPort),
        };
      });
  }

  async removePortForward(container: string, rule: string): Promise<void> {
    checkContainerName(container);
    if (!isPortForwardRuleName(rule)) throw new LxcInvalidArgumentError('rule', 'rule must be a port-forward rule name');
    await this.script('port-forward.sh', ['remove', container, rule]);
  }

  /** The number of forwards removed. */
  async removeAllPortForwards(container: string): Promise<number> {
    checkContainerName(container);
    const stdout = await this.script('port-forward.sh', ['remove-all', container]);
    return Number(/removed (\d+)/.exec(stdout)?.[1] ?? 0);
  }

  private lxc(kind: CallKind, tool: string, args: readonly string[]): Promise<RunResult> {
    return this.run(kind, tool, ['-P', this.lxcPath, ...args], tool);
  }

  /** Runs a scripts/lxc-tools script and maps its exit code (common.sh) to an error. Returns stdout. */
  private async script(script: string, args: readonly string[], stdin?: string, kind: CallKind = 'script'): Promise<string> {
    const result = await this.run(kind, join(this.scriptsDir, script), args, script, stdin);
    if (result.code === 0) return result.stdout;
    const message = lastMessage(result.stderr) || `${script} failed with exit code ${result.code}`;
    switch (result.code) {
      case SCRIPT_EXIT.invalid:
        throw new LxcInvalidArgumentError('', message);
      case SCRIPT_EXIT.notFound:
        throw new LxcNotFoundError(message);
      case SCRIPT_EXIT.conflict:
        throw new LxcConflictError(conflictReason(message), message);
      case SCRIPT_EXIT.toolMissing:
      case SCRIPT_EXIT.commandNotFound:
        throw new LxcUnavailableError(message);
      default:
        throw new LxcCommandError(`${script}: ${message}`);
    }
  }

  private run(kind: CallKind, file: string, args: readonly string[], label: string, stdin?: string): Promise<RunResult> {
    const timeoutMs = this.config.lxc.timeouts_ms[kind];
    return new Promise<RunResult>((resolvePromise, reject) => {
      // detached: the child leads its own process group, so a timeout kills the scripts' children as well.
      const child = spawn(file, [...args], { env: this.env, shell: false, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let outputBytes = 0;
      let settled = false;
      const settle = (action: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        action();
      };
      const killGroup = (): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const timer = setTimeout(() => {
        killGroup();
        settle(() => reject(new LxcTimeoutError(`${label} did not finish within ${timeoutMs} ms and was stopped`)));
      }, timeoutMs);
      const collect = (chunks: Buffer[]) => (chunk: Buffer) => {
        outputBytes += chunk.length;
        if (outputBytes > MAX_OUTPUT_BYTES) {
          killGroup();
          settle(() => reject(new LxcCommandError(`${label} printed more than ${MAX_OUTPUT_BYTES} bytes`)));
          return;
        }
        chunks.push(chunk);
      };
      child.stdout.on('data', collect(stdout));
      child.stderr.on('data', collect(stderr));
      child.stdin.on('error', () => undefined); // a tool that exits without reading its stdin is not an error here
      child.on('error', (error: NodeJS.ErrnoException) => {
        settle(() =>
          reject(
            error.code === 'ENOENT' || error.code === 'EACCES'
              ? new LxcUnavailableError(`${label} is not installed on this host`)
              : new LxcCommandError(`${label} could not be started (${error.code ?? 'unknown error'})`),
          ),
        );
      });
      child.on('close', (code, signal) => {
        settle(() =>
          resolvePromise({
            code: code ?? (signal === null ? 1 : 128),
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          }),
        );
      });
      child.stdin.end(stdin ?? '');
    });
  }

  private failUnlessZero(tool: string, result: RunResult): void {
    if (result.code !== 0) throw this.commandFailed(tool, result);
  }

  private commandFailed(tool: string, result: RunResult): LxcError {
    const message = lastMessage(result.stderr);
    return new LxcCommandError(message ? `${tool} failed: ${message}` : `${tool} failed with exit code ${result.code}`);
  }
}

function checkContainerName(name: unknown): asserts name is string {
  if (!isContainerName(name)) {
    throw new LxcInvalidArgumentError(
      'name',
      'name must be 1-63 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    );
  }
}

function checkPortForward(forward: PortForward): void {
  checkContainerName(forward.container);
  if (!isPortForwardRuleName(forward.rule)) {
    throw new LxcInvalidArgumentError('rule', 'rule must be 1-32 letters, digits, dots, dashes or underscores');
  }
  if (forward.protocol !== 'tcp' && forward.protocol !== 'udp') throw new LxcInvalidArgumentError('protocol', 'protocol must be tcp or udp');
  if (!isPort(forward.hostPort)) throw new LxcInvalidArgumentError('host_port', 'host_port must be a port number');
  if (!isIPv4Address(forward.containerAddress)) {
    throw new LxcInvalidArgumentError('container_address', 'container_address must be an IPv4 address');
  }
  if (!isPort(forward.containerPort)) throw new LxcInvalidArgumentError('container_port', 'container_port must be a port number');
}

function templateArguments(source: ContainerSource): string[] {
  switch (source.kind) {
    case 'template':
      if (!isTemplateName(source.template)) throw new LxcInvalidArgumentError('image', 'template must be a template name such as busybox');
      return ['-t', source.template];
    case 'image':
      if (!isTemplateName(source.distro) || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,31}$/.test(source.release) || !isArch(source.arch)) {
        throw new LxcInvalidArgumentError('image', 'image must be distro:release, such as debian:bookworm');
      }
      return ['-t', 'download', '--', '-d', source.distro, '-r', source.release, '-a', source.arch];
  }
}

function describeSource(source: ContainerSource): string {
  return source.kind === 'template' ? source.template : `download (${source.distro}:${source.release})`;
}

function conflictReason(message: string): 'port_in_use' | 'rule_exists' | 'not_running' | 'conflict' {
  if (/already forwarded/.test(message)) return 'port_in_use';
  if (/already has a port forward/.test(message)) return 'rule_exists';
  if (/is not running/.test(message)) return 'not_running';
  return 'conflict';
}

/**
 * The last meaningful stderr line, without LXC's source-location prefix
 * (`lxc-start: c1: ../src/lxc/tools/lxc_start.c: main: 266 `) or the scripts' `opsdeck: `, printable and bounded.
 */
export function lastMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) =>
      line
        .replace(/^lxc-[a-z-]+: [^:]*: \S+: \S+: \d+ /, '')
        .replace(/^opsdeck: /, '')
        .replace(/[^\x20-\x7e]/g, '')
        .trim(),
    )
    // lxc-start ends a failure with hints about foreground mode and log files; the line before says what failed.
    .filter((line) => line !== '' && !/^\^+$/.test(line) && !/^(To get more details|Additional information can be obtained)/.test(line));
  const last = lines.find((line) => /^Error: /.test(line)) ?? lines[lines.length - 1] ?? '';
  return last.length > 300 ? `${last.slice(0, 297)}...` : last;
}

/** <repo>/scripts/lxc-tools, from src/lxc (ts-jest) or dist/src/lxc (build). */
function defaultScriptsDir(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth += 1) {
    const candidate = join(directory, 'scripts', 'lxc-tools');
    if (existsSync(candidate)) return candidate;
    directory = dirname(directory);
  }
  return resolve('scripts', 'lxc-tools');
}

async function subdirectories(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory() && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}
