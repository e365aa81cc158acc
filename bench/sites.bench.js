#!/usr/bin/env node
// OpsDeck Drupal site monitoring benchmark (issue 4), all in one run against one server:
//   (a) ingestion of a 200-module report, POST /api/v1/sites/{id}/modules, two reports alternating so every
//       ingestion changes some versions;
//   (b) GET /api/v1/sites?per_page=20 at 50 connections, compared in the same run with a bare node:http + pg
//       server answering the same query with the same envelope (bench/baseline-sites-server.js) -> ratio;
//   (c) GET /api/v1/sites/{id}/modules, cycling through 20 generated sites;
//   (d) GET /api/v1/reports/module-updates and GET /api/v1/reports/patch-run over the generated fleet
//       (2,000 sites x 150 modules by default, bench/sites-data.js).
// p50/p95/p99 (exact), req/s, peak RSS and CPU of the server per phase; targets checked; results JSON in
// bench/results/. Plain Node ESM; it builds nothing (`npm run bench:sites` builds first).
//
//   npm run build && node bench/sites.bench.js [--external] [--quick] [--duration 10] [--warmup 2]
//        [--connections 50] [--report-connections 1] [--ingest-connections 1] [--sites N] [--modules N] ...
//
// Every wait is bounded (30 s to ready, 15 s to stop, fixed load durations, a time limit on the data load); the
// servers, the temporary DATA_DIR and the --external database are removed on success, on failure and on Ctrl-C.
// Loopback only.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
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
  measureFixedRate,
  measureLoad,
  opsdeckEnv,
  psql,
  readProcStatus,
  ROOT,
  round,
  runMain,
  safeJson,
  sourceState,
  spawnNode,
  stopProcess,
  waitUntilHealthy,
  warmUp,
  writeResults,
} from './lib.js';
import { catalogFor, DEFAULT_SIZES, generatedId, generateSitesData, normalizeSizes, pgExecutor, pgliteExecutor, QUICK_SIZES, versionString } from './sites-data.js';

installCleanupHandlers();

const BASELINE = path.join(ROOT, 'bench', 'baseline-sites-server.js');
const BENCH_JWT_SECRET = randomBytes(32).toString('hex');
const ADMIN = { email: 'bench-admin@opsdeck.bench', password: `bench-admin-${randomBytes(12).toString('hex')}` };
const LIMITS = { RATE_LIMIT_PER_MINUTE: '1000000', LOGIN_RATE_LIMIT_PER_MINUTE: '10000' };
const TARGETS = { ingest_p50_ms: 30, sites_ratio_min: 0.5, sites_p99_ms: 25, report_p50_ms: 300 };
const REPORT_MODULES = 200;
const CHANGED_PER_REPORT = 20;
const DATA_TIMEOUT_MS = 15 * 60_000;
const SITES_PATH = '/api/v1/sites?per_page=20';

// ---------------------------------------------------------------------------------------------- options

const SIZE_FLAGS = { organizations: 'organizations', sites: 'sites', modules: 'modules', versions: 'versions', 'patch-runs': 'patchRuns', catalog: 'catalog', seed: 'seed' };
const USAGE = `usage: node bench/sites.bench.js [--external | --database embedded|external|both] [--quick]
       [--duration S] [--warmup S] [--connections C] [--report-connections C] [--ingest-connections C]
       [--organizations N] [--sites N] [--modules N] [--versions N] [--patch-runs N] [--catalog N] [--seed N]
       [--phases sites_list,site_modules,report_module_updates,report_patch_run,ingest] [--interleave N]
       [--fixed-rates F[,F...] | --fixed-rates none] [--no-write]`;
const PHASE_IDS = ['sites_list', 'site_modules', 'report_module_updates', 'report_patch_run', 'ingest'];

/** --fixed-rates: fractions of the bare server's closed-loop req/s, e.g. 0.3,0.5; `none` for no fixed-rate runs. */
function parseFractions(raw) {
  if (raw === 'none') return [];
  const fractions = String(raw ?? '').split(',').filter(Boolean).map(Number);
  if (fractions.length === 0 || fractions.length > 8 || fractions.some((f) => !Number.isFinite(f) || f <= 0 || f > 1.5)) {
    throw new Error('--fixed-rates takes up to 8 comma-separated fractions in (0, 1.5] of the bare server\'s req/s, or none');
  }
  return fractions;
}

