// Shared plumbing for the OpsDeck benchmarks (bench/*.bench.js): starting and stopping the built server,
// bounded waits, clean-up on every exit path, /proc sampling, autocannon runs with exact percentiles, an
// external database per run, and the machine/source description stored with the results. Plain Node ESM.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
export const HEALTH_PATH = '/api/health';

export const READY_TIMEOUT_MS = 30_000;
export const POLL_INTERVAL_MS = 25;
export const POLL_REQUEST_TIMEOUT_MS = 1_000;
export const STOP_TIMEOUT_MS = 15_000; // OpsDeck drains for up to SHUTDOWN_TIMEOUT_MS (10 s by default)
export const KILL_TIMEOUT_MS = 5_000;
export const RSS_SAMPLE_MS = 250;
export const OUTPUT_TAIL_CHARS = 16_384;
export const MAX_LATENCY_SAMPLES = 20_000_000;

// ---------------------------------------------------------------------------------------------- cleanup

const liveChildren = new Set();
const tempDirs = new Set();
const externalDatabases = new Set();

export function dropDatabaseSync(name) {
  try {
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAtc', `drop database if exists "${name}" with (force)`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 15_000,
    });
    externalDatabases.delete(name);
  } catch (error) {
    process.stderr.write(`warning: could not drop database ${name}: ${error.message}\n`);
  }
}

/** Synchronous last resort: runs from 'exit', so only kill -9, rm and a bounded psql. */
export function cleanupSync() {
  for (const proc of liveChildren) {
    try {
      proc.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const name of [...externalDatabases]) dropDatabaseSync(name);
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      process.stderr.write(`warning: could not remove ${dir}: ${error.message}\n`);
    }
  }
  tempDirs.clear();
}

/** Graceful clean-up: SIGTERM every child (bounded), then the synchronous part. */
export async function cleanup() {
  await Promise.all([...liveChildren].map((proc) => stopProcess(proc).catch(() => undefined)));
  cleanupSync();
}

/** Children, temporary directories and databases go on exit, on failure and on Ctrl-C. Call once. */
export function installCleanupHandlers() {
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping children and removing temporary files\n`);
      const hardExit = setTimeout(() => process.exit(130), STOP_TIMEOUT_MS + KILL_TIMEOUT_MS);
      hardExit.unref();
      cleanup().finally(() => process.exit(130));
    });
  }
}

/** A new temporary directory that clean-up removes. */
export function makeTempDir(prefix = 'opsdeck-bench-') {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Runs main(), then cleans up and exits 0; on failure prints the reason, cleans up and exits 1. */
export function runMain(main) {
  main()
    .then(() => cleanup())
    .then(() => process.exit(0))
    .catch(async (error) => {
      process.stderr.write(`\nbenchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
      await cleanup().catch(() => undefined);
      process.exit(1);
    });
}

// ---------------------------------------------------------------------------------------------- processes

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `node [nodeArgs] <script> [args]` from the repository root (config/ and package.json are read from the cwd).
 */
export function spawnNode(label, script, env, { args = [], nodeArgs = [] } = {}) {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { label, child, pid: child.pid, spawnedAt, output: '', stdoutBytes: 0, exit: null };
  const keep = (chunk) => {
    proc.output = (proc.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', (chunk) => {
    proc.stdoutBytes += chunk.length;
    keep(chunk);
  });
  child.stderr.on('data', keep);
  proc.exited = new Promise((resolve) => {
    const done = (code, signal, error) => {
      if (proc.exit) return;
      proc.exit = { code, signal, error: error?.message ?? null };
      liveChildren.delete(proc);
      resolve(proc.exit);
    };
    child.once('exit', (code, signal) => done(code, signal));
    child.once('error', (error) => done(null, null, error));
  });
  liveChildren.add(proc);
  return proc;
}

export function describeExit(proc) {
  const { code, signal, error } = proc.exit ?? {};
  const how = error ? `failed to spawn (${error})` : `exited with ${signal ?? `code ${code}`}`;
  return `${proc.label} ${how}; last output:\n${proc.output.trim() || '(none)'}`;
}

