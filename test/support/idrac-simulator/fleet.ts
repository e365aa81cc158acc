import { IdracSimulator, type IdracSimulatorOptions } from './idrac-simulator.js';

export interface IdracFleetOptions extends Omit<IdracSimulatorOptions, 'port'> {
  readonly count: number;
  /** First port; simulator i listens on basePort + i. 0 (default): each takes a free port. */
  readonly basePort?: number;
  /** Per-simulator overrides, e.g. faults for some of them. */
  readonly overrides?: (index: number) => Partial<IdracSimulatorOptions>;
}

export const MAX_FLEET_SIZE = 2000;

/** N simulators on loopback, started together; stop() stops them all. */
export class IdracFleet {
  private constructor(readonly simulators: readonly IdracSimulator[]) {}

  static async start(options: IdracFleetOptions): Promise<IdracFleet> {
    const { count, basePort = 0, overrides, ...shared } = options;
    if (!Number.isInteger(count) || count < 1 || count > MAX_FLEET_SIZE) {
      throw new Error(`count must be 1..${MAX_FLEET_SIZE}`);
    }
    if (!Number.isInteger(basePort) || basePort < 0 || (basePort > 0 && (basePort < 1024 || basePort + count - 1 > 65535))) {
      throw new Error('basePort must be 0 or leave room for count ports within 1024..65535');
    }
    const simulators: IdracSimulator[] = [];
    const fleet = new IdracFleet(simulators);
    try {
      // In batches, so a large fleet does not open thousands of listeners in one tick.
      for (let first = 0; first < count; first += 50) {
        const batch = Array.from({ length: Math.min(50, count - first) }, (_, j) => {
          const index = first + j;
          const simulator = new IdracSimulator({
            ...shared,
            ...overrides?.(index),
            port: basePort === 0 ? 0 : basePort + index,
          });
          simulators.push(simulator);
          return simulator.start();
        });
        const results = await Promise.allSettled(batch);
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  get size(): number {
    return this.simulators.length;
  }

  async stop(): Promise<void> {
    await Promise.all(this.simulators.map((s) => s.stop()));
  }
}

export function startIdracFleet(options: IdracFleetOptions): Promise<IdracFleet> {
  return IdracFleet.start(options);
}
