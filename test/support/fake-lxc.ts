import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.loader.js';
import type { AppConfig } from '../../src/config/config.schema.js';
import type { LxcHostOptions } from '../../src/lxc/lxc-host.js';

const FAKE_TOOL = join(dirname(fileURLToPath(import.meta.url)), 'fake-lxc', 'fake-lxc-tool');
export const FAKE_LXC_TOOLS = ['lxc-ls', 'lxc-info', 'lxc-create', 'lxc-start', 'lxc-stop', 'lxc-destroy', 'lxc-attach', 'nft'];

export interface FakeLxc {
  /** Directory to use as config.lxc.tools_path (LXC_TOOLS_PATH). */
  readonly toolsPath: string;
  /** The fake's state: calls.log, run/, nft/, faults/. */
  readonly stateDir: string;
  /** config.lxc.path: the fake keeps containers here in LXC's own layout. */
  readonly lxcPath: string;
  /** Host paths for LxcHost (templates, download cache, network interfaces) inside the fake. */
  readonly hostOptions: LxcHostOptions;
  /** The test configuration with the lxc section pointed at the fake; timeouts may be overridden. */
  config(timeouts?: Partial<AppConfig['lxc']['timeouts_ms']>): AppConfig;
  /** Every invocation so far, as [tool, ...args]. */
  calls(): string[][];
  /** faults/<name>: `delay`, `delay-<tool>` (seconds), `fail-<tool>`, `fail-container-<name>` (stderr text). */
  setFault(name: string, content: string): void;
  clearFault(name: string): void;
  /** Mark a container RUNNING or FROZEN (or STOPPED) without going through lxc-start. */
  setState(container: string, state: 'RUNNING' | 'FROZEN' | 'STOPPED', pid?: number): void;
  /** The container's authorized_keys as the fake keeps it, or null. */
  authorizedKeys(container: string, home?: string): string | null;
  cleanup(): void;
}

/** A private copy of the fake LXC/nft tool set (bin/ of symlinks next to its state/), for one test file. */
export function fakeLxc(): FakeLxc {
  const root = mkdtempSync(join(tmpdir(), 'opsdeck-fake-lxc-'));
  const toolsPath = join(root, 'bin');
  const stateDir = join(root, 'state');
  const lxcPath = join(root, 'lxc');
  for (const directory of [toolsPath, join(stateDir, 'faults'), join(stateDir, 'run'), lxcPath]) {
    mkdirSync(directory, { recursive: true });
  }
  for (const tool of FAKE_LXC_TOOLS) symlinkSync(FAKE_TOOL, join(toolsPath, tool));

  const templatesDir = join(root, 'templates');
  mkdirSync(templatesDir);
  for (const template of ['busybox', 'download', 'sshd']) writeFileSync(join(templatesDir, `lxc-${template}`), '#!/bin/sh\n');
  const downloadCacheDir = join(root, 'cache', 'download');
  mkdirSync(join(downloadCacheDir, 'debian', 'bookworm', 'amd64', 'default'), { recursive: true });
  mkdirSync(join(downloadCacheDir, 'alpine', '3.20', 'amd64', 'default'), { recursive: true });
  const netClassDir = join(root, 'net');
  for (const iface of ['lo', 'eth0', 'lxcbr0']) mkdirSync(join(netClassDir, iface), { recursive: true });

  const base = loadConfig({ env: { NODE_ENV: 'test' }, ignoreDotenv: true });
  return {
    toolsPath,
    stateDir,
    lxcPath,
    hostOptions: { templatesDir, downloadCacheDir, netClassDir },
    config: (timeouts = {}) => ({
      ...base,
      lxc: { ...base.lxc, path: lxcPath, tools_path: toolsPath, timeouts_ms: { ...base.lxc.timeouts_ms, ...timeouts } },
    }),
    calls: () => {
      const log = join(stateDir, 'calls.log');
      if (!existsSync(log)) return [];
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\t'));
    },
    setFault: (name, content) => writeFileSync(join(stateDir, 'faults', name), content),
    clearFault: (name) => rmSync(join(stateDir, 'faults', name), { force: true }),
    setState: (container, state, pid = 4242) => {
      const file = join(stateDir, 'run', container);
      if (state === 'STOPPED') {
        if (existsSync(file)) unlinkSync(file);
      } else {
        writeFileSync(file, `${state} ${pid}\n`);
      }
    },
    authorizedKeys: (container, home = '/root') => {
      const file = join(lxcPath, container, 'rootfs', home.replace(/^\//, ''), '.ssh', 'authorized_keys');
      return existsSync(file) ? readFileSync(file, 'utf8') : null;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
