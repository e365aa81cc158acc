#!/usr/bin/env node
// OpsDeck containers benchmark on the host's real LXC (root, lxc, the busybox template, the lxcbr0 bridge):
//   (a) the API's overhead over the raw CLI for create + start of a busybox container, in the same run:
//       N rounds alternating `lxc-create -t busybox` + `lxc-start` against POST /api/v1/containers
//       {template: busybox, start: true} + GET /api/v1/operations/{id}/wait until it ends; p50 of each and the ratio;
//   (b) container_update delivery latency to C connected Socket.IO dashboards (all joined to `containers`), from
//       the event's own timestamp (set by the server as it publishes) to each client's receipt, over the events of
//       a bounded number of start/stop operations on one container; p50/p95/p99/max and missing events;
//   (c) the server's peak RSS in each part (VmRSS every 250 ms).
// Plain Node ESM; it builds nothing (`npm run build` first).
//
//   npm run build && node bench/lxc.bench.js [--rounds 5] [--clients 200] [--cycles 10] [--external] [--no-write]
//
// Every container is named odbench-<random>-*; each is stopped and destroyed after its round, and any left over
// (a failure, Ctrl-C) is removed before the bench exits. Every loop is bounded in count and time (30 s to ready,
// 120 s per operation, 15 s per socket connection batch). Traffic: loopback (HTTP, Socket.IO) and lxc-* only.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { io } from 'socket.io-client';
import {
  api,
  cleanup,
  createExternalDatabase,
  dropDatabaseSync,
  fmt,
  freePort,
  installCleanupHandlers,
  integerInRange,
  loadAverage,
  loadKnownVariables,
  log,
  machine,
  machineLine,
  MAIN,
  makeTempDir,
  mb,
  opsdeckEnv,
  readProcStatus,
  requestOnce,
  ROOT,
  round,
  rssSampler,
  runMain,
  sourceState,
  spawnNode,
  stopProcess,
  waitUntilHealthy,
  writeResults,
} from './lib.js';

const run = promisify(execFile);
installCleanupHandlers();

const LXC_PATH = '/var/lib/lxc';
const BRIDGE = 'lxcbr0';
const PREFIX = `odbench-${randomBytes(3).toString('hex')}`;
const ADMIN = { email: 'bench-admin@opsdeck.bench', password: `bench-admin-${randomBytes(12).toString('hex')}` };
const LIMITS = { RATE_LIMIT_PER_MINUTE: '1000000', LOGIN_RATE_LIMIT_PER_MINUTE: '10000' };
const OPERATION_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 15_000;
const DELIVERY_GRACE_MS = 2_000;
const TOOL_TIMEOUT_MS = 120_000;
const TOOL_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' };
const USAGE = 'usage: node bench/lxc.bench.js [--rounds N] [--clients C] [--cycles K] [--external] [--no-write]';

