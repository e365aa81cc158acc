#!/usr/bin/env node
// OpsDeck authentication benchmark, all in one run against one server:
//   (a) POST /api/v1/auth/login throughput and latency at low concurrency (argon2id verification dominates);
//   (b) an authenticated GET (GET /api/v1/organizations/{id} with a viewer's JWT, and with a viewer API key,
//       plus GET /api/v1/auth/me with the JWT) against the public GET /api/v1/health (SELECT 1), at 50
//       connections: req/s, p50/p95/p99, the ratios, and the server's CPU time per request;
//   (c) the server's peak RSS during every phase.
// Plain Node ESM; it builds nothing (`npm run build` first).
//
//   npm run build && node bench/auth.bench.js [--duration 10] [--warmup 2] [--connections 50]
//                                             [--login-connections 8,2] [--rounds 1] [--external] [--no-write]
//
// Every wait is bounded (30 s to ready, 15 s to stop, fixed load durations); the server, its temporary DATA_DIR
// and the --external database are removed on success, on failure and on Ctrl-C. Loopback only.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  api,
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
  measureLoad,
  opsdeckEnv,
  psql,
  readProcStatus,
  ROOT,
  round,
  runMain,
  sourceState,
  spawnNode,
  stopProcess,
  summarize,
  waitUntilHealthy,
  warmUp,
  writeResults,
} from './lib.js';

installCleanupHandlers();

const BENCH_JWT_SECRET = randomBytes(32).toString('hex');
const ADMIN = { email: 'bench-admin@opsdeck.bench', password: `bench-admin-${randomBytes(12).toString('hex')}` };
const VIEWER = { email: 'bench-viewer@opsdeck.bench', password: `bench-viewer-${randomBytes(12).toString('hex')}` };
// The configuration caps LOGIN_RATE_LIMIT_PER_MINUTE at 10,000 (src/config/config.schema.ts); the bench uses
// the cap and reports any 429 it still gets.
const LIMITS = { RATE_LIMIT_PER_MINUTE: '1000000', LOGIN_RATE_LIMIT_PER_MINUTE: '10000' };
const IDLE_WAIT_MS = 2_000;
const ARGON2_SAMPLES = 10;

// ---------------------------------------------------------------------------------------------- options