function parseOptions(argv) {
  const options = { duration: 10, warmup: 2, connections: 50, reportConnections: 1, ingestConnections: 1, database: 'embedded', quick: false, write: true, sizes: {}, phases: PHASE_IDS, interleave: 0, fixedRates: [0.5] };
  const limits = { duration: [1, 120], warmup: [0, 30], connections: [1, 1000], 'report-connections': [1, 64], 'ingest-connections': [1, 64], interleave: [0, 20] };
  const explicit = new Set();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (arg === '--external') {
      options.database = 'external';
      continue;
    }
    if (arg === '--quick') {
      options.quick = true;
      continue;
    }
    if (arg === '--no-write') {
      options.write = false;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument: ${arg}\n${USAGE}`);
    const name = match[1];
    const raw = match[2] ?? argv[++i];
    if (name === 'database') {
      if (!['embedded', 'external', 'both'].includes(raw)) throw new Error('--database is embedded, external or both');
      options.database = raw;
      continue;
    }
    if (name === 'phases') {
      const phases = String(raw ?? '').split(',').filter(Boolean);
      const unknown = phases.filter((id) => !PHASE_IDS.includes(id));
      if (phases.length === 0 || unknown.length > 0) throw new Error(`--phases takes a comma-separated list of ${PHASE_IDS.join(', ')}`);
      options.phases = PHASE_IDS.filter((id) => phases.includes(id));
      continue;
    }
    if (name === 'fixed-rates') {
      options.fixedRates = parseFractions(raw);
      continue;
    }
    if (SIZE_FLAGS[name]) {
      options.sizes[SIZE_FLAGS[name]] = Number(raw);
      continue;
    }
    if (!limits[name]) throw new Error(`unknown argument: ${arg}\n${USAGE}`);
    options[name.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = integerInRange(`--${name}`, raw, ...limits[name]);
    explicit.add(name);
  }
  if (options.interleave > 0 && options.database === 'embedded') throw new Error('--interleave needs --external (PGlite serves one process)');
  if (options.quick) {
    if (!explicit.has('duration')) options.duration = 3;
    if (!explicit.has('warmup')) options.warmup = 1;
  }
  options.sizes = normalizeSizes({ ...(options.quick ? QUICK_SIZES : DEFAULT_SIZES), ...options.sizes });
  return options;
}

// ---------------------------------------------------------------------------------------------- helpers

async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Two 200-module reports for the bench's own site: catalog modules (core first), realistic flags, and
 * CHANGED_PER_REPORT contrib modules one version apart between A and B, so every ingestion changes versions.
 */
function buildReports(sizes) {
  const { modules, projects } = catalogFor(sizes);
  const byProject = new Map(projects.map((p) => [p.name, p]));
  const V = sizes.versions;
  const chosen = modules.slice(0, Math.min(REPORT_MODULES, modules.length));
  const coreVersion = versionString(byProject.get('drupal'), V - 1);
  const entries = (variant) =>
    chosen.map((module, index) => {
      const project = byProject.get(module.project);
      if (project.format === 'core') {
        return { name: module.name, project: 'drupal', version: coreVersion, type: module.type, status: 'enabled', latest_version: coreVersion, update_available: false, security_update: false };
      }
      const changes = index % Math.max(1, Math.floor(chosen.length / CHANGED_PER_REPORT)) === 0;
      const k = changes && variant === 'B' ? V - 2 : index % 10 === 3 ? V - 3 : V - 1;
      const latest = versionString(project, V - 1);
      return {
        name: module.name,
        project: module.project,
        version: versionString(project, k),
        type: module.type,
        status: index % 20 === 7 ? 'disabled' : 'enabled',
        latest_version: latest,
        update_available: k < V - 1,
        security_update: k < V - 1 && index % 30 === 3,
      };
    });
  return {
    A: { drupal_version: coreVersion, php_version: '8.3.14', modules: entries('A') },
    B: { drupal_version: coreVersion, php_version: '8.3.14', modules: entries('B') },
    changed: chosen.filter((_, index) => byProject.get(chosen[index].project).format !== 'core' && index % Math.max(1, Math.floor(chosen.length / CHANGED_PER_REPORT)) === 0).length,
  };
}

const topKeys = (value) => (value && typeof value === 'object' ? Object.keys(value).sort() : []);

// ---------------------------------------------------------------------------------------------- one series

async function runPhase({ label, proc, port, phase, options }) {
  const tag = `[${label}] ${phase.name}, ${phase.connections} connection${phase.connections === 1 ? '' : 's'}`;
  if (options.warmup > 0) {
    log(`${tag}: warm-up ${options.warmup} s`);
    await warmUp({ port, request: phase.request, connections: phase.connections, duration: options.warmup });
  }
  log(`${tag}: measuring ${options.duration} s`);
  const result = await measureLoad({ proc, port, request: phase.request, connections: phase.connections, duration: options.duration });
  result.cpu_ms_per_request = result.requests_total && result.server_cpu_s !== null ? round((result.server_cpu_s * 1000) / result.requests_total, 3) : null;
  if (result.non_2xx || result.errors || result.timeouts) {
    log(`  WARNING: ${result.non_2xx} non-2xx (${JSON.stringify(result.status_codes)}), ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  log(`  ${result.rps_mean} req/s, p50 ${result.latency_ms.p50} ms, p95 ${result.latency_ms.p95} ms, p99 ${result.latency_ms.p99} ms, peak RSS ${result.memory_mb.peak_rss_sampled} MB`);
  return { id: phase.id, name: phase.name, server: phase.server ?? 'opsdeck', connections: phase.connections, result };
}

async function runSeries({ label, databaseUrl, knownVariables, options }) {
  const embedded = !databaseUrl;
  const dataDir = makeTempDir('opsdeck-bench-sites-');
  const env = (port) =>
    opsdeckEnv({ port, dataDir, databaseUrl, knownVariables, jwtSecret: BENCH_JWT_SECRET, extra: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ...LIMITS } });
  const start = async (name) => {
    const port = await freePort();
    const proc = spawnNode(`opsdeck ${label} ${name}`, MAIN, env(port));
    const ready = await waitUntilHealthy(proc, port);
    return { proc, port, ready };
  };

  log(`[${label}] first start (creates the database, runs the migrations, creates the admin) in ${dataDir}`);
  let server = await start('first start');
  log(`  ready after ${server.ready.ready_ms} ms`);

  // The data: with PGlite the server must be stopped (one process owns the data directory).
  let executor;
  if (embedded) {
    await stopProcess(server.proc);
    executor = await pgliteExecutor(path.join(dataDir, 'pglite'));
  } else {
    executor = await pgExecutor(databaseUrl);
  }
  log(`[${label}] generating ${options.sizes.sites} sites x ${options.sizes.modules} modules (${executor.kind})`);
  let data;
  try {
    data = await withTimeout(generateSitesData(executor, options.sizes), DATA_TIMEOUT_MS, 'the data load');
  } finally {
    await executor.close().catch(() => undefined);
  }
  log(`  ${data.total_ms} ms: ${JSON.stringify(data.rows)}`);
  if (embedded) {
    server = await start('restart on the generated data');
    log(`  restarted; ready after ${server.ready.ready_ms} ms`);
  }
  const { proc, port } = server;

  // Set-up through the API: the admin's token, the bench's own site and its first report.
  const login = await api(port, 'POST', '/api/v1/auth/login', { json: ADMIN, expect: 200 });
  const token = login.json.data.access_token;
  const auth = { Authorization: `Bearer ${token}` };
  const organizationId = generatedId(`${options.sizes.seed}:org:1`);
  const site = await api(port, 'POST', '/api/v1/sites', {
    token,
    json: { name: 'Bench ingestion site', url: `https://ingest-${process.pid}.bench.example`, organization_id: organizationId },
    expect: 201,
  });
  const siteId = site.json.data.id;
  const reports = buildReports(options.sizes);
  const reportPath = `/api/v1/sites/${siteId}/modules`;
  const first = await api(port, 'POST', reportPath, { token, json: reports.A, expect: [200, 201] });
  const second = await api(port, 'POST', reportPath, { token, json: reports.B, expect: [200, 201] });
  log(`  first report ${first.ms} ms (${JSON.stringify(first.json?.data ?? {}).slice(0, 200)}); second ${second.ms} ms`);

  // One request of each, checked, before any load: the status, the size and one cold latency.
  const generatedSites = Array.from({ length: Math.min(20, options.sizes.sites) }, (_, i) => generatedId(`${options.sizes.seed}:site:${(i * 97) % options.sizes.sites}`));
  const probes = {};
  for (const [id, urlPath] of [
    ['sites_list', SITES_PATH],
    ['site_modules', `/api/v1/sites/${generatedSites[0]}/modules`],
    ['report_module_updates', '/api/v1/reports/module-updates'],
    ['report_patch_run', '/api/v1/reports/patch-run'],
  ]) {
    const probe = await api(port, 'GET', urlPath, { token, expect: 200 });
    probes[id] = { path: urlPath, cold_ms: probe.ms, bytes: Buffer.byteLength(probe.body), data_items: Array.isArray(probe.json?.data) ? probe.json.data.length : null, meta: probe.json?.meta ?? null };
    log(`  probe ${urlPath}: ${probe.ms} ms, ${probes[id].bytes} bytes`);
  }
  const sitesSample = safeJson((await api(port, 'GET', SITES_PATH, { token, expect: 200 })).body);

  const json = { 'Content-Type': 'application/json', ...auth };
  const phases = [
    { id: 'sites_list', name: `GET ${SITES_PATH}`, connections: options.connections, request: { method: 'GET', path: SITES_PATH, headers: auth } },
    {
      id: 'site_modules',
      name: `GET /api/v1/sites/{id}/modules (${generatedSites.length} sites in turn)`,
      connections: options.connections,
      request: { method: 'GET', path: `/api/v1/sites/${generatedSites[0]}/modules`, headers: auth, requests: generatedSites.map((id) => ({ method: 'GET', path: `/api/v1/sites/${id}/modules`, headers: auth })) },
    },
    { id: 'report_module_updates', name: 'GET /api/v1/reports/module-updates', connections: options.reportConnections, request: { method: 'GET', path: '/api/v1/reports/module-updates', headers: auth } },
    { id: 'report_patch_run', name: 'GET /api/v1/reports/patch-run', connections: options.reportConnections, request: { method: 'GET', path: '/api/v1/reports/patch-run', headers: auth } },
    {
      id: 'ingest',
      name: `POST /api/v1/sites/{id}/modules (${REPORT_MODULES} modules, A/B alternating)`,
      connections: options.ingestConnections,
      request: {
        method: 'POST',
        path: reportPath,
        headers: json,
        requests: [
          { method: 'POST', path: reportPath, headers: json, body: JSON.stringify(reports.A) },
          { method: 'POST', path: reportPath, headers: json, body: JSON.stringify(reports.B) },
        ],
      },
    },
  ];
  const measured = [];
  for (const phase of phases.filter((p) => options.phases.includes(p.id))) measured.push(await runPhase({ label, proc, port, phase, options }));
  const interleaved = await measureInterleaved({ label, proc, port, databaseUrl, embedded, auth, options });
  const after = readProcStatus(proc.pid);
  const stopped = await stopProcess(proc);

  // The bare node:http + pg server on the same data, after OpsDeck stopped (PGlite allows one process).
  let sameShape = null;
  let baselineSample = null;
  if (options.phases.includes('sites_list')) {
    const baselinePort = await freePort();
    const baselineEnv = { PATH: process.env.PATH ?? '', PORT: String(baselinePort), HOST: '127.0.0.1' };
    if (embedded) baselineEnv.PGLITE_DIR = path.join(dataDir, 'pglite');
    else baselineEnv.DATABASE_URL = databaseUrl;
    const baseline = spawnNode(`baseline-sites ${label}`, BASELINE, baselineEnv);
    await waitUntilHealthy(baseline, baselinePort);
    baselineSample = safeJson((await api(baselinePort, 'GET', SITES_PATH, { expect: 200 })).body);
    sameShape =
      JSON.stringify(topKeys(baselineSample)) === JSON.stringify(topKeys(sitesSample)) &&
      JSON.stringify(topKeys(baselineSample?.meta)) === JSON.stringify(topKeys(sitesSample?.meta)) &&
      JSON.stringify(topKeys(baselineSample?.links)) === JSON.stringify(topKeys(sitesSample?.links)) &&
      JSON.stringify(topKeys(baselineSample?.data?.[0])) === JSON.stringify(topKeys(sitesSample?.data?.[0])) &&
      JSON.stringify(baselineSample?.data?.map((s) => s.id)) === JSON.stringify(sitesSample?.data?.map((s) => s.id)) &&
      baselineSample?.meta?.total === sitesSample?.meta?.total;
    if (!sameShape) log('  WARNING: the baseline answer differs from OpsDeck\'s (keys, page ids or total); see baseline_check in the JSON');
    measured.push(await runPhase({ label, proc: baseline, port: baselinePort, phase: { id: 'baseline_sites_list', name: `bare node:http + pg, GET ${SITES_PATH}`, server: 'baseline', connections: options.connections, request: { method: 'GET', path: SITES_PATH } }, options }));
    await stopProcess(baseline);
  }

  const get = (id) => measured.find((m) => m.id === id)?.result;
  const sitesList = get('sites_list');
  const baselineList = get('baseline_sites_list');
  const ratio = sitesList && baselineList?.rps_mean ? round(sitesList.rps_mean / baselineList.rps_mean, 3) : null;
  const verdict = (ok) => (ok === null ? 'n/a' : ok ? 'met' : 'MISSED');
  // Phases left out with --phases have no target row.
  const targets = [
    ['ingest', () => ({ target: `ingestion p50 <= ${TARGETS.ingest_p50_ms} ms`, value: get('ingest').latency_ms.p50, verdict: verdict(get('ingest').latency_ms.p50 <= TARGETS.ingest_p50_ms) })],
    ['sites_list', () => ({ target: `GET /sites req/s >= ${TARGETS.sites_ratio_min} x bare node:http + pg`, value: ratio, verdict: verdict(ratio === null ? null : ratio >= TARGETS.sites_ratio_min) })],
    ['sites_list', () => ({ target: `GET /sites p99 <= ${TARGETS.sites_p99_ms} ms, closed loop of ${options.connections} connections`, value: sitesList.latency_ms.p99, verdict: verdict(sitesList.latency_ms.p99 <= TARGETS.sites_p99_ms) })],
    ['report_module_updates', () => ({ target: `module-updates report p50 <= ${TARGETS.report_p50_ms} ms`, value: get('report_module_updates').latency_ms.p50, verdict: verdict(get('report_module_updates').latency_ms.p50 <= TARGETS.report_p50_ms) })],
    ['report_patch_run', () => ({ target: `patch-run report p50 <= ${TARGETS.report_p50_ms} ms`, value: get('report_patch_run').latency_ms.p50, verdict: verdict(get('report_patch_run').latency_ms.p50 <= TARGETS.report_p50_ms) })],
  ]
    .filter(([id]) => get(id))
    .map(([, row]) => row());
  const atHalf = interleaved?.fixed_rate.find((run) => run.fraction_of_bare === TARGETS.sites_ratio_min);
  if (atHalf) {
    const p99 = atHalf.opsdeck.latency_ms.p99;
    const kept = atHalf.opsdeck.rps_mean >= 0.97 * atHalf.target_rps && atHalf.opsdeck.non_2xx + atHalf.opsdeck.errors + atHalf.opsdeck.timeouts === 0;
    targets.push({
      target: `GET /sites p99 <= ${TARGETS.sites_p99_ms} ms at ${TARGETS.sites_ratio_min} x bare req/s (${atHalf.target_rps} req/s fixed rate, ${options.connections} connections)`,
      value: p99,
      verdict: verdict(kept && p99 <= TARGETS.sites_p99_ms),
    });
  }
  return {
    database: embedded ? 'embedded PGlite' : 'external PostgreSQL',
    data,
    setup: { site_id: siteId, first_report_ms: first.ms, first_report: first.json?.data ?? null, second_report_ms: second.ms, second_report: second.json?.data ?? null, report_bytes: { A: JSON.stringify(reports.A).length, B: JSON.stringify(reports.B).length }, versions_changed_per_ingestion: reports.changed },
    probes,
    baseline_check: { same_shape_ids_and_total: sameShape, opsdeck_meta: sitesSample?.meta ?? null, baseline_meta: baselineSample?.meta ?? null },
    phases: measured,
    ratio_sites_list: ratio,
    interleaved,
    server_memory_at_end_mb: { rss: mb(after?.rss_kb), hwm: mb(after?.hwm_kb) },
    stopped,
    targets,
  };
}

