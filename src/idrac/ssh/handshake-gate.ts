/**
 * Lets at most `slots` SSH logins through their key exchange at once, first come first served.
 *
 * A login costs a few milliseconds of CPU on the event loop (Diffie-Hellman, the host-key signature check,
 * ssh2's packet handling) and the rest of a session almost none. When a deployment starts 50 sessions together,
 * 50 key exchanges interleave on one thread and every one of them finishes late; the sessions then stay in
 * step, so each later batch starts its logins together again. Queueing the logins makes the first ones finish
 * at once and spreads the batch out for good (bench/README.md, "iDRAC key deployment").
 *
 * A slot is held until the login ends or for `maxHoldMs`, whichever comes first, so a server that never
 * answers delays the others by at most that; its own connect timeout still runs.
 */
export class HandshakeGate {
  private inUse = 0;
  private readonly waiting: Array<() => void> = [];

  /** `slots` 0 lets every login through at once. */
  constructor(
    private readonly slots: number,
    private readonly maxHoldMs: number = DEFAULT_MAX_HOLD_MS,
  ) {
    if (!Number.isInteger(slots) || slots < 0) throw new RangeError('slots must be a non-negative integer');
    if (!Number.isInteger(maxHoldMs) || maxHoldMs <= 0) throw new RangeError('maxHoldMs must be a positive integer');
  }

  /** Waits for a slot; the returned function gives it back (calling it again does nothing). */
  async enter(): Promise<() => void> {
    if (this.slots === 0) return () => undefined;
    if (this.inUse < this.slots) this.inUse++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));

    let held = true;
    const leave = (): void => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so inUse stays the same.
      if (next) next();
      else this.inUse--;
    };
    const timer = setTimeout(leave, this.maxHoldMs);
    timer.unref();
    return leave;
  }

  /** Logins holding a slot and logins waiting for one. */
  get load(): { readonly inUse: number; readonly waiting: number } {
    return { inUse: this.inUse, waiting: this.waiting.length };
  }
}

/** Longer than a key exchange on loopback or a LAN (10–30 ms here under load), far shorter than a timeout. */
export const DEFAULT_MAX_HOLD_MS = 100;