function parseOptions(argv) {
  const options = { duration: 10, warmup: 2, connections: 50, loginConnections: [8, 2], rounds: 1, external: false, write: true };
  const limits = { duration: [1, 120], warmup: [0, 30], connections: [1, 1000], rounds: [1, 10] };
  const integer = (name, raw, [min, max]) => integerInRange(`--${name}`, raw, min, max);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: node bench/auth.bench.js [--duration S] [--warmup S] [--connections C] [--login-connections C1,C2] [--rounds N] [--external] [--no-write]\n',
      );
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
    const match = /^--(duration|warmup|connections|login-connections|rounds)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument: ${arg} (try --help)`);
    const name = match[1];
    const raw = match[2] ?? argv[++i];
    if (name === 'login-connections') {
      const list = String(raw ?? '').split(',').map((part) => integer(name, part, [1, 64]));
      if (list.length === 0 || list.length > 4) throw new Error('--login-connections takes 1 to 4 comma-separated counts');
      options.loginConnections = list;
      continue;
    }
    options[name] = integer(name, raw, limits[name]);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------- argon2

/** The hashing parameters the built server uses, read from dist (they are a private constant there). */
function hashParameters() {
  try {
    const text = readFileSync(path.join(ROOT, 'dist', 'src', 'auth', 'password-hasher.js'), 'utf8');
    const value = (name) => {
      const match = new RegExp(`${name}:\\s*([\\d_]+)`).exec(text);
      return match ? Number(match[1].replace(/_/g, '')) : null;
    };
    const type = /type:\s*argon2\.(argon2\w+)/.exec(text)?.[1] ?? null;
    return { algorithm: type, memory_cost_kib: value('memoryCost'), time_cost: value('timeCost'), parallelism: value('parallelism') };
  } catch {
    return { algorithm: null, memory_cost_kib: null, time_cost: null, parallelism: null };
  }
}

/**
 * What one verification costs on this machine, measured in this process before the server starts: the
 * floor under a login's latency and, with the libuv thread pool (4 threads) and the CPUs, a ceiling on logins/s.
 */
async function argon2Reference(params) {
  if (params.algorithm !== 'argon2id' || !params.memory_cost_kib || !params.time_cost || !params.parallelism) return null;
  const { default: argon2 } = await import('argon2');
  const options = { type: argon2.argon2id, memoryCost: params.memory_cost_kib, timeCost: params.time_cost, parallelism: params.parallelism };
  const hash = await argon2.hash('bench-password-reference', options);
  await argon2.verify(hash, 'bench-password-reference');
  const times = [];
  for (let i = 0; i < ARGON2_SAMPLES; i++) {
    const started = performance.now();
    if (!(await argon2.verify(hash, 'bench-password-reference'))) throw new Error('argon2 reference verify failed');
    times.push(round(performance.now() - started, 2));
  }
  const parallel = 8;
  const started = performance.now();
  await Promise.all(Array.from({ length: parallel }, () => argon2.verify(hash, 'bench-password-reference')));
  const parallelMs = performance.now() - started;
  return {
    verify_ms: summarize(times),
    parallel_verifies: parallel,
    parallel_wall_ms: round(parallelMs, 1),
    verifies_per_second_parallel: round((parallel * 1000) / parallelMs, 1),
    uv_threadpool_size: Number(process.env.UV_THREADPOOL_SIZE) || 4,
  };
}

// ---------------------------------------------------------------------------------------------- setup

/** Through the API, as an operator would: an organization, a viewer in it, the viewer's JWT and a viewer API key. */
async function setUp(port) {
  const adminLogin = await api(port, 'POST', '/api/v1/auth/login', { json: ADMIN, expect: 200 });
  const adminToken = adminLogin.json.data.access_token;
  const organization = await api(port, 'POST', '/api/v1/organizations', {
    token: adminToken,
    json: { name: 'Bench Organization', description: 'created by bench/auth.bench.js' },
    expect: 201,
  });
  const organizationId = organization.json.data.id;
  await api(port, 'POST', '/api/v1/users/add', {
    token: adminToken,
    json: { ...VIEWER, role: 'viewer', organization_id: organizationId },
    expect: 201,
  });
  const viewerLogin = await api(port, 'POST', '/api/v1/auth/login', { json: VIEWER, expect: 200 });
  const viewerToken = viewerLogin.json.data.access_token;
  const key = await api(port, 'POST', '/api/v1/api-keys', {
    token: adminToken,
    json: { name: 'bench-viewer-key', role: 'viewer', organization_id: organizationId },
    expect: 201,
  });
  const apiKey = key.json.data.key;

  // Every request the load phases send must succeed before it is measured.
  const orgPath = `/api/v1/organizations/${organizationId}`;
  const viaJwt = await api(port, 'GET', orgPath, { token: viewerToken, expect: 200 });
  const viaKey = await api(port, 'GET', orgPath, { apiKey, expect: 200 });
  const me = await api(port, 'GET', '/api/v1/auth/me', { token: viewerToken, expect: 200 });
  if (me.json.data.role !== 'viewer') throw new Error(`the bench viewer's token is for role ${me.json.data.role}`);
  const health = await api(port, 'GET', '/api/v1/health', { expect: 200 });
  return {
    organizationId,
    viewerToken,
    apiKey,
    response_bytes: {
      organization_jwt: viaJwt.body.length,
      organization_api_key: viaKey.body.length,
      me_jwt: me.body.length,
      health: health.body.length,
    },
    jwt_expires_in_s: viewerLogin.json.data.expires_in,
  };
}

