#!/usr/bin/env node
// OpsDeck health benchmark: start-up to ready, idle memory, and GET /api/health throughput against a bare
// node:http server answering the same body. Plain Node ESM; it builds nothing (`npm run bench` builds first).
//
//   npm run bench                                   # build, then the default run
//   node bench/health.bench.js [--duration 10] [--runs 5] [--connections 50] [--warmup 2] [--external]
//
// Every wait is bounded (30 s to ready, 15 s to stop, fixed load durations); children and temporary
// directories (and the --external database) are removed on success, on failure and on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createExternalDatabase,
  dropDatabaseSync,
  fmt,
  freePort,
  getOnce,
  HEALTH_PATH,
  integerInRange,
  installCleanupHandlers,
  loadAverage,
  loadKnownVariables,
  log,
  machine,
  MAIN,
  makeTempDir,
  mb,
  measureLoad,
  opsdeckEnv as benchEnv,
  psql,
  readProcStatus,
  round,
  ROOT,
  runMain,
  sourceState,
  spawnNode,
  stopProcess,
  summarize,
  waitUntilHealthy,
  warmUp,
  writeResults as writeResultsFile,
} from './lib.js';

const BASELINE = path.join(ROOT, 'bench', 'baseline-server.js');

const IDLE_WAIT_MS = 3_000;
const WARM_REQUESTS = 10;

const BENCH_JWT_SECRET = randomBytes(32).toString('hex');

const TARGETS = { startup_ms: 3_000, idle_rss_mb: 250 };

// ---------------------------------------------------------------------------------------------- options