/**
 * --interleave N (external PostgreSQL only): the bare server runs beside OpsDeck and the two take turns, N rounds of
 * GET /sites each, the order alternating, so a change of machine load between two windows cannot decide the ratio.
 */
async function measureInterleaved({ label, proc, port, databaseUrl, embedded, auth, options }) {
  if (options.interleave === 0 || !options.phases.includes('sites_list')) return null;
  if (embedded) {
    log(`[${label}] --interleave needs an external database (PGlite serves one process); skipped`);
    return null;
  }
  const baselinePort = await freePort();
  const baseline = spawnNode(`baseline-sites ${label} (interleaved)`, BASELINE, { PATH: process.env.PATH ?? '', PORT: String(baselinePort), HOST: '127.0.0.1', DATABASE_URL: databaseUrl });
  const rounds = [];
  const fixedRate = [];
  try {
    await waitUntilHealthy(baseline, baselinePort);
    const opsdeckTurn = (round) => runPhase({ label, proc, port, phase: { id: `sites_list_round_${round}`, name: `GET ${SITES_PATH}, round ${round}`, connections: options.connections, request: { method: 'GET', path: SITES_PATH, headers: auth } }, options });
    const baselineTurn = (round) => runPhase({ label, proc: baseline, port: baselinePort, phase: { id: `baseline_round_${round}`, name: `bare node:http + pg, GET ${SITES_PATH}, round ${round}`, server: 'baseline', connections: options.connections, request: { method: 'GET', path: SITES_PATH } }, options });
    for (let round = 1; round <= options.interleave; round++) {
      const opsdeckFirst = round % 2 === 1;
      const first = await (opsdeckFirst ? opsdeckTurn(round) : baselineTurn(round));
      const second = await (opsdeckFirst ? baselineTurn(round) : opsdeckTurn(round));
      const [o, b] = opsdeckFirst ? [first.result, second.result] : [second.result, first.result];
      const summary = (r) => ({ rps_mean: r.rps_mean, p50: r.latency_ms.p50, p95: r.latency_ms.p95, p99: r.latency_ms.p99, cpu_ms_per_request: r.cpu_ms_per_request, server_cpu_share: r.server_cpu_share, non_2xx: r.non_2xx, errors: r.errors + r.timeouts });
      rounds.push({ round, first: opsdeckFirst ? 'opsdeck' : 'baseline', opsdeck: summary(o), baseline: summary(b), ratio: b.rps_mean ? round3(o.rps_mean / b.rps_mean) : null });
    }
    const bareRps = median(rounds.map((r) => r.baseline.rps_mean));
    for (const fraction of options.fixedRates) {
      const rate = Math.round(fraction * bareRps);
      const opsdeckRun = await runFixedRatePhase({ label, proc, port, server: 'opsdeck', request: { method: 'GET', path: SITES_PATH, headers: auth }, rate, options });
      const bareRun = await runFixedRatePhase({ label, proc: baseline, port: baselinePort, server: 'baseline', request: { method: 'GET', path: SITES_PATH }, rate, options });
      fixedRate.push({ fraction_of_bare: fraction, target_rps: rate, opsdeck: opsdeckRun, baseline: bareRun });
    }
  } finally {
    await stopProcess(baseline);
  }
  return { rounds, median_ratio: median(rounds.map((r) => r.ratio)), fixed_rate: fixedRate };
}