function parseOptions(argv) {
  const options = { rounds: 5, clients: 200, cycles: 10, external: false, write: true };
  const limits = { rounds: [1, 20], clients: [1, 1000], cycles: [1, 50] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (arg === '--external') options.external = true;
    else if (arg === '--no-write') options.write = false;
    else {
      const match = /^--(rounds|clients|cycles)(?:=(.*))?$/.exec(arg);
      if (!match) throw new Error(`unknown argument: ${arg} (${USAGE})`);
      const [min, max] = limits[match[1]];
      options[match[1]] = integerInRange(`--${match[1]}`, match[2] ?? argv[++i], min, max);
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------------- LXC

async function tool(file, args) {
  const started = performance.now();
  try {
    await run(file, args, { env: { ...TOOL_ENV, LXC_PATH }, timeout: TOOL_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 });
    return performance.now() - started;
  } catch (error) {
    throw new Error(`${file} ${args.join(' ')} failed: ${(error.stderr || error.message).trim().split('\n').pop()}`);
  }
}

async function requireRealLxc() {
  if (process.getuid?.() !== 0) throw new Error('this benchmark needs root and real LXC (run it as root)');
  for (const file of ['/usr/bin/lxc-create', '/usr/share/lxc/templates/lxc-busybox']) {
    if (!existsSync(file)) throw new Error(`${file} is missing: apt-get install lxc busybox-static`);
  }
  try {
    await run('ip', ['link', 'show', BRIDGE], { env: TOOL_ENV, timeout: 5_000 });
  } catch {
    throw new Error(`the ${BRIDGE} bridge is missing (see docs/lxc-host.md)`);
  }
}

/** Stops and destroys every container of this run (best effort, bounded). */
async function removeBenchContainers() {
  let names = [];
  try {
    const { stdout } = await run('lxc-ls', ['-P', LXC_PATH, '-1'], { env: TOOL_ENV, timeout: 15_000 });
    names = stdout.split(/\s+/).filter((name) => name.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    await tool('lxc-stop', ['-P', LXC_PATH, '-n', name, '-k']).catch(() => undefined);
    await tool('lxc-destroy', ['-P', LXC_PATH, '-n', name]).catch((error) => process.stderr.write(`warning: ${error.message}\n`));
  }
}

/** The last resort on exit (Ctrl-C included): kill and destroy what is left, synchronously and bounded. */
function removeBenchContainersSync() {
  let names = [];
  try {
    names = execFileSync('lxc-ls', ['-P', LXC_PATH, '-1'], { env: TOOL_ENV, timeout: 15_000, encoding: 'utf8' })
      .split(/\s+/)
      .filter((name) => name.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    for (const [file, args] of [
      ['lxc-stop', ['-P', LXC_PATH, '-n', name, '-k']],
      ['lxc-destroy', ['-P', LXC_PATH, '-n', name]],
    ]) {
      try {
        execFileSync(file, args, { env: { ...TOOL_ENV, LXC_PATH }, timeout: 30_000, stdio: 'ignore' });
      } catch {
        // best effort
      }
    }
  }
}
process.on('exit', removeBenchContainersSync);

/** An address in 10.0.3.2-99 that no container uses (the integration suite takes 100-249). */
async function freeAddress() {
  const { stdout } = await run('lxc-ls', ['-P', LXC_PATH, '-f', '-F', 'name,ipv4'], { env: TOOL_ENV, timeout: 15_000 });
  for (let attempt = 0; attempt < 100; attempt++) {
    const address = `10.0.3.${2 + Math.floor(Math.random() * 98)}`;
    if (!new RegExp(`\\b${address.replace(/\./g, '\\.')}\\b`).test(stdout)) return address;
  }
  throw new Error('no free address in 10.0.3.2-99');
}

// ---------------------------------------------------------------------------------------------- API

async function call(port, token, method, urlPath, json) {
  const response = await api(port, method, `/api/v1${urlPath}`, { token, json, timeoutMs: 70_000 });
  return { status: response.status, body: response.json, error: response.error };
}

async function login(port) {
  const response = await requestOnce(port, { method: 'POST', path: '/api/v1/auth/login', json: ADMIN });
  if (response.status !== 200) throw new Error(`login failed: HTTP ${response.status} ${response.body ?? response.error}`);
  return JSON.parse(response.body).data.access_token;
}

/** Submits an operation and waits (bounded) until it ends; throws unless it succeeded. */
async function operation(port, token, method, urlPath, json) {
  const accepted = await call(port, token, method, urlPath, json);
  if (accepted.status !== 202) throw new Error(`${method} ${urlPath}: HTTP ${accepted.status} ${JSON.stringify(accepted.body ?? accepted.error)}`);
  const id = accepted.body.data.id;
  const deadline = Date.now() + OPERATION_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const waited = await call(port, token, 'GET', `/operations/${id}/wait?timeout=60`);
    if (waited.status !== 200) throw new Error(`wait for ${id}: HTTP ${waited.status}`);
    const { status, error } = waited.body.data;
    if (status === 'succeeded') return waited.body.data;
    if (['failed', 'cancelled', 'interrupted'].includes(status)) throw new Error(`${method} ${urlPath} ${status}: ${JSON.stringify(error)}`);
  }
  throw new Error(`${method} ${urlPath} did not end within ${OPERATION_TIMEOUT_MS} ms`);
}

// ---------------------------------------------------------------------------------------------- RSS

// ---------------------------------------------------------------------------------------------- (a)

async function createStartOverhead(port, token, rounds) {
  const raw = [];
  const viaApi = [];
  for (let r = 1; r <= rounds; r++) {
    const order = r % 2 === 1 ? ['raw', 'api'] : ['api', 'raw'];
    for (const kind of order) {
      const name = `${PREFIX}-${kind}${r}`;
      const started = performance.now();
      if (kind === 'raw') {
        await tool('lxc-create', ['-P', LXC_PATH, '-n', name, '-t', 'busybox']);
        await tool('lxc-start', ['-P', LXC_PATH, '-n', name]);
      } else {
        await operation(port, token, 'POST', '/containers', { name, template: 'busybox', start: true });
      }
      const ms = round(performance.now() - started, 1);
      (kind === 'raw' ? raw : viaApi).push(ms);
      log(`  round ${r} ${kind === 'raw' ? 'raw CLI' : 'API    '}: ${ms} ms`);
      await tool('lxc-stop', ['-P', LXC_PATH, '-n', name, '-k']);
      await tool('lxc-destroy', ['-P', LXC_PATH, '-n', name]);
    }
  }
  const rawP50 = median(raw);
  const apiP50 = median(viaApi);
  return { rounds, raw_ms: raw, api_ms: viaApi, raw_p50_ms: rawP50, api_p50_ms: apiP50, ratio: round(apiP50 / rawP50, 3), target_ratio: 1.3 };
}

// ---------------------------------------------------------------------------------------------- (b)

async function connectDashboards(port, token, count) {
  const sockets = [];
  const url = `http://127.0.0.1:${port}`;
  const batch = 50; // connect in batches so the handshakes do not all queue at once
  for (let i = 0; i < count; i += batch) {
    const size = Math.min(batch, count - i);
    const connected = await Promise.all(
      Array.from({ length: size }, () =>
        new Promise((resolve, reject) => {
          const socket = io(url, { path: '/socket.io', auth: { token }, transports: ['websocket'], reconnection: false, timeout: CONNECT_TIMEOUT_MS });
          sockets.push(socket);
          const timer = setTimeout(() => reject(new Error('Socket.IO connection timed out')), CONNECT_TIMEOUT_MS);
          socket.once('connect_error', (error) => {
            clearTimeout(timer);
            reject(error);
          });
          socket.once('connected', () => {
            socket
              .timeout(CONNECT_TIMEOUT_MS)
              .emitWithAck('join_room', { room: 'containers' })
              .then((ack) => {
                clearTimeout(timer);
                if (ack?.ok) resolve(socket);
                else reject(new Error(`join_room refused: ${JSON.stringify(ack)}`));
              }, reject);
          });
        }),
      ),
    );
    if (connected.length !== size) throw new Error('not every dashboard connected');
  }
  return sockets;
}

async function deliveryLatency(proc, port, token, { clients, cycles }) {
  const name = `${PREFIX}-events`;
  log(`  connecting ${clients} dashboards`);
  const connectStarted = performance.now();
  const sockets = await connectDashboards(port, token, clients);
  const connectMs = round(performance.now() - connectStarted, 0);
  const afterConnect = readProcStatus(proc.pid);
  const latencies = [];
  const received = new Map(); // event key -> count of clients that got it
  for (const socket of sockets) {
    socket.on('container_update', (event) => {
      const now = Date.now();
      if (event.container !== name) return;
      latencies.push(now - Date.parse(event.timestamp));
      const key = `${event.operation_id}:${event.type}`;
      received.set(key, (received.get(key) ?? 0) + 1);
    });
  }
  const sampler = rssSampler({ server: proc });
  const operations = [];
  try {
    // A static address: without one busybox's rcS waits for a DHCP answer the bridge never gives, and its init
    // takes the halt signal only after that, so every stop would run into lxc-stop's timeout.
    const ipv4 = `${await freeAddress()}/24`;
    operations.push(await operation(port, token, 'POST', '/containers', { name, template: 'busybox', ipv4, start: false }));
    for (let cycle = 0; cycle < cycles; cycle++) {
      operations.push(await operation(port, token, 'POST', `/containers/${name}/start`));
      operations.push(await operation(port, token, 'POST', `/containers/${name}/stop`));
    }
    operations.push(await operation(port, token, 'DELETE', `/containers/${name}`));
    await sleep(DELIVERY_GRACE_MS);
  } finally {
    for (const socket of sockets) socket.close();
  }
  const peakRss = sampler.stop().peak_rss_mb.server;
  const events = operations.length * 2;
  const expected = events * clients;
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : null);
  return {
    clients,
    operations: operations.length,
    events,
    deliveries_expected: expected,
    deliveries_received: latencies.length,
    missing: expected - latencies.length,
    connect_all_ms: connectMs,
    rss_after_connect_mb: mb(afterConnect?.rss_kb),
    latency_ms: { p50: pct(50), p95: pct(95), p99: pct(99), max: sorted.at(-1) ?? null, resolution: 'ms (ISO timestamp)' },
    target_p99_ms: 50,
    peak_rss_mb: peakRss,
  };
}

// ---------------------------------------------------------------------------------------------- main

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return round(sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, 1);
}

function markdown(results) {
  const a = results.create_start;
  const b = results.delivery;
  return [
    '| Measure | Value | Target |',
    '|---|---|---|',
    `| raw \`lxc-create -t busybox\` + \`lxc-start\`, p50 of ${a.rounds} | ${fmt(a.raw_p50_ms, ' ms')} | — |`,
    `| POST /containers {template: busybox, start: true} + wait, p50 of ${a.rounds} | ${fmt(a.api_p50_ms, ' ms')} | — |`,
    `| API / raw CLI | **${fmt(a.ratio)}** | ≤ ${a.target_ratio} |`,
    `| container_update delivery to ${b.clients} dashboards, p50 / p95 / p99 / max (${b.deliveries_received} of ${b.deliveries_expected} deliveries) | ${fmt(b.latency_ms.p50)} / ${fmt(b.latency_ms.p95)} / **${fmt(b.latency_ms.p99)}** / ${fmt(b.latency_ms.max)} ms | p99 ≤ ${b.target_p99_ms} ms |`,
    `| server peak RSS: create/start rounds, events with ${b.clients} dashboards | ${fmt(results.peak_rss_mb.create_start, ' MB')}, ${fmt(b.peak_rss_mb, ' MB')} | — |`,
  ].join('\n');
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(MAIN)) throw new Error(`${path.relative(ROOT, MAIN)} is missing: run npm run build first`);
  await requireRealLxc();
  const info = machine();
  const loadBefore = loadAverage();
  const command = `node bench/lxc.bench.js ${process.argv.slice(2).join(' ')}`.trim();
  log(machineLine(info));
  log(`load average (1 min) before: ${loadBefore.one}${loadBefore.one > info.cpu_count / 2 ? '  WARNING: the machine is busy; figures will be skewed' : ''}`);
  const results = {
    benchmark: 'opsdeck-lxc',
    started_at: new Date().toISOString(),
    command,
    options,
    machine: info,
    source: sourceState(),
    load_average: { before: loadBefore, after: null },
    container_prefix: PREFIX,
  };

  let databaseName = null;
  let databaseUrl = null;
  if (options.external) {
    ({ name: databaseName, url: databaseUrl } = createExternalDatabase('opsdeck_bench_lxc'));
    log(`created database ${databaseName}`);
  }
  results.database = databaseUrl ? 'external PostgreSQL' : 'embedded PGlite';
  const port = await freePort();
  const env = opsdeckEnv({
    port,
    dataDir: makeTempDir('opsdeck-bench-lxc-'),
    databaseUrl,
    knownVariables: await loadKnownVariables(),
    jwtSecret: randomBytes(32).toString('hex'),
    extra: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, LXC_PATH, LXC_BRIDGE: BRIDGE, ...LIMITS },
  });
  const proc = spawnNode('opsdeck', MAIN, env);
  try {
    const ready = await waitUntilHealthy(proc, port);
    log(`server ready after ${ready.ready_ms} ms (${results.database})`);
    const token = await login(port);

    log(`(a) create + start of a busybox container, ${options.rounds} rounds alternating raw CLI and API`);
    const sampler = rssSampler({ server: proc });
    results.create_start = await createStartOverhead(port, token, options.rounds);
    results.peak_rss_mb = { create_start: sampler.stop().peak_rss_mb.server };

    log(`(b) container_update delivery to ${options.clients} dashboards over ${options.cycles} start/stop cycles`);
    results.delivery = await deliveryLatency(proc, port, token, options);
    results.peak_rss_mb.delivery = results.delivery.peak_rss_mb;
    results.server_hwm_mb = mb(readProcStatus(proc.pid)?.hwm_kb);
    results.stopped = await stopProcess(proc);
  } finally {
    await removeBenchContainers();
    await cleanup();
    if (databaseName) dropDatabaseSync(databaseName);
  }

  results.finished_at = new Date().toISOString();
  results.load_average.after = loadAverage();
  log('');
  log(machineLine(info));
  log(`load average (1 min): ${loadBefore.one} before, ${results.load_average.after.one} after; ${os.availableParallelism?.() ?? info.cpu_count} CPUs`);
  log(`command: ${command}`);
  log(`database: ${results.database}; server VmHWM ${fmt(results.server_hwm_mb, ' MB')}`);
  log('');
  log(markdown(results));
  if (results.delivery.missing !== 0) log(`\nWARNING: ${results.delivery.missing} deliveries did not arrive`);
  if (options.write) {
    const file = writeResults('lxc', results);
    log('');
    log(`raw results: ${path.relative(ROOT, file)}`);
  }
}

runMain(main);