/** The load phases: GETs first (so the argon2 memory of logins does not inflate their RSS), logins last. */
function phases(setup, options) {
  const orgPath = `/api/v1/organizations/${setup.organizationId}`;
  const gets = [
    { id: 'health', name: 'GET /api/v1/health', auth: 'none (public)', request: { method: 'GET', path: '/api/v1/health' } },
    {
      id: 'organization_jwt',
      name: 'GET /api/v1/organizations/{id}',
      auth: 'viewer JWT',
      request: { method: 'GET', path: orgPath, headers: { Authorization: `Bearer ${setup.viewerToken}` } },
    },
    {
      id: 'organization_api_key',
      name: 'GET /api/v1/organizations/{id}',
      auth: 'viewer API key',
      request: { method: 'GET', path: orgPath, headers: { 'X-API-Key': setup.apiKey } },
    },
    {
      id: 'me_jwt',
      name: 'GET /api/v1/auth/me',
      auth: 'viewer JWT',
      request: { method: 'GET', path: '/api/v1/auth/me', headers: { Authorization: `Bearer ${setup.viewerToken}` } },
    },
  ].map((phase) => ({ ...phase, connections: options.connections }));
  const logins = options.loginConnections.map((connections) => ({
    id: `login_c${connections}`,
    name: 'POST /api/v1/auth/login',
    auth: 'email + password',
    connections,
    request: {
      method: 'POST',
      path: '/api/v1/auth/login',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(VIEWER),
    },
  }));
  return { gets, logins };
}

// ---------------------------------------------------------------------------------------------- one series

async function runSeries({ label, databaseUrl, knownVariables, options }) {
  const dataDir = makeTempDir('opsdeck-bench-auth-');
  const port = await freePort();
  const env = opsdeckEnv({
    port,
    dataDir,
    databaseUrl,
    knownVariables,
    jwtSecret: BENCH_JWT_SECRET,
    extra: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ...LIMITS },
  });
  log(`[${label}] starting the server (fresh DATA_DIR ${dataDir}${databaseUrl ? `, ${databaseUrl}` : ''})`);
  const proc = spawnNode(`opsdeck ${label}`, MAIN, env);
  const ready = await waitUntilHealthy(proc, port);
  log(`  ready after ${ready.ready_ms} ms; setting up an organization, a viewer, its JWT and a viewer API key`);
  const setup = await setUp(port);
  await sleep(IDLE_WAIT_MS);
  const idle = readProcStatus(proc.pid);

  const { gets, logins } = phases(setup, options);
  const measured = [];
  const runPhase = async (phase, round) => {
    const tag = `[${label}] ${phase.name} (${phase.auth}), ${phase.connections} connections${options.rounds > 1 ? `, round ${round}` : ''}`;
    if (options.warmup > 0) {
      log(`${tag}: warm-up ${options.warmup} s`);
      await warmUp({ port, request: phase.request, connections: phase.connections, duration: options.warmup });
    }
    log(`${tag}: measuring ${options.duration} s`);
    const result = await measureLoad({ proc, port, request: phase.request, connections: phase.connections, duration: options.duration });
    measured.push({ id: phase.id, name: phase.name, auth: phase.auth, round, result });
    if (result.non_2xx || result.errors || result.timeouts) {
      log(`  WARNING: ${result.non_2xx} non-2xx (${JSON.stringify(result.status_codes)}), ${result.errors} errors, ${result.timeouts} timeouts`);
    }
  };
  for (let r = 1; r <= options.rounds; r++) {
    // Alternate the order between rounds so drift on a shared machine does not favour one phase.
    const order = r % 2 === 1 ? gets : [...gets].reverse();
    for (const phase of order) await runPhase(phase, r);
  }
  for (let r = 1; r <= options.rounds; r++) for (const phase of logins) await runPhase(phase, r);

  const stopped = await stopProcess(proc);
  return {
    database: databaseUrl ? 'external PostgreSQL' : 'embedded PGlite',
    ready_ms: ready.ready_ms,
    idle_after_setup_mb: { rss: mb(idle?.rss_kb), hwm: mb(idle?.hwm_kb) },
    setup: { response_bytes: setup.response_bytes, jwt_expires_in_s: setup.jwt_expires_in_s },
    phases: summarizePhases(measured),
    runs: measured,
    stopped,
  };
}