/**
 * GET /sites at a fixed request rate (open loop, the same 50 connections at most): the latency a client sees when
 * the server is asked for a given load, instead of as much as it can take. With a closed loop of C connections
 * the mean latency is C / throughput whatever the server does, so a closed-loop p99 mostly restates throughput.
 */
async function runFixedRatePhase({ label, proc, port, server, request, rate, options }) {
  const tag = `[${label}] ${server === 'opsdeck' ? '' : 'bare node:http + pg, '}GET ${SITES_PATH} at ${rate} req/s (fixed rate), ${options.connections} connections`;
  if (options.warmup > 0) {
    log(`${tag}: warm-up ${options.warmup} s`);
    await measureFixedRate({ proc, port, request, connections: options.connections, rate, duration: options.warmup });
  }
  log(`${tag}: measuring ${options.duration} s`);
  const result = await measureFixedRate({ proc, port, request, connections: options.connections, rate, duration: options.duration });
  result.cpu_ms_per_request = result.server_cpu_s !== null ? round((result.server_cpu_s * 1000) / result.requests_total, 3) : null;
  if (result.non_2xx || result.errors || result.timeouts) log(`  WARNING: ${result.non_2xx} non-2xx (${JSON.stringify(result.status_codes)}), ${result.errors} errors, ${result.timeouts} timeouts`);
  log(`  ${result.rps_mean} req/s, p50 ${result.latency_ms.p50} ms, p95 ${result.latency_ms.p95} ms, p99 ${result.latency_ms.p99} ms, server CPU ${result.cpu_ms_per_request} ms/req`);
  return result;
}

