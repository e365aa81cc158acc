import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Global, Module, type Type } from '@nestjs/common';
import { LXC_HOST_OPTIONS, type LxcHostOptions } from '../../src/lxc/lxc-host.js';
import { fakeLxc, type FakeLxc } from './fake-lxc.js';

const run = promisify(execFile);
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCRIPTS_DIR = join(REPO_ROOT, 'scripts', 'lxc-tools');

/** Where the integration suite runs its containers: the host's real LXC, or the fake tool set. */
export interface LxcTarget {
  readonly kind: 'real' | 'fake';
  /** Why the real host could not be used (kind 'fake'). */
  readonly reason: string | null;
  /** LXC_PATH for the app and the tools. */
  readonly lxcPath: string;
  /** Environment for the app: LXC_PATH, LXC_BRIDGE, and LXC_TOOLS_PATH for the fake. */
  readonly env: Record<string, string>;
  /** The bridge's own address (the host side of 10.0.3.0/24). */
  readonly bridgeAddress: string;
  readonly fake: FakeLxc | null;
  /** Runs an lxc-* or nft tool as LxcHost would (the fake's first on PATH); never throws, bounded in time. */
  tool(name: string, args: readonly string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  cleanup(): void;
}

export const BRIDGE = 'lxcbr0';
export const BRIDGE_ADDRESS = '10.0.3.1';

/**
 * Decides where the suite runs. LXC_INTEGRATION=fake forces the fake tool set, =real refuses to fall back;
 * otherwise real LXC when this is root with lxc-*, nft, the busybox and sshd templates and the bridge (made
 * here when missing), and the fake tool set with a loud message when not.
 */
export async function chooseLxcTarget(mode = process.env.LXC_INTEGRATION ?? 'auto'): Promise<LxcTarget> {
  const reason = mode === 'fake' ? 'LXC_INTEGRATION=fake' : await realLxcUnavailable();
  if (reason === null) return realTarget();
  if (mode === 'real') throw new Error(`LXC_INTEGRATION=real but real LXC cannot run here: ${reason}`);
  const bar = '!'.repeat(100);
  process.stderr.write(
    `\n${bar}\n!!! REAL LXC IS NOT AVAILABLE (${reason}).\n` +
      '!!! The LXC integration suite runs the same flow on the FAKE lxc-*/nft tool set: no container is created,\n' +
      '!!! no SSH login and no forwarded traffic is tried. Run as root with lxc, nftables, busybox-static and\n' +
      `!!! openssh-server installed and the ${BRIDGE} bridge (${BRIDGE_ADDRESS}/24) to test the real thing.\n${bar}\n\n`,
  );
  return fakeTarget(reason);
}

async function realLxcUnavailable(): Promise<string | null> {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const tool of ['lxc-create', 'lxc-start', 'lxc-attach', 'nft', 'ip', 'ssh-keygen']) {
    if (!onPath(tool)) return `${tool} is not installed`;
  }
  for (const template of ['busybox', 'sshd']) {
    if (!existsSync(`/usr/share/lxc/templates/lxc-${template}`)) return `the LXC ${template} template is missing`;
  }
  if (!existsSync('/bin/busybox') && !existsSync('/usr/bin/busybox')) return 'busybox is not installed';
  if (!existsSync('/usr/sbin/sshd')) return 'openssh-server (sshd) is not installed';
  const nft = await tryRun('nft', ['list', 'tables']);
  if (nft.code !== 0) return `nft cannot read the ruleset (${nft.stderr.trim() || `exit ${nft.code}`})`;
  return ensureBridge();
}

