import { parseArgs } from 'node:util';
import { IdracFleet, MAX_FLEET_SIZE } from './fleet.js';
import { isLoopback } from './idrac-simulator.js';

/**
 * `npm run idrac:simulate -- --count N --base-port P`: a fleet of simulated iDRACs on loopback for manual
 * tries and benchmarks. Runs until Ctrl-C / SIGTERM, or for --duration seconds.
 */

const usage = `usage: npm run idrac:simulate -- [options]
  --count N          simulators to start (1-${MAX_FLEET_SIZE}, default 1)
  --base-port P      first port; simulator i listens on P+i (default 0: free ports)
  --host H           loopback address (default 127.0.0.1)
  --username U       login (default root)
  --password P       password (default calvin)
  --user-index I     the login's iDRAC user index (default 2)
  --format F         sshpkauth view output: banner | line (default banner)
  --algorithms A     legacy (group14-sha1, ssh-rsa only; default) | modern
  --latency-ms MS    added per command (default 0)
  --keyboard-interactive-only
  --slots-full       every slot of every user holds a key
  --duration S       stop after S seconds (default: run until interrupted)
  --json             print the endpoints as one JSON document
  --help`;

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      'base-port': { type: 'string' },
      host: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      'user-index': { type: 'string' },
      format: { type: 'string' },
      algorithms: { type: 'string' },
      'latency-ms': { type: 'string' },
      'keyboard-interactive-only': { type: 'boolean' },
      'slots-full': { type: 'boolean' },
      duration: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const host = values.host ?? '127.0.0.1';
  if (!isLoopback(host)) throw new Error('--host must be a loopback address');
  const format = values.format ?? 'banner';
  if (format !== 'banner' && format !== 'line') throw new Error('--format is banner or line');
  const algorithms = values.algorithms ?? 'legacy';
  if (algorithms !== 'legacy' && algorithms !== 'modern') throw new Error('--algorithms is legacy or modern');
  const count = integer('count', values.count, 1, 1, MAX_FLEET_SIZE);
  const durationS = integer('duration', values.duration, 0, 0, 7 * 24 * 3600);

  const started = Date.now();
  const fleet = await IdracFleet.start({
    count,
    basePort: integer('base-port', values['base-port'], 0, 0, 65535),
    host,
    username: values.username,
    password: values.password,
    userIndex: integer('user-index', values['user-index'], 2, 1, 16),
    outputFormat: format,
    algorithms,
    faults: {
      latencyMs: integer('latency-ms', values['latency-ms'], 0, 0, 600_000),
      keyboardInteractiveOnly: values['keyboard-interactive-only'] ?? false,
      slotsFull: values['slots-full'] ?? false,
    },
  });
  const endpoints = fleet.simulators.map((s) => ({ host: s.host, port: s.port, host_key: s.hostKeyFingerprint }));
  if (values.json) {
    console.log(JSON.stringify({ username: fleet.simulators[0].username, endpoints }));
  } else {
    for (const e of endpoints) console.log(`${e.host}:${e.port}  ${e.host_key}`);
    const first = fleet.simulators[0];
    console.log(
      `${count} simulated iDRAC(s) up in ${Date.now() - started} ms; login ${first.username}, user index ${first.userIndex}.`,
    );
    console.log(
      `Try: ssh -p ${first.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
        `-o KexAlgorithms=+diffie-hellman-group14-sha1 -o HostKeyAlgorithms=+ssh-rsa ${first.username}@${host} racadm getversion`,
    );
  }

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void fleet.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (durationS > 0) setTimeout(stop, durationS * 1000);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
