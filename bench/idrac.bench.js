#!/usr/bin/env node
// OpsDeck iDRAC key deployment benchmark (issue 6), through the real API against simulated iDRACs:
//   one key deployed to 500 simulated iDRACs (100 ms added per racadm command) at concurrency 50:
//   POST /api/v1/idrac/servers x 500 (password auth, loopback ports), POST /api/v1/idrac/keys,
//   POST /api/v1/idrac/deployments {key_id, tag, concurrency} -> 202, GET /api/v1/operations/{id}/wait until it
//   ends, GET /api/v1/idrac/deployments/{id}: every server must have succeeded.
// Reported: wall time against the ideal ceil(servers / concurrency) x one server's time, where one server's time
// is measured in the same run by single-server deployments to fresh simulators with the same latency (the
// median of their per-server duration_ms); the ratio; the server's peak RSS; CPU of the server and of the
// simulator process. The simulators run in their own process (the fleet CLI built by tsconfig.simulator.json),
// so the server's RSS and CPU are its own. Results JSON in bench/results/. Plain Node ESM; it builds nothing
// (`npm run bench:idrac` builds first).
//
//   npm run build && npx tsc -p tsconfig.simulator.json && node bench/idrac.bench.js [--servers 500]
//        [--concurrency 50] [--latency-ms 100] [--max-handshakes 4] [--key-type ed25519|rsa] [--reference 5]
//        [--external] [--no-write]
//
// Every wait is bounded (fleet start, 30 s to ready, the deployment's time limit, 15 s to stop); the server, the
// simulator process, the temporary DATA_DIR and the --external database are removed on success, on failure
// and on Ctrl-C. Loopback only.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import {
  api,
  cpuSeconds,
  createExternalDatabase,
  describeExit,
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
  psql,
  readProcStatus,
  ROOT,
  round,
  rssSampler,
  runMain,
  safeJson,
  sourceState,
  spawnNode,
  stopProcess,
  summarize,
  waitUntilHealthy,
  writeResults,
} from './lib.js';

installCleanupHandlers();

const FLEET_CLI = path.join(ROOT, 'dist', 'test', 'support', 'idrac-simulator', 'cli.js');
const BENCH_JWT_SECRET = randomBytes(32).toString('hex');
const ADMIN = { email: 'bench-admin@opsdeck.bench', password: `bench-admin-${randomBytes(12).toString('hex')}` };
const SIM_PASSWORD = `calvin-${randomBytes(8).toString('hex')}`;
const LIMITS = { RATE_LIMIT_PER_MINUTE: '1000000', LOGIN_RATE_LIMIT_PER_MINUTE: '10000' };
const TARGETS = { ratio_max: 1.3, peak_rss_mb_max: 400 };
const FLEET_START_TIMEOUT_MS = 120_000;
const REGISTER_PARALLEL = 8;
const RSS_SAMPLE_MS = 100;
const WAIT_SECONDS = 30; // per GET /operations/{id}/wait; the server caps it at operations.max_wait_seconds (60)
const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);
const TAG = 'bench-fleet';

// ---------------------------------------------------------------------------------------------- options

const USAGE = `usage: node bench/idrac.bench.js [--servers N] [--concurrency C] [--latency-ms MS] [--max-handshakes H]
       [--key-type ed25519|rsa] [--reference N] [--timeout S] [--cpu-prof DIR] [--external] [--no-write]
  --servers N       simulated iDRACs in the deployment (1-2000, default 500)
  --concurrency C   the deployment's concurrency; IDRAC_MAX_CONCURRENCY is set to the same (1-200, default 50)
  --latency-ms MS   added by the simulators before each racadm answer (0-5000, default 100)
  --max-handshakes H  SSH logins in their key exchange at once, for OpsDeck (IDRAC_MAX_HANDSHAKES) and the bare
                    client alike (0-1000, 0 = no limit, default 4 as in config/default.json)
  --key-type T      the deployed key: ed25519 (default) or rsa (4096 bits)
  --reference N     single-server deployments that measure one server's time (1-20, default 5)
  --timeout S       limit for the whole deployment, seconds (10-3600, default 600)
  --cpu-prof DIR    write a V8 CPU profile of the measured server (start-up, set-up and deployment) into DIR
  --no-bare         skip the bare-client comparison (OpsDeck's SSH client and racadm code alone, in this process)
  --external        a fresh database on postgresql://postgres@127.0.0.1:5432 instead of embedded PGlite
  --no-write        do not write bench/results/idrac-<ISO time>.json`;