/** SIGTERM, then SIGKILL after STOP_TIMEOUT_MS. Returns how long the process took to exit. */
export async function stopProcess(proc) {
  if (proc.exit) return { shutdown_ms: 0, code: proc.exit.code, signal: proc.exit.signal, forced: false };
  const started = performance.now();
  proc.child.kill('SIGTERM');
  let forced = false;
  const first = await Promise.race([proc.exited, sleep(STOP_TIMEOUT_MS, null)]);
  if (!first) {
    forced = true;
    proc.child.kill('SIGKILL');
    await Promise.race([proc.exited, sleep(KILL_TIMEOUT_MS, null)]);
  }
  return {
    shutdown_ms: round(performance.now() - started),
    code: proc.exit?.code ?? null,
    signal: proc.exit?.signal ?? null,
    forced,
  };
}

/**
 * One request on a fresh connection, loopback only. Never rejects: failures come back as { status: 0, error }.
 * A `json` value is sent as the body with Content-Type: application/json.
 */
export function requestOnce(port, { method = 'GET', path: urlPath, headers = {}, json, timeoutMs = 5_000 }) {
  return new Promise((resolve) => {
    const body = json === undefined ? null : Buffer.from(JSON.stringify(json), 'utf8');
    const allHeaders = body ? { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers } : headers;
    const request = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: allHeaders, agent: false, timeout: timeoutMs }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', (error) => resolve({ status: 0, error: error.code ?? error.message }));
    });
    request.on('timeout', () => request.destroy(new Error('request timeout')));
    request.on('error', (error) => resolve({ status: 0, error: error.code ?? error.message }));
    request.end(body ?? undefined);
  });
}

/** One GET on a fresh connection. Never rejects: failures come back as { status: 0, error }. */
export function getOnce(port, urlPath, timeoutMs) {
  return requestOnce(port, { method: 'GET', path: urlPath, timeoutMs });
}

/** Polls GET /api/health every POLL_INTERVAL_MS until a 200, the process exits, or READY_TIMEOUT_MS passes. */
export async function waitUntilHealthy(proc, port) {
  const deadline = proc.spawnedAt + READY_TIMEOUT_MS;
  const maxAttempts = Math.ceil(READY_TIMEOUT_MS / POLL_INTERVAL_MS) + 1;
  let last = null;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (proc.exit) throw new Error(describeExit(proc));
    const remaining = deadline - performance.now();
    if (remaining <= 0) break;
    const response = await getOnce(port, HEALTH_PATH, Math.min(POLL_REQUEST_TIMEOUT_MS, remaining));
    if (response.status === 200) {
      return { ready_ms: round(performance.now() - proc.spawnedAt), attempts: attempt, response };
    }
    last = response.status ? `HTTP ${response.status}` : response.error;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`${proc.label} not healthy within ${READY_TIMEOUT_MS} ms (last: ${last}); output:\n${proc.output.trim()}`);
}

// ---------------------------------------------------------------------------------------------- /proc

export function readProcStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => {
      const match = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
      return match ? Number(match[1]) : null;
    };
    const threads = /^Threads:\s+(\d+)/m.exec(text);
    return { rss_kb: kb('VmRSS'), hwm_kb: kb('VmHWM'), threads: threads ? Number(threads[1]) : null };
  } catch {
    return null; // not Linux, or the process is gone
  }
}

let clockTicks = null;
export function cpuSeconds(pid) {
  try {
    if (clockTicks === null) {
      try {
        clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5_000 }).trim()) || 100;
      } catch {
        clockTicks = 100;
      }
    }
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime + stime
  } catch {
    return null;
  }
}

export const mb = (kb) => (kb === null || kb === undefined ? null : round(kb / 1024, 1));

// ---------------------------------------------------------------------------------------------- numbers