/** One row per phase: the median over rounds of each figure (with one round, the figures themselves). */
function summarizePhases(measured) {
  const byId = new Map();
  for (const run of measured) {
    if (!byId.has(run.id)) byId.set(run.id, { id: run.id, name: run.name, auth: run.auth, runs: [] });
    byId.get(run.id).runs.push(run.result);
  }
  return [...byId.values()].map(({ id, name, auth, runs }) => {
    const median = (pick) => summarize(runs.map(pick)).median;
    const sum = (pick) => runs.reduce((total, r) => total + pick(r), 0);
    const requests = sum((r) => r.requests_total);
    const cpu = sum((r) => r.server_cpu_s ?? 0);
    return {
      id,
      name,
      auth,
      connections: runs[0].connections,
      rounds: runs.length,
      rps_mean: median((r) => r.rps_mean),
      latency_ms: { p50: median((r) => r.latency_ms.p50), p95: median((r) => r.latency_ms.p95), p99: median((r) => r.latency_ms.p99) },
      requests_total: requests,
      errors: sum((r) => r.errors + r.timeouts),
      non_2xx: sum((r) => r.non_2xx),
      rate_limited_429: sum((r) => r.rate_limited_429),
      peak_rss_mb: Math.max(...runs.map((r) => r.memory_mb.peak_rss_sampled ?? 0)) || null,
      hwm_after_mb: Math.max(...runs.map((r) => r.memory_mb.hwm_after ?? 0)) || null,
      server_cpu_share: median((r) => r.server_cpu_share),
      server_cpu_ms_per_request: requests ? round((cpu * 1000) / requests, 3) : null,
    };
  });
}

function ratios(series) {
  const phase = (id) => series.phases.find((p) => p.id === id);
  const health = phase('health');
  const out = [];
  const compare = (id, label) => {
    const p = phase(id);
    if (!p || !health?.rps_mean) return;
    out.push({
      label: `${label} / GET /api/v1/health`,
      rps: round(p.rps_mean / health.rps_mean, 3),
      p50: health.latency_ms.p50 ? round(p.latency_ms.p50 / health.latency_ms.p50, 2) : null,
      p99: health.latency_ms.p99 ? round(p.latency_ms.p99 / health.latency_ms.p99, 2) : null,
      cpu_per_request: health.server_cpu_ms_per_request ? round(p.server_cpu_ms_per_request / health.server_cpu_ms_per_request, 2) : null,
      extra_cpu_ms_per_request: round(p.server_cpu_ms_per_request - health.server_cpu_ms_per_request, 3),
    });
  };
  compare('organization_jwt', 'JWT GET /organizations/{id}');
  compare('organization_api_key', 'API-key GET /organizations/{id}');
  compare('me_jwt', 'JWT GET /auth/me');
  return out;
}

// ---------------------------------------------------------------------------------------------- report