function parseOptions(argv) {
  const options = { servers: 500, concurrency: 50, latencyMs: 100, maxHandshakes: 4, keyType: 'ed25519', reference: 5, timeout: 600, cpuProf: null, bare: true, external: false, write: true };
  const limits = { servers: [1, 2000], concurrency: [1, 200], 'latency-ms': [0, 5000], 'max-handshakes': [0, 1000], reference: [1, 20], timeout: [10, 3600] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (arg === '--external') {
      options.external = true;
      continue;
    }
    if (arg === '--no-write') {
      options.write = false;
      continue;
    }
    if (arg === '--no-bare') {
      options.bare = false;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument: ${arg}\n${USAGE}`);
    const name = match[1];
    const raw = match[2] ?? argv[++i];
    if (name === 'key-type') {
      if (raw !== 'ed25519' && raw !== 'rsa') throw new Error('--key-type is ed25519 or rsa');
      options.keyType = raw;
      continue;
    }
    if (name === 'cpu-prof') {
      if (!raw) throw new Error('--cpu-prof needs a directory');
      options.cpuProf = path.resolve(raw);
      continue;
    }
    if (!limits[name]) throw new Error(`unknown argument: ${arg}\n${USAGE}`);
    options[name.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = integerInRange(`--${name}`, raw, ...limits[name]);
  }
  if (options.servers + options.reference > 2000) throw new Error('--servers + --reference must be at most 2000 (the fleet limit)');
  return options;
}

// ---------------------------------------------------------------------------------------------- helpers

/** Starts the simulator fleet in its own process and reads the endpoints it prints (one JSON line). */
async function startFleet({ count, latencyMs, timeoutS }) {
  const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production' };
  const args = ['--count', String(count), '--latency-ms', String(latencyMs), '--password', SIM_PASSWORD, '--json', '--duration', String(timeoutS)];
  const proc = spawnNode('idrac simulator fleet', FLEET_CLI, env, { args });
  let stdout = '';
  const line = new Promise((resolve) => {
    proc.child.stdout.on('data', (chunk) => {
      if (stdout.includes('\n')) return;
      stdout += chunk.toString('utf8');
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
  });
  const first = await Promise.race([line, proc.exited.then(() => null), sleep(FLEET_START_TIMEOUT_MS, 'timeout')]);
  if (first === null) throw new Error(describeExit(proc));
  if (first === 'timeout') throw new Error(`the simulator fleet did not print its endpoints within ${FLEET_START_TIMEOUT_MS} ms`);
  const parsed = safeJson(first);
  if (!parsed?.endpoints || parsed.endpoints.length !== count) throw new Error(`unexpected fleet output: ${first.slice(0, 300)}`);
  return { proc, username: parsed.username, endpoints: parsed.endpoints, ready_ms: round(performance.now() - proc.spawnedAt) };
}

/** Deploys the key, waits for the operation to end (bounded) and returns the deployment with timings. */
async function deployAndWait({ port, token, body, timeoutS }) {
  const started = performance.now();
  const deadline = started + timeoutS * 1000;
  const accepted = await api(port, 'POST', '/api/v1/idrac/deployments', { token, json: body, expect: 202 });
  const operationId = accepted.json.data.id;
  let operation = accepted.json.data;
  const maxPolls = Math.ceil(timeoutS / 1) + 2;
  for (let poll = 0; poll < maxPolls && !FINISHED.has(operation.status); poll++) {
    const remaining = Math.floor((deadline - performance.now()) / 1000);
    if (remaining < 0) break;
    const waited = await api(port, 'GET', `/api/v1/operations/${operationId}/wait?timeout=${Math.min(WAIT_SECONDS, Math.max(remaining, 0))}`, {
      token,
      expect: 200,
      timeoutMs: (WAIT_SECONDS + 10) * 1000,
    });
    operation = waited.json.data;
  }
  const wallMs = round(performance.now() - started, 1);
  if (!FINISHED.has(operation.status)) throw new Error(`operation ${operationId} still ${operation.status} after ${timeoutS} s`);
  const deployment = await api(port, 'GET', `/api/v1/idrac/deployments/${operation.resource.id}`, { token, expect: 200, timeoutMs: 60_000 });
  const serverSideMs =
    operation.started_at && operation.finished_at ? Date.parse(operation.finished_at) - Date.parse(operation.started_at) : null;
  return { operation, deployment: deployment.json.data, wall_ms: wallMs, accept_ms: accepted.ms, operation_run_ms: serverSideMs };
}

async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function failures(deployment) {
  const byReason = {};
  for (const server of deployment.servers) {
    if (server.outcome === 'succeeded') continue;
    const key = `${server.outcome}:${server.reason ?? ''}`;
    byReason[key] = (byReason[key] ?? 0) + 1;
  }
  return byReason;
}

function percentiles(values) {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : null);
  return { n: sorted.length, min: sorted[0] ?? null, p50: at(50), p90: at(90), p99: at(99), max: sorted.at(-1) ?? null };
}

/**
 * The floor on this machine: the same per-server work (connect with password, pin on first contact, view + add +
 * view) with OpsDeck's own built SSH client and racadm code, in this process, with no HTTP, database, operations
 * or events; the same fleet, concurrency and latency. It deploys a second key (the next free slot), so the
 * simulators run the same three commands. One server's time is measured the same way, on the reference ones.
 */
async function bareClient({ fleet, servers, reference, concurrency, maxHandshakes }) {
  const dist = (file) => import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'idrac', file)).href);
  const { IdracSshClient } = await dist('ssh/idrac-ssh-client.js');
  const { HandshakeGate } = await dist('ssh/handshake-gate.js');
  const { RacadmClient } = await dist('racadm.js');
  const { generateSshKeyPair, parsePublicKey } = await dist('ssh-key-material.js');
  const client = new IdracSshClient({ connectTimeoutMs: 10_000, commandTimeoutMs: 30_000 }, new HandshakeGate(maxHandshakes));
  const publicKey = parsePublicKey((await generateSshKeyPair({ type: 'ed25519', comment: 'opsdeck-bench-bare' })).publicKey);
  const one = async (endpoint) => {
    const started = performance.now();
    const session = await client.connect({ host: endpoint.host, port: endpoint.port, username: fleet.username, credential: { kind: 'password', password: SIM_PASSWORD }, expectedHostKey: null });
    const connectMs = performance.now() - started;
    try {
      const deployed = await new RacadmClient(session, 2).deployKey(publicKey, 'auto');
      if (deployed.outcome !== 'succeeded') throw new Error(`bare client: ${endpoint.port} ${deployed.outcome}`);
    } finally {
      session.close();
    }
    return { connect_ms: round(connectMs, 1), duration_ms: round(performance.now() - started, 1) };
  };
  const references = [];
  for (let r = 0; r < reference; r++) references.push(await one(fleet.endpoints[servers + r]));
  const oneServer = summarize(references.map((r) => r.duration_ms));
  const cpuBefore = process.cpuUsage();
  const cpuFleetBefore = cpuSeconds(fleet.proc.pid);
  const started = performance.now();
  const durations = [];
  const connects = [];
  let next = 0;
  const worker = async () => {
    for (let guard = 0; guard < servers && next < servers; guard++) {
      const result = await one(fleet.endpoints[next++]);
      durations.push(result.duration_ms);
      connects.push(result.connect_ms);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = round(performance.now() - started, 1);
  const cpu = process.cpuUsage(cpuBefore);
  const idealMs = round(Math.ceil(servers / concurrency) * oneServer.median, 1);
  return {
    what: "OpsDeck's IdracSshClient + RacadmClient.deployKey in the bench process: no HTTP, database, operations or events",
    one_server_ms: oneServer,
    wall_ms: wallMs,
    ideal_ms: idealMs,
    ratio: round(wallMs / idealMs, 3),
    per_server_duration_ms: percentiles(durations),
    connect_ms: percentiles(connects),
    cpu_s: { client: round((cpu.user + cpu.system) / 1e6, 2), simulators: round(cpuSeconds(fleet.proc.pid) - cpuFleetBefore, 2) },
  };
}

// ---------------------------------------------------------------------------------------------- run

async function runBench({ options, databaseUrl, knownVariables }) {
  const fleetSize = options.servers + options.reference;
  log(`starting ${fleetSize} simulated iDRACs in their own process (latency ${options.latencyMs} ms per command)`);
  const fleet = await startFleet({ count: fleetSize, latencyMs: options.latencyMs, timeoutS: options.timeout + 600 });
  log(`  up after ${fleet.ready_ms} ms (pid ${fleet.proc.pid})`);

  const dataDir = makeTempDir('opsdeck-bench-idrac-');
  const env = (port) =>
    opsdeckEnv({
      port,
      dataDir,
      databaseUrl,
      knownVariables,
      jwtSecret: BENCH_JWT_SECRET,
      extra: {
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        SECRETS_MASTER_KEY: randomBytes(32).toString('hex'),
        IDRAC_MAX_CONCURRENCY: String(Math.max(options.concurrency, 50)),
        IDRAC_MAX_HANDSHAKES: String(options.maxHandshakes),
        ...LIMITS,
      },
    });
  // The first start creates the database and runs the migrations (PGlite peaks far above its steady RSS then),
  // so the measured process is a restart on the same data: its VmHWM is the deployment's, not initdb's.
  const port = await freePort();
  const masterEnv = env(port);
  let server = spawnNode('opsdeck first start', MAIN, masterEnv);
  const firstReady = await waitUntilHealthy(server, port);
  log(`OpsDeck first start ready after ${firstReady.ready_ms} ms; restarting on the same data`);
  await stopProcess(server);
  const nodeArgs = options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`] : [];
  server = spawnNode('opsdeck', MAIN, masterEnv, { nodeArgs });
  const ready = await waitUntilHealthy(server, port);
  log(`  ready after ${ready.ready_ms} ms (pid ${server.pid}); RSS ${mb(readProcStatus(server.pid)?.rss_kb)} MB`);

  const login = await api(port, 'POST', '/api/v1/auth/login', { json: ADMIN, expect: 200 });
  const token = login.json.data.access_token;

  // Servers: the fleet under one tag, the reference simulators one each.
  const registerStarted = performance.now();
  const ids = new Array(fleetSize);
  let next = 0;
  const registerOne = async () => {
    for (let guard = 0; guard < fleetSize && next < fleetSize; guard++) {
      const i = next++;
      const endpoint = fleet.endpoints[i];
      const reference = i >= options.servers;
      const created = await api(port, 'POST', '/api/v1/idrac/servers', {
        token,
        json: {
          name: reference ? `bench-reference-${i - options.servers + 1}` : `bench-idrac-${String(i + 1).padStart(4, '0')}`,
          host: endpoint.host,
          port: endpoint.port,
          username: fleet.username,
          password: SIM_PASSWORD,
          tags: [reference ? 'bench-reference' : TAG],
        },
        expect: 201,
      });
      ids[i] = created.json.data.id;
    }
  };
  await Promise.all(Array.from({ length: REGISTER_PARALLEL }, registerOne));
  const registerMs = round(performance.now() - registerStarted);
  log(`registered ${fleetSize} servers in ${registerMs} ms`);

  const key = await api(port, 'POST', '/api/v1/idrac/keys', {
    token,
    json: { name: `bench-${options.keyType}-${process.pid}`, type: options.keyType, comment: 'opsdeck-bench' },
    expect: 201,
    timeoutMs: 60_000,
  });
  const keyId = key.json.data.id;
  log(`key ${options.keyType} generated in ${key.ms} ms (${key.json.data.fingerprint})`);

  // One server's time: single-server deployments to fresh simulators (first contact, host key pinned, view + add +
  // view with the same latency), one after the other on the otherwise idle server.
  const references = [];
  for (let r = 0; r < options.reference; r++) {
    const serverId = ids[options.servers + r];
    const result = await deployAndWait({ port, token, body: { key_id: keyId, server_ids: [serverId] }, timeoutS: 60 });
    const only = result.deployment.servers[0];
    if (only?.outcome !== 'succeeded') throw new Error(`reference deployment ${r + 1} ended ${only?.outcome} (${only?.reason}): ${only?.message}`);
    references.push({ duration_ms: only.duration_ms, wall_ms: result.wall_ms, operation_run_ms: result.operation_run_ms });
    log(`  reference ${r + 1}: server ${only.duration_ms} ms, operation ${result.operation_run_ms} ms, API wall ${result.wall_ms} ms`);
  }
  const oneServer = summarize(references.map((r) => r.duration_ms));
  const oneServerWall = summarize(references.map((r) => r.wall_ms));
  const batches = Math.ceil(options.servers / options.concurrency);
  const idealMs = round(batches * oneServer.median, 1);

  // The deployment.
  const rssBefore = readProcStatus(server.pid);
  const cpuServerBefore = cpuSeconds(server.pid);
  const cpuFleetBefore = cpuSeconds(fleet.proc.pid);
  const loadBefore = loadAverage();
  const sampler = rssSampler({ server, fleet: fleet.proc }, RSS_SAMPLE_MS);
  log(`deploying to ${options.servers} servers (tag ${TAG}) at concurrency ${options.concurrency}; ideal ${batches} x ${oneServer.median} ms = ${idealMs} ms`);
  let run;
  let memory;
  try {
    run = await deployAndWait({ port, token, body: { key_id: keyId, tag: TAG, concurrency: options.concurrency }, timeoutS: options.timeout });
  } finally {
    memory = sampler.stop();
  }
  const cpuServer = cpuSeconds(server.pid) - cpuServerBefore;
  const cpuFleet = cpuSeconds(fleet.proc.pid) - cpuFleetBefore;
  const rssAfter = readProcStatus(server.pid);
  const loadAfter = loadAverage();
  const summary = run.deployment.summary;
  const allSucceeded = summary.total === options.servers && summary.succeeded === options.servers;
  const durations = percentiles(run.deployment.servers.map((s) => s.duration_ms));
  const finishedAt = run.deployment.servers.map((s) => Date.parse(s.finished_at)).filter(Number.isFinite);
  const startedAt = Date.parse(run.operation.started_at);
  const ratio = round(run.wall_ms / idealMs, 3);
  const peakRss = Math.max(memory.peak_rss_mb.server ?? 0, mb(rssAfter?.hwm_kb) ?? 0);
  log(`  ${run.operation.status}: ${JSON.stringify(summary)} in ${run.wall_ms} ms (operation ran ${run.operation_run_ms} ms)`);
  if (!allSucceeded) log(`  NOT all succeeded: ${JSON.stringify(failures(run.deployment))}`);

  const stopped = await stopProcess(server);
  let bare = null;
  if (options.bare) {
    log(`bare client: the same work without OpsDeck around it (${options.servers} servers, concurrency ${options.concurrency})`);
    bare = await withTimeout(bareClient({ fleet, servers: options.servers, reference: options.reference, concurrency: options.concurrency, maxHandshakes: options.maxHandshakes }), options.timeout * 1000, 'the bare-client run');
    log(`  ${bare.wall_ms} ms; one server ${bare.one_server_ms.median} ms; ideal ${bare.ideal_ms} ms; ratio ${bare.ratio}`);
  }
  await stopProcess(fleet.proc);

  const verdict = (ok) => (ok ? 'met' : 'MISSED');
  return {
    database: databaseUrl ? 'external PostgreSQL' : 'embedded PGlite',
    fleet: { count: fleetSize, ready_ms: fleet.ready_ms, pid: fleet.proc.pid },
    server: { first_start_ready_ms: firstReady.ready_ms, ready_ms: ready.ready_ms, rss_before_mb: mb(rssBefore?.rss_kb), hwm_before_mb: mb(rssBefore?.hwm_kb), stopped },
    register: { servers: fleetSize, ms: registerMs, parallel: REGISTER_PARALLEL },
    key: { type: options.keyType, fingerprint: key.json.data.fingerprint, generate_ms: key.ms },
    reference: {
      method: 'median duration_ms of single-server deployments to fresh simulators with the same latency, run one after the other before the fleet deployment',
      runs: references,
      one_server_ms: oneServer,
      one_server_api_wall_ms: oneServerWall,
    },
    deployment: {
      servers: options.servers,
      concurrency: options.concurrency,
      status: run.operation.status,
      summary,
      all_succeeded: allSucceeded,
      failures: failures(run.deployment),
      wall_ms: run.wall_ms,
      accept_ms: run.accept_ms,
      operation_run_ms: run.operation_run_ms,
      last_server_finished_after_start_ms: finishedAt.length && Number.isFinite(startedAt) ? Math.max(...finishedAt) - startedAt : null,
      per_server_duration_ms: durations,
      batches,
      ideal_ms: idealMs,
      ratio,
      ratio_operation_run: run.operation_run_ms ? round(run.operation_run_ms / idealMs, 3) : null,
      ratio_vs_median_per_server: durations.p50 ? round(run.wall_ms / (batches * durations.p50), 3) : null,
      cpu_s: { server: round(cpuServer, 2), simulators: round(cpuFleet, 2) },
      cpu_share_of_one_core: { server: round(cpuServer / (run.wall_ms / 1000), 2), simulators: round(cpuFleet / (run.wall_ms / 1000), 2) },
      memory_mb: { ...memory.peak_rss_mb, server_rss_after: mb(rssAfter?.rss_kb), server_hwm_after: mb(rssAfter?.hwm_kb), samples: memory.samples },
      peak_rss_mb: peakRss,
      load_average: { before: loadBefore, after: loadAfter },
    },
    bare_client: bare,
    targets: [
      { target: `wall / ideal <= ${TARGETS.ratio_max}`, value: ratio, verdict: verdict(ratio <= TARGETS.ratio_max) },
      { target: `server peak RSS < ${TARGETS.peak_rss_mb_max} MB`, value: peakRss, verdict: verdict(peakRss < TARGETS.peak_rss_mb_max) },
      { target: `all ${options.servers} succeeded`, value: summary.succeeded, verdict: verdict(allSucceeded) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------- report

function markdown(results) {
  const r = results.result;
  const d = r.deployment;
  const lines = [];
  lines.push(`${d.servers} simulated iDRACs, ${results.options.latencyMs} ms per command, concurrency ${d.concurrency}, ${r.key.type} key, ${r.database}.`);
  lines.push('');
  lines.push('| Figure | Value |');
  lines.push('|---|---|');
  lines.push(`| wall (POST /deployments to the end of /wait) | **${fmt(d.wall_ms, ' ms')}** (operation ran ${fmt(d.operation_run_ms, ' ms')}) |`);
  lines.push(`| one server (median of ${r.reference.runs.length} single-server deployments, duration_ms) | ${fmt(r.reference.one_server_ms.median, ' ms')} (${r.reference.one_server_ms.min}–${r.reference.one_server_ms.max}) |`);
  lines.push(`| ideal = ${d.batches} x one server | ${fmt(d.ideal_ms, ' ms')} |`);
  lines.push(`| ratio wall / ideal | **${fmt(d.ratio)}** |`);
  lines.push(`| per-server duration_ms in the fleet run, p50 / p90 / p99 / max | ${d.per_server_duration_ms.p50} / ${d.per_server_duration_ms.p90} / ${d.per_server_duration_ms.p99} / ${d.per_server_duration_ms.max} |`);
  lines.push(`| succeeded | ${d.summary.succeeded} / ${d.summary.total} |`);
  lines.push(`| server peak RSS (VmRSS every ${RSS_SAMPLE_MS} ms, VmHWM after) | **${fmt(d.memory_mb.server, ' MB')}** / ${fmt(d.memory_mb.server_hwm_after, ' MB')} |`);
  lines.push(`| CPU during the deployment: server / simulators | ${fmt(d.cpu_s.server, ' s')} (${Math.round((d.cpu_share_of_one_core.server ?? 0) * 100)} % of a core) / ${fmt(d.cpu_s.simulators, ' s')} (${Math.round((d.cpu_share_of_one_core.simulators ?? 0) * 100)} %) |`);
  lines.push(`| load average (1 min) before / after the deployment | ${d.load_average.before.one} / ${d.load_average.after.one} |`);
  lines.push(`| server RSS before the deployment | ${fmt(r.server.rss_before_mb, ' MB')} (VmHWM ${fmt(r.server.hwm_before_mb, ' MB')}) |`);
  if (r.bare_client) {
    const b = r.bare_client;
    lines.push(`| bare client (same work, no OpsDeck): wall / ideal | ${b.wall_ms} ms / ${b.ideal_ms} ms (one server ${b.one_server_ms.median} ms) = **${b.ratio}** |`);
    lines.push(`| bare client per-server p50 / p90 / max; connect p50; CPU client / simulators | ${b.per_server_duration_ms.p50} / ${b.per_server_duration_ms.p90} / ${b.per_server_duration_ms.max} ms; ${b.connect_ms.p50} ms; ${b.cpu_s.client} s / ${b.cpu_s.simulators} s |`);
    lines.push(`| OpsDeck wall / bare-client wall | ${round(d.wall_ms / b.wall_ms, 3)} |`);
  }
  lines.push('');
  lines.push('| Target | Measured | Verdict |');
  lines.push('|---|---|---|');
  for (const t of r.targets) lines.push(`| ${t.target} | ${fmt(t.value)} | ${t.verdict} |`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(MAIN)) throw new Error(`${path.relative(ROOT, MAIN)} is missing: run \`npm run build\` first (or \`npm run bench:idrac\`)`);
  if (!existsSync(FLEET_CLI)) throw new Error(`${path.relative(ROOT, FLEET_CLI)} is missing: run \`npx tsc -p tsconfig.simulator.json\` first (or \`npm run bench:idrac\`)`);
  if (existsSync(path.join(ROOT, '.env'))) log('warning: .env exists in the repository root; OpsDeck reads it, so variables the bench does not set may apply');
  if (options.external) {
    try {
      psql('select 1');
    } catch (error) {
      throw new Error(`--external needs psql and a PostgreSQL at 127.0.0.1:5432 reachable as postgres: ${error.message}`);
    }
  }
  const knownVariables = await loadKnownVariables();
  const info = machine();
  const args = process.argv.slice(2).join(' ');
  const command = `npm run bench:idrac${args ? ` -- ${args}` : ''}`;
  const startedAt = new Date().toISOString();
  log(machineLine(info));
  log(`command: ${command}`);
  const loadBefore = loadAverage();
  if (loadBefore.one > info.cpu_count * 0.5) log(`warning: load average is ${loadBefore.one} on ${info.cpu_count} CPUs before the run; other work will skew the figures`);
  log('');

  let databaseName = null;
  let databaseUrl = null;
  if (options.external) {
    const created = createExternalDatabase('opsdeck_bench_idrac');
    databaseName = created.name;
    databaseUrl = created.url;
    log(`[external] created database ${databaseName}`);
  }
  const result = await runBench({ options, databaseUrl, knownVariables });
  if (databaseName) dropDatabaseSync(databaseName);

  const results = {
    benchmark: 'opsdeck-idrac-deploy',
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    command,
    options,
    machine: info,
    source: sourceState(),
    load_average: { before: loadBefore, after: loadAverage() },
    server_limits: LIMITS,
    targets: TARGETS,
    result,
  };
  log('');
  log(machineLine(info));
  log(`load average (1 min): ${loadBefore.one} before, ${results.load_average.after.one} after; ${os.availableParallelism?.() ?? info.cpu_count} CPUs`);
  log(`command: ${command}`);
  log('');
  log(markdown(results));
  if (options.write) {
    const file = writeResults('idrac', results);
    log('');
    log(`raw results: ${path.relative(ROOT, file)}`);
  }
  if (!result.deployment.all_succeeded) throw new Error('not every server succeeded; see the results');
  await sleep(0);
}

runMain(main);