/** A command-line integer within [min, max]; anything else stops the run with a message naming the option. */
export function integerInRange(name, raw, min, max) {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max} (got ${raw})`);
  }
  return value;
}

export function round(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function summarize(values) {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  if (sorted.length === 0) return { min: null, median: null, max: null, n: 0 };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median: round(median, 1), max: sorted[sorted.length - 1], n: sorted.length };
}

/** Nearest-rank percentile over a sorted typed array. */
export function percentile(sorted, count, p) {
  if (count === 0) return null;
  const rank = Math.min(count, Math.max(1, Math.ceil((p / 100) * count)));
  return round(sorted[rank - 1], 2);
}

// ---------------------------------------------------------------------------------------------- environment

/**
 * The environment of an OpsDeck child: the caller's, minus every variable OpsDeck reads, plus ours. Production
 * refuses to start without JWT_SECRET, so the caller passes a throwaway one; `extra` adds or overrides variables.
 */
export function opsdeckEnv({ port, dataDir, databaseUrl, knownVariables, jwtSecret, extra = {} }) {
  const env = { ...process.env };
  // Nothing from the caller's shell may steer the server: drop every variable OpsDeck reads, then set ours.
  for (const name of knownVariables) delete env[name];
  Object.assign(env, {
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    JWT_SECRET: jwtSecret,
    ...extra,
  });
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return env;
}

export async function loadKnownVariables() {
  const fallback = ['DATABASE_URL', 'REDIS_URL', 'LOG_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'RUN_MIGRATIONS'];
  try {
    const module = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'config', 'environment-variables.js')).href);
    return [...new Set([...module.ENVIRONMENT_VARIABLES.map((v) => v.name), ...fallback])];
  } catch {
    return fallback;
  }
}

// ---------------------------------------------------------------------------------------------- load

/**
 * Watches a server process while load runs: peak RSS (VmRSS sampled every RSS_SAMPLE_MS, and VmHWM after), its CPU
 * time and what it wrote to stdout. `finish()` stops the sampling and returns the figures.
 */
export function observeServer(proc) {
  let peakRssKb = 0;
  let samples = 0;
  const sample = () => {
    const status = readProcStatus(proc.pid);
    if (status?.rss_kb) {
      peakRssKb = Math.max(peakRssKb, status.rss_kb);
      samples++;
    }
  };
  const before = readProcStatus(proc.pid);
  const cpuBefore = cpuSeconds(proc.pid);
  const stdoutBefore = proc.stdoutBytes;
  const wallStarted = performance.now();
  sample();
  const sampler = setInterval(sample, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(sampler);
    },
    finish() {
      this.stop();
      sample();
      const wallSeconds = (performance.now() - wallStarted) / 1000;
      const cpuAfter = cpuSeconds(proc.pid);
      const after = readProcStatus(proc.pid);
      if (proc.exit) throw new Error(describeExit(proc));
      const serverCpu = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
      return {
        memory_mb: {
          rss_before: mb(before?.rss_kb),
          peak_rss_sampled: mb(peakRssKb || null),
          rss_samples: samples,
          rss_after: mb(after?.rss_kb),
          hwm_after: mb(after?.hwm_kb),
        },
        server_cpu_s: round(serverCpu, 2),
        server_cpu_share: serverCpu !== null ? round(serverCpu / wallSeconds, 2) : null,
        server_stdout_bytes: proc.stdoutBytes - stdoutBefore,
      };
    },
  };
}

/** Latency percentiles (ms) over the first `count` entries of a Float64Array, which it sorts in place. */
function latencySummary(latencies, count, capped) {
  const sorted = latencies.subarray(0, count).sort();
  return {
    mean: round(count ? sorted.reduce((sum, v) => sum + v, 0) / count : null, 2),
    p50: percentile(sorted, count, 50),
    p95: percentile(sorted, count, 95),
    p99: percentile(sorted, count, 99),
    max: count ? round(sorted[count - 1], 2) : null,
    samples: count,
    capped,
  };
}

/**
 * One measured autocannon run against a running server: req/s, exact latency percentiles from every response,
 * status codes, and the server's peak RSS and CPU time (observeServer).
 * `request` is { method, path, headers, body } (body a string); the warm-up, if any, is the caller's business.
 */
export async function measureLoad({ proc, port, request, connections, duration }) {
  const url = `http://127.0.0.1:${port}${request.path}`;
  let latencies = new Float64Array(1 << 20);
  let count = 0;
  let capped = false;
  const statuses = {};
  const observer = observeServer(proc);
  let result;
  try {
    const instance = autocannon({ ...autocannonRequest(request), url, connections, duration });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (count === latencies.length) {
        if (latencies.length >= MAX_LATENCY_SAMPLES) {
          capped = true;
          return;
        }
        const grown = new Float64Array(Math.min(latencies.length * 2, MAX_LATENCY_SAMPLES));
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTime;
    });
    result = await instance;
  } finally {
    observer.stop();
  }
  const server = observer.finish();
  return {
    url,
    connections,
    duration_s: result.duration,
    requests_total: result.requests.total,
    rps_mean: round(result.requests.mean, 1),
    rps_stddev: round(result.requests.stddev, 1),
    latency_ms: latencySummary(latencies, count, capped),
    autocannon_latency_ms: {
      p50: result.latency.p50,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non_2xx: result.non2xx,
    rate_limited_429: statuses[429] ?? 0,
    status_codes: statuses,
    bytes_per_response: result.requests.total ? round(result.throughput.total / result.requests.total, 1) : null,
    ...server,
  };
}