function parseOptions(argv) {
  const options = { duration: 10, runs: 5, connections: 50, warmup: 2, external: false, write: true };
  const limits = { duration: [1, 120], runs: [1, 20], connections: [1, 1000], warmup: [0, 30] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: node bench/health.bench.js [--duration S] [--runs N] [--connections C] [--warmup S] [--external] [--no-write]\n',
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
    const match = /^--(duration|runs|connections|warmup)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument: ${arg} (try --help)`);
    const name = match[1];
    const raw = match[2] ?? argv[++i];
    options[name] = integerInRange(`--${name}`, raw, ...limits[name]);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------- shared

installCleanupHandlers();

function opsdeckEnv(port, dataDir, databaseUrl, knownVariables) {
  // Production refuses to start without a JWT secret; a throwaway per benchmark run.
  return benchEnv({ port, dataDir, databaseUrl, knownVariables, jwtSecret: BENCH_JWT_SECRET });
}

// ---------------------------------------------------------------------------------------------- start-up

/**
 * First start (creates the database and runs migrations) once, then `runs` timed restarts on the same data.
 * Each restart: spawn -> first 200 from /api/health, WARM_REQUESTS requests, IDLE_WAIT_MS idle, VmRSS/VmHWM.
 * The last instance is left running and returned for the load test.
 */
async function startupSeries({ label, runs, databaseUrl, knownVariables }) {
  const dataDir = makeTempDir('opsdeck-bench-');
  const start = async (name) => {
    const port = await freePort();
    const proc = spawnNode(name, MAIN, opsdeckEnv(port, dataDir, databaseUrl, knownVariables));
    const ready = await waitUntilHealthy(proc, port);
    return { proc, port, ready };
  };

  log(`[${label}] first start (creates the database, runs migrations) in ${dataDir}`);
  const first = await start(`${label} first start`);
  const firstHealth = JSON.parse(first.ready.response.body);
  const firstMemory = readProcStatus(first.proc.pid);
  const firstStop = await stopProcess(first.proc);
  if (firstStop.forced || firstStop.code !== 0) log(`  warning: first start stopped with ${JSON.stringify(firstStop)}`);
  log(`  ready after ${first.ready.ready_ms} ms; stopped in ${firstStop.shutdown_ms} ms`);

  const results = [];
  let live = null;
  for (let run = 1; run <= runs; run++) {
    const started = await start(`${label} restart ${run}`);
    for (let i = 0; i < WARM_REQUESTS; i++) {
      const response = await getOnce(started.port, HEALTH_PATH, 5_000);
      if (response.status !== 200) throw new Error(`${label}: warm request answered ${response.status || response.error}`);
    }
    await sleep(IDLE_WAIT_MS);
    const memory = readProcStatus(started.proc.pid);
    const row = {
      run,
      ready_ms: started.ready.ready_ms,
      poll_attempts: started.ready.attempts,
      idle_rss_mb: mb(memory?.rss_kb),
      idle_hwm_mb: mb(memory?.hwm_kb),
      threads: memory?.threads ?? null,
    };
    if (run < runs) {
      const stopped = await stopProcess(started.proc);
      row.shutdown_ms = stopped.shutdown_ms;
      row.exit = { code: stopped.code, signal: stopped.signal, forced: stopped.forced };
    } else {
      live = started;
    }
    results.push(row);
    log(`  restart ${run}: ready ${row.ready_ms} ms, idle RSS ${row.idle_rss_mb} MB (peak ${row.idle_hwm_mb} MB)`);
  }

  return {
    first_start: {
      ready_ms: first.ready.ready_ms,
      rss_mb: mb(firstMemory?.rss_kb),
      hwm_mb: mb(firstMemory?.hwm_kb),
      shutdown_ms: firstStop.shutdown_ms,
      exit: { code: firstStop.code, signal: firstStop.signal, forced: firstStop.forced },
      health: firstHealth,
    },
    restarts: results,
    ready_ms: summarize(results.map((r) => r.ready_ms)),
    idle_rss_mb: summarize(results.map((r) => r.idle_rss_mb)),
    idle_hwm_mb: summarize(results.map((r) => r.idle_hwm_mb)),
    live,
  };
}

// ---------------------------------------------------------------------------------------------- load

async function loadTest({ label, proc, port, connections, warmup, duration }) {
  const request = { method: 'GET', path: HEALTH_PATH };
  if (warmup > 0) {
    log(`[${label}] warm-up ${warmup} s at ${connections} connections`);
    await warmUp({ port, request, connections, duration: warmup });
  }
  log(`[${label}] measuring ${duration} s at ${connections} connections`);
  return measureLoad({ proc, port, request, connections, duration });
}

// ---------------------------------------------------------------------------------------------- report

function markdown(results) {
  const lines = [];
  const verdict = (value, target) => (value === null ? 'n/a' : value <= target ? 'met' : '**missed**');
  lines.push('| Benchmark | Result | Target |');
  lines.push('|---|---|---|');
  for (const series of results.startup) {
    const name = series.database;
    const s = series.ready_ms;
    const r = series.idle_rss_mb;
    lines.push(`| Start-up to first 200, ${name}, first start (migrations) | ${fmt(series.first_start.ready_ms, ' ms')} | |`);
    lines.push(
      `| Start-up to first 200, ${name}, median of ${s.n} (min / max) | ${fmt(s.median, ' ms')} (${fmt(s.min)} / ${fmt(s.max)}) | < ${TARGETS.startup_ms} ms: ${verdict(s.median, TARGETS.startup_ms)} |`,
    );
    lines.push(
      `| Idle RSS after start-up, ${name}, median (min / max) | ${fmt(r.median, ' MB')} (${fmt(r.min)} / ${fmt(r.max)}) | < ${TARGETS.idle_rss_mb} MB: ${verdict(r.median, TARGETS.idle_rss_mb)} |`,
    );
    lines.push(`| Peak RSS (VmHWM) at idle, ${name}, median | ${fmt(series.idle_hwm_mb.median, ' MB')} | |`);
  }
  lines.push('');
  lines.push(`GET ${HEALTH_PATH}, ${results.options.connections} connections, ${results.options.duration} s after ${results.options.warmup} s warm-up:`);
  lines.push('');
  lines.push('| Server | req/s (mean) | p50 ms | p95 ms | p99 ms | errors | non-2xx | peak RSS under load | server CPU |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const load of results.load) {
    const l = load.result;
    lines.push(
      `| ${load.server} | ${fmt(l.rps_mean)} | ${fmt(l.latency_ms.p50)} | ${fmt(l.latency_ms.p95)} | ${fmt(l.latency_ms.p99)} | ${l.errors + l.timeouts} | ${l.non_2xx} | ${fmt(l.memory_mb.peak_rss_sampled, ' MB')} | ${fmt(l.server_cpu_share === null ? null : Math.round(l.server_cpu_share * 100), '% of a core')} |`,
    );
  }
  lines.push('');
  for (const ratio of results.ratios) lines.push(`${ratio.label}: ${ratio.value}`);
  return lines.join('\n');
}

function writeResults(results) {
  return writeResultsFile('health', results);
}

// ---------------------------------------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(MAIN)) throw new Error(`${path.relative(ROOT, MAIN)} is missing: run \`npm run build\` (or \`npm run bench\`)`);
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
  const command = `npm run build && node bench/health.bench.js${args ? ` ${args}` : ''}`;
  const startedAt = new Date().toISOString();

  log(`machine: ${info.os}; ${info.cpu_count} x ${info.cpu_model}; node ${info.node}; ${info.total_memory_gb} GB RAM`);
  log(`command: ${command}`);
  const loadBefore = loadAverage();
  if (loadBefore.one > info.cpu_count * 0.5) {
    log(`warning: load average is ${loadBefore.one} on ${info.cpu_count} CPUs before the run; other work will skew the figures`);
  }
  log('');

  const results = {
    benchmark: 'opsdeck-health',
    started_at: startedAt,
    command,
    options,
    machine: info,
    source: sourceState(),
    load_average: { before: loadBefore, after: null },
    targets: TARGETS,
    startup: [],
    load: [],
    ratios: [],
  };

  const series = [{ label: 'embedded', databaseUrl: null }];
  if (options.external) series.push({ label: 'external', databaseUrl: 'create' });

  let baselineBody = null;
  let baselineContentType = null;
  for (const item of series) {
    let databaseName = null;
    if (item.databaseUrl === 'create') {
      const created = createExternalDatabase();
      databaseName = created.name;
      item.databaseUrl = created.url;
      log(`[external] created database ${databaseName}`);
    }
    const startup = await startupSeries({ label: item.label, runs: options.runs, databaseUrl: item.databaseUrl, knownVariables });
    const { live } = startup;
    delete startup.live;
    results.startup.push({ database: item.label === 'embedded' ? 'embedded PGlite' : 'external PostgreSQL', ...startup });

    // A real body, copied for the bare node:http server (first series only: both servers answer the same bytes).
    const sampleResponse = await getOnce(live.port, HEALTH_PATH, 5_000);
    if (sampleResponse.status !== 200) throw new Error(`health answered ${sampleResponse.status || sampleResponse.error}`);
    if (baselineBody === null) {
      baselineBody = sampleResponse.body;
      baselineContentType = sampleResponse.headers['content-type'];
    }
    const load = await loadTest({ label: `opsdeck ${item.label}`, ...live, connections: options.connections, warmup: options.warmup, duration: options.duration });
    results.load.push({ server: `OpsDeck (${item.label === 'embedded' ? 'embedded PGlite' : 'external PostgreSQL'})`, result: load });
    const stopped = await stopProcess(live.proc);
    results.startup[results.startup.length - 1].last_instance_exit = stopped;
    if (databaseName) {
      dropDatabaseSync(databaseName);
      log(`[external] dropped database ${databaseName}`);
    }
  }

  // The bare node:http reference, same body and content type, in its own process.
  const baselinePort = await freePort();
  const baseline = spawnNode('baseline-server', BASELINE, {
    PATH: process.env.PATH ?? '',
    PORT: String(baselinePort),
    HOST: '127.0.0.1',
    BENCH_BODY: baselineBody,
    BENCH_CONTENT_TYPE: baselineContentType ?? 'application/json; charset=utf-8',
  });
  const baselineReady = await waitUntilHealthy(baseline, baselinePort);
  const baselineIdle = readProcStatus(baseline.pid);
  const baselineLoad = await loadTest({ label: 'baseline node:http', proc: baseline, port: baselinePort, connections: options.connections, warmup: options.warmup, duration: options.duration });
  baselineLoad.ready_ms = baselineReady.ready_ms;
  baselineLoad.memory_mb.idle_rss = mb(baselineIdle?.rss_kb);
  results.load.push({ server: 'bare node:http', result: baselineLoad });
  await stopProcess(baseline);
  results.baseline_body = baselineBody;
  results.baseline_content_type = baselineContentType;

  for (const load of results.load.slice(0, -1)) {
    const value = baselineLoad.rps_mean ? round(load.result.rps_mean / baselineLoad.rps_mean, 3) : null;
    results.ratios.push({ label: `${load.server} req/s / bare node:http req/s`, value });
  }
  const rateLimited = results.load.reduce((sum, l) => sum + l.result.rate_limited_429, 0);
  if (rateLimited > 0) log(`\nWARNING: ${rateLimited} responses were 429 Too Many Requests; /api/health should be exempt from rate limiting`);

  results.finished_at = new Date().toISOString();
  results.load_average.after = loadAverage();
  log('');
  log(`machine: ${info.os}; ${info.cpu_count} x ${info.cpu_model}; node ${info.node}; ${info.total_memory_gb} GB RAM`);
  log(`load average (1 min): ${loadBefore.one} before, ${results.load_average.after.one} after`);
  log(`command: ${command}`);
  log('');
  log(markdown(results));
  if (options.write) {
    const file = writeResults(results);
    log('');
    log(`raw results: ${path.relative(ROOT, file)}`);
  }
}

runMain(main);