function markdown(results) {
  const lines = [];
  const p = results.hash_parameters;
  const ref = results.argon2_reference;
  lines.push(
    `Password hashing: ${fmt(p.algorithm)}, memoryCost ${fmt(p.memory_cost_kib)} KiB, timeCost ${fmt(p.time_cost)}, parallelism ${fmt(p.parallelism)}.`,
  );
  if (ref) {
    lines.push(
      `One verification in the bench process: median ${ref.verify_ms.median} ms (min ${ref.verify_ms.min}, max ${ref.verify_ms.max}, n ${ref.verify_ms.n}); ` +
        `${ref.parallel_verifies} at once: ${ref.parallel_wall_ms} ms = ${ref.verifies_per_second_parallel} verifications/s.`,
    );
  }
  lines.push('');
  lines.push(`${results.options.duration} s measured per phase after ${results.options.warmup} s warm-up${results.options.rounds > 1 ? `, median of ${results.options.rounds} rounds` : ''}:`);
  lines.push('');
  lines.push('| Database | Request | Credentials | Conns | req/s (mean) | p50 ms | p95 ms | p99 ms | errors | non-2xx (429) | peak RSS | server CPU | server CPU ms/req |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const series of results.series) {
    for (const ph of series.phases) {
      lines.push(
        `| ${series.database} | ${ph.name} | ${ph.auth} | ${ph.connections} | ${fmt(ph.rps_mean)} | ${fmt(ph.latency_ms.p50)} | ${fmt(ph.latency_ms.p95)} | ${fmt(ph.latency_ms.p99)} | ${ph.errors} | ${ph.non_2xx} (${ph.rate_limited_429}) | ${fmt(ph.peak_rss_mb, ' MB')} | ${fmt(ph.server_cpu_share === null ? null : Math.round(ph.server_cpu_share * 100), '%')} | ${fmt(ph.server_cpu_ms_per_request)} |`,
      );
    }
  }
  lines.push('');
  lines.push('| Database | Ratio | req/s | p50 | p99 | server CPU per request | extra CPU ms/req |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const series of results.series) {
    for (const r of series.ratios) {
      lines.push(`| ${series.database} | ${r.label} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.cpu_per_request)} | ${fmt(r.extra_cpu_ms_per_request)} |`);
    }
  }
  lines.push('');
  for (const series of results.series) {
    lines.push(
      `${series.database}: ready after ${series.ready_ms} ms; idle after set-up RSS ${fmt(series.idle_after_setup_mb.rss, ' MB')} (VmHWM ${fmt(series.idle_after_setup_mb.hwm, ' MB')}).`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(MAIN)) throw new Error(`${path.relative(ROOT, MAIN)} is missing: run \`npm run build\` first`);
  if (existsSync(path.join(ROOT, '.env'))) {
    log('warning: .env exists in the repository root; OpsDeck reads it, so variables the bench does not set may apply');
  }
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
  const command = `npm run build && node bench/auth.bench.js${args ? ` ${args}` : ''}`;
  const startedAt = new Date().toISOString();

  log(machineLine(info));
  log(`command: ${command}`);
  const loadBefore = loadAverage();
  if (loadBefore.one > info.cpu_count * 0.5) {
    log(`warning: load average is ${loadBefore.one} on ${info.cpu_count} CPUs before the run; other work will skew the figures`);
  }
  log('');

  const hash = hashParameters();
  log(`[argon2] measuring ${ARGON2_SAMPLES} verifications with ${JSON.stringify(hash)} in the bench process`);
  const reference = await argon2Reference(hash).catch((error) => {
    log(`  warning: argon2 reference not measured: ${error.message}`);
    return null;
  });

  const results = {
    benchmark: 'opsdeck-auth',
    started_at: startedAt,
    command,
    options,
    machine: info,
    source: sourceState(),
    load_average: { before: loadBefore, after: null },
    server_limits: LIMITS,
    hash_parameters: hash,
    argon2_reference: reference,
    series: [],
  };

  const series = [{ label: 'embedded', databaseUrl: null }];
  if (options.external) series.push({ label: 'external', databaseUrl: 'create' });
  for (const item of series) {
    let databaseName = null;
    let databaseUrl = item.databaseUrl;
    if (databaseUrl === 'create') {
      const created = createExternalDatabase('opsdeck_bench_auth');
      databaseName = created.name;
      databaseUrl = created.url;
      log(`[external] created database ${databaseName}`);
    }
    const outcome = await runSeries({ label: item.label, databaseUrl, knownVariables, options });
    outcome.ratios = ratios(outcome);
    results.series.push(outcome);
    if (databaseName) {
      dropDatabaseSync(databaseName);
      log(`[external] dropped database ${databaseName}`);
    }
  }

  const limited = results.series.flatMap((s) => s.phases).reduce((sum, p) => sum + p.rate_limited_429, 0);
  if (limited > 0) log(`\nWARNING: ${limited} responses were 429 Too Many Requests; the figures include refused requests`);

  results.finished_at = new Date().toISOString();
  results.load_average.after = loadAverage();
  log('');
  log(machineLine(info));
  log(`load average (1 min): ${loadBefore.one} before, ${results.load_average.after.one} after; ${os.availableParallelism?.() ?? info.cpu_count} CPUs`);
  log(`command: ${command}`);
  log('');
  log(markdown(results));
  if (options.write) {
    const file = writeResults('auth', results);
    log('');
    log(`raw results: ${path.relative(ROOT, file)}`);
  }
}

runMain(main);