export const FIXED_RATE_REQUEST_TIMEOUT_MS = 10_000;
const FIXED_RATE_TICK_MS = 1;

/**
 * Open-loop load (as wrk2 does it): `rate` requests a second on a fixed schedule for `duration` seconds, over at
 * most `connections` keep-alive connections. Each latency runs from the moment the schedule says the request is
 * due, so time spent waiting for a free connection (or for a late timer) counts: a server that falls behind
 * shows it in the percentiles instead of quietly slowing the load down. autocannon's own rate limit cannot do
 * this: it sends each connection's quota for the second at once and then pauses. Bounded: rate x duration
 * requests, each with a FIXED_RATE_REQUEST_TIMEOUT_MS timeout.
 */
export async function measureFixedRate({ proc, port, request, connections, rate, duration }) {
  const total = Math.max(1, Math.round(rate * duration));
  const latencies = new Float64Array(total);
  const statuses = {};
  let count = 0;
  let errors = 0;
  let timeouts = 0;
  let bytes = 0;
  let sent = 0;
  let settled = 0;
  let lastEnded = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const observer = observeServer(proc);
  const started = performance.now();
  try {
    await new Promise((resolve) => {
      const send = (index) => {
        const due = started + (index * 1000) / rate;
        let timedOut = false;
        let ended = false;
        const end = (statusCode) => {
          if (ended) return;
          ended = true;
          lastEnded = performance.now();
          if (statusCode === undefined) {
            if (timedOut) timeouts++;
            else errors++;
          } else {
            statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
            latencies[count++] = lastEnded - due;
          }
          if (++settled === total) resolve();
        };
        const options = { agent, host: '127.0.0.1', port, method: request.method ?? 'GET', path: request.path, headers: request.headers ?? {} };
        const outgoing = http.request(options, (response) => {
          response.on('data', (chunk) => {
            bytes += chunk.length;
          });
          response.on('end', () => end(response.statusCode));
          response.on('error', () => end());
        });
        outgoing.setTimeout(FIXED_RATE_REQUEST_TIMEOUT_MS, () => {
          timedOut = true;
          outgoing.destroy();
        });
        outgoing.on('error', () => end());
        outgoing.on('close', () => end());
        outgoing.end(request.body);
      };
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
        while (sent < due) send(sent++);
        if (sent < total) setTimeout(tick, FIXED_RATE_TICK_MS);
      };
      tick();
    });
  } finally {
    observer.stop();
    agent.destroy();
  }
  const server = observer.finish();
  const seconds = (lastEnded - started) / 1000;
  const ok = Object.entries(statuses).reduce((sum, [code, n]) => sum + (code >= 200 && code < 300 ? n : 0), 0);
  return {
    url: `http://127.0.0.1:${port}${request.path}`,
    connections,
    target_rps: rate,
    duration_s: round(seconds, 2),
    requests_total: total,
    rps_mean: round(count / seconds, 1),
    latency_ms: latencySummary(latencies, count, false),
    latency_from: 'scheduled send time (open loop; waiting for a connection counts)',
    errors,
    timeouts,
    non_2xx: count - ok,
    rate_limited_429: statuses[429] ?? 0,
    status_codes: statuses,
    bytes_per_response: count ? round(bytes / count, 1) : null,
    ...server,
  };
}

/** An unmeasured autocannon run (warm-up) with the same request. */
export async function warmUp({ port, request, connections, duration }) {
  await autocannon({ ...autocannonRequest(request), url: `http://127.0.0.1:${port}${request.path}`, connections, duration });
}