function median(values) {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((x, y) => x - y);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : round3((sorted[mid - 1] + sorted[mid]) / 2);
}

const round3 = (value) => round(value, 3);

// ---------------------------------------------------------------------------------------------- report

function markdown(results) {
  const lines = [];
  const s = results.options.sizes;
  lines.push(`Data: ${s.organizations} organizations, ${s.sites} sites x ${s.modules} modules (catalog ${s.catalog}, ${s.versions} versions per project), ${s.patchRuns} patch runs per site, seed ${s.seed}.`);
  lines.push(`${results.options.duration} s measured per phase after ${results.options.warmup} s warm-up.`);
  for (const series of results.series) {
    const r = series.data.rows;
    lines.push('');
    lines.push(`### ${series.database}`);
    lines.push('');
    lines.push(`Generated in ${(series.data.total_ms / 1000).toFixed(1)} s: ${r.live_sites} live sites, ${r.site_modules} site modules (${r.update_available} update_available, ${r.security_update} security_update), ${r.module_versions} module versions, ${r.patch_runs} patch runs, ${r.patch_run_updates} updates.`);
    lines.push('');
    lines.push('| Phase | Server | Conns | requests | req/s | p50 ms | p95 ms | p99 ms | errors | non-2xx | peak RSS | server CPU | CPU ms/req | bytes/resp |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const phase of series.phases) {
      const l = phase.result;
      lines.push(
        `| ${phase.name} | ${phase.server} | ${phase.connections} | ${l.latency_ms.samples} | ${fmt(l.rps_mean)} | ${fmt(l.latency_ms.p50)} | ${fmt(l.latency_ms.p95)} | ${fmt(l.latency_ms.p99)} | ${l.errors + l.timeouts} | ${l.non_2xx} | ${fmt(l.memory_mb.peak_rss_sampled, ' MB')} | ${fmt(l.server_cpu_share === null ? null : Math.round(l.server_cpu_share * 100), '%')} | ${fmt(l.cpu_ms_per_request)} | ${fmt(l.bytes_per_response)} |`,
      );
    }
    lines.push('');
    lines.push(`GET /sites OpsDeck / bare node:http + pg = **${fmt(series.ratio_sites_list)}**; server peak RSS (VmHWM) at the end: ${fmt(series.server_memory_at_end_mb.hwm, ' MB')}.`);
    if (series.interleaved) {
      lines.push('');
      lines.push(`Interleaved (both servers up, alternating ${results.options.duration} s windows): median ratio **${fmt(series.interleaved.median_ratio)}**.`);
      lines.push('');
      lines.push('| Round | first | OpsDeck req/s | p99 ms | CPU ms/req | bare req/s | p99 ms | CPU ms/req | ratio |');
      lines.push('|---|---|---|---|---|---|---|---|---|');
      for (const r of series.interleaved.rounds) {
        lines.push(`| ${r.round} | ${r.first} | ${fmt(r.opsdeck.rps_mean)} | ${fmt(r.opsdeck.p99)} | ${fmt(r.opsdeck.cpu_ms_per_request)} | ${fmt(r.baseline.rps_mean)} | ${fmt(r.baseline.p99)} | ${fmt(r.baseline.cpu_ms_per_request)} | ${fmt(r.ratio)} |`);
      }
    }
    if (series.interleaved?.fixed_rate.length) {
      lines.push('');
      lines.push(`Fixed rate (open loop, at most ${results.options.connections} connections, latency from the scheduled send time), as fractions of the bare server's median closed-loop req/s:`);
      lines.push('');
      lines.push('| fraction | target req/s | server | req/s | p50 ms | p95 ms | p99 ms | max ms | CPU ms/req | errors | non-2xx |');
      lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
      for (const run of series.interleaved.fixed_rate) {
        for (const server of ['opsdeck', 'baseline']) {
          const l = run[server];
          lines.push(`| ${run.fraction_of_bare} | ${run.target_rps} | ${server} | ${fmt(l.rps_mean)} | ${fmt(l.latency_ms.p50)} | ${fmt(l.latency_ms.p95)} | ${fmt(l.latency_ms.p99)} | ${fmt(l.latency_ms.max)} | ${fmt(l.cpu_ms_per_request)} | ${l.errors + l.timeouts} | ${l.non_2xx} |`);
        }
      }
    }
    lines.push('');
    lines.push('| Target | Measured | Verdict |');
    lines.push('|---|---|---|');
    for (const t of series.targets) lines.push(`| ${t.target} | ${fmt(t.value)} | ${t.verdict} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(MAIN)) throw new Error(`${path.relative(ROOT, MAIN)} is missing: run \`npm run build\` first (or \`npm run bench:sites\`)`);
  if (existsSync(path.join(ROOT, '.env'))) log('warning: .env exists in the repository root; OpsDeck reads it, so variables the bench does not set may apply');
  if (options.database !== 'embedded') {
    try {
      psql('select 1');
    } catch (error) {
      throw new Error(`--external needs psql and a PostgreSQL at 127.0.0.1:5432 reachable as postgres: ${error.message}`);
    }
  }
  const knownVariables = await loadKnownVariables();
  const info = machine();
  const args = process.argv.slice(2).join(' ');
  const command = `npm run build && node bench/sites.bench.js${args ? ` ${args}` : ''}`;
  const startedAt = new Date().toISOString();
  log(machineLine(info));
  log(`command: ${command}`);
  const loadBefore = loadAverage();
  if (loadBefore.one > info.cpu_count * 0.5) log(`warning: load average is ${loadBefore.one} on ${info.cpu_count} CPUs before the run; other work will skew the figures`);
  log('');

  const results = {
    benchmark: 'opsdeck-sites',
    started_at: startedAt,
    command,
    options,
    machine: info,
    source: sourceState(),
    load_average: { before: loadBefore, after: null },
    server_limits: LIMITS,
    targets: TARGETS,
    series: [],
  };
  const series = [];
  if (options.database !== 'external') series.push({ label: 'embedded', databaseUrl: null });
  if (options.database !== 'embedded') series.push({ label: 'external', databaseUrl: 'create' });
  for (const item of series) {
    let databaseName = null;
    let databaseUrl = item.databaseUrl;
    if (databaseUrl === 'create') {
      const created = createExternalDatabase('opsdeck_bench_sites');
      databaseName = created.name;
      databaseUrl = created.url;
      log(`[external] created database ${databaseName}`);
    }
    results.series.push(await runSeries({ label: item.label, databaseUrl, knownVariables, options }));
    if (databaseName) {
      dropDatabaseSync(databaseName);
      log(`[external] dropped database ${databaseName}`);
    }
  }

  results.finished_at = new Date().toISOString();
  results.load_average.after = loadAverage();
  log('');
  log(machineLine(info));
  log(`load average (1 min): ${loadBefore.one} before, ${results.load_average.after.one} after; ${os.availableParallelism?.() ?? info.cpu_count} CPUs`);
  log(`command: ${command}`);
  log('');
  log(markdown(results));
  if (options.write) {
    const file = writeResults(options.quick ? 'sites-quick' : 'sites', results);
    log('');
    log(`raw results: ${path.relative(ROOT, file)}`);
  }
  await sleep(0);
}

runMain(main);