/** Makes lxcbr0 with 10.0.3.1/24 when it is missing; null when it is there and up, else why not. */
async function ensureBridge(): Promise<string | null> {
  if ((await tryRun('ip', ['link', 'show', BRIDGE])).code !== 0) {
    const added = await tryRun('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    if (added.code !== 0) return `the ${BRIDGE} bridge cannot be made (${added.stderr.trim()})`;
  }
  const addresses = await tryRun('ip', ['-4', '-o', 'addr', 'show', 'dev', BRIDGE]);
  if (!addresses.stdout.includes(`${BRIDGE_ADDRESS}/24`)) {
    const added = await tryRun('ip', ['addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE]);
    if (added.code !== 0) return `${BRIDGE_ADDRESS}/24 cannot be put on ${BRIDGE} (${added.stderr.trim()})`;
  }
  const up = await tryRun('ip', ['link', 'set', BRIDGE, 'up']);
  return up.code === 0 ? null : `${BRIDGE} cannot be brought up (${up.stderr.trim()})`;
}

function realTarget(): LxcTarget {
  const lxcPath = '/var/lib/lxc';
  return {
    kind: 'real',
    reason: null,
    lxcPath,
    env: { LXC_PATH: lxcPath, LXC_BRIDGE: BRIDGE },
    bridgeAddress: BRIDGE_ADDRESS,
    fake: null,
    tool: (name, args, timeoutMs) => tryRun(name, args, { LXC_PATH: lxcPath }, timeoutMs),
    cleanup: () => undefined,
  };
}

function fakeTarget(reason: string): LxcTarget {
  const fake = fakeLxc();
  return {
    kind: 'fake',
    reason,
    lxcPath: fake.lxcPath,
    env: { LXC_PATH: fake.lxcPath, LXC_BRIDGE: BRIDGE, LXC_TOOLS_PATH: fake.toolsPath },
    bridgeAddress: BRIDGE_ADDRESS,
    fake,
    tool: (name, args, timeoutMs) =>
      tryRun(name, args, { LXC_PATH: fake.lxcPath, PATH: `${fake.toolsPath}:${SYSTEM_PATH}` }, timeoutMs),
    cleanup: () => fake.cleanup(),
  };
}

/** A @Global() module giving LxcHost its host paths (the fake's templates and interfaces), for extraModules. */
export function lxcHostOptionsModule(options: LxcHostOptions): Type<unknown> {
  @Global()
  @Module({ providers: [{ provide: LXC_HOST_OPTIONS, useValue: options }], exports: [LXC_HOST_OPTIONS] })
  class LxcHostOptionsModule {}
  return LxcHostOptionsModule;
}

/** The nft rules of OpsDeck's table as text ('' when the table does not exist). */
export async function opsdeckNftRules(target: LxcTarget): Promise<string> {
  const listing = await target.tool('nft', ['-a', 'list', 'table', 'ip', 'opsdeck']);
  return listing.code === 0 ? listing.stdout : '';
}

/**
 * Stops (killing) and destroys every container whose name starts with `prefix` and removes their port forwards,
 * through the tools and scripts directly so it works even when the app never started. Returns the names removed.
 */
export async function removeContainers(target: LxcTarget, prefix: string): Promise<string[]> {
  const listing = await target.tool('lxc-ls', ['-P', target.lxcPath, '-1']);
  const names = listing.stdout
    .split(/\s+/)
    .filter((name) => name.startsWith(prefix) && /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(name));
  for (const name of names) {
    await target.tool('lxc-stop', ['-P', target.lxcPath, '-n', name, '-k'], 30_000);
    await target.tool('lxc-destroy', ['-P', target.lxcPath, '-n', name], 60_000);
  }
  // Forwards can outlive their container (a failed delete); their comments name the container.
  const rules = await opsdeckNftRules(target);
  const owners = new Set([...rules.matchAll(/comment "opsdeck:([^:"]+):/g)].map((match) => match[1]).filter((name) => name.startsWith(prefix)));
  for (const owner of owners) {
    await target.tool(join(SCRIPTS_DIR, 'port-forward.sh'), ['remove-all', owner], 30_000);
  }
  return names;
}

function onPath(tool: string): boolean {
  return SYSTEM_PATH.split(':').some((directory) => existsSync(join(directory, tool)));
}

async function tryRun(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, [...args], {
      env: { PATH: SYSTEM_PATH, LANG: 'C', LC_ALL: 'C', ...env },
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 4 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 127,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr || failed.message,
    };
  }
}