function autocannonRequest(request) {
  const options = {};
  if (request.method && request.method !== 'GET') options.method = request.method;
  if (request.headers && Object.keys(request.headers).length > 0) options.headers = request.headers;
  if (request.body !== undefined) options.body = request.body;
  // A sequence each connection cycles through (e.g. two alternating reports, or several sites' paths).
  if (Array.isArray(request.requests) && request.requests.length > 0) options.requests = request.requests;
  return options;
}

// ---------------------------------------------------------------------------------------------- external

export function psql(sql) {
  return execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15_000,
  });
}

/** A new, empty database on the local PostgreSQL; clean-up drops it. */
export function createExternalDatabase(prefix = 'opsdeck_bench') {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  psql(`create database "${name}"`);
  externalDatabases.add(name);
  return { name, url: `postgresql://postgres@127.0.0.1:5432/${name}` };
}

// ---------------------------------------------------------------------------------------------- report

export function machine() {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu_model: cpus[0]?.model?.trim() ?? 'unknown',
    cpu_count: cpus.length,
    available_parallelism: os.availableParallelism?.() ?? cpus.length,
    node: process.version,
    total_memory_gb: round(os.totalmem() / 1024 ** 3, 1),
  };
}

/** Which code was measured: the commit, and whether tracked files differed from it (read-only git calls). */
export function sourceState() {
  const git = (args) =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }).trim();
  try {
    return { commit: git(['rev-parse', 'HEAD']), tracked_changes: git(['status', '--porcelain', '--untracked-files=no']) !== '' };
  } catch {
    return { commit: null, tracked_changes: null };
  }
}

/** Other work on the machine skews every figure here; the 1-minute load average is recorded with the results. */
export function loadAverage() {
  const [one, five, fifteen] = os.loadavg();
  return { one: round(one, 2), five: round(five, 2), fifteen: round(fifteen, 2) };
}

export function log(message) {
  process.stdout.write(`${message}\n`);
}

export const fmt = (value, unit = '') => (value === null || value === undefined ? 'n/a' : `${value}${unit}`);

export function machineLine(info) {
  return `machine: ${info.os}; ${info.cpu_count} x ${info.cpu_model}; node ${info.node}; ${info.total_memory_gb} GB RAM`;
}

/** Writes bench/results/<name>-<ISO time>.json atomically; returns the path. */
export function writeResults(name, results) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = results.started_at.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = path.join(RESULTS_DIR, `${name}-${stamp}.json`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}

export function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * One call to the API as the benchmarks' set-up makes it: Bearer token or X-API-Key, JSON in and out. Throws unless
 * the status is `expect` (or one of them) when given; adds the parsed `json` and the time taken in `ms`.
 */
export async function api(port, method, urlPath, { token, apiKey, json, expect, timeoutMs = 30_000 } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (apiKey) headers['X-API-Key'] = apiKey;
  const started = performance.now();
  const response = await requestOnce(port, { method, path: urlPath, headers, json, timeoutMs });
  const ms = round(performance.now() - started, 1);
  const expected = Array.isArray(expect) ? expect : expect === undefined ? null : [expect];
  if (expected && !expected.includes(response.status)) {
    throw new Error(`${method} ${urlPath} answered ${response.status || response.error} (expected ${expected.join('/')}): ${response.body ?? ''}`.slice(0, 800));
  }
  return { ...response, ms, json: response.body ? safeJson(response.body) : null };
}

/** Samples VmRSS of the named processes every intervalMs until stop(), which returns each one's peak in MB. */
export function rssSampler(procs, intervalMs = RSS_SAMPLE_MS) {
  const peaks = Object.fromEntries(Object.keys(procs).map((name) => [name, 0]));
  let samples = 0;
  const sample = () => {
    samples++;
    for (const [name, proc] of Object.entries(procs)) {
      const status = readProcStatus(proc.pid);
      if (status?.rss_kb) peaks[name] = Math.max(peaks[name], status.rss_kb);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { samples, peak_rss_mb: Object.fromEntries(Object.entries(peaks).map(([name, kb]) => [name, mb(kb || null)])) };
    },
  };
}
