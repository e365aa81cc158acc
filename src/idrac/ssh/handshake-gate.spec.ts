import { jest } from '@jest/globals';
import { HandshakeGate } from './handshake-gate.js';

describe('HandshakeGate', () => {
  afterEach(() => jest.useRealTimers());

  it('lets `slots` logins in and queues the rest in arrival order', async () => {
    const gate = new HandshakeGate(2);
    const leaveA = await gate.enter();
    const leaveB = await gate.enter();
    const order: string[] = [];
    const c = gate.enter().then((leave) => (order.push('c'), leave));
    const d = gate.enter().then((leave) => (order.push('d'), leave));
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(gate.load).toEqual({ inUse: 2, waiting: 2 });

    leaveA();
    const leaveC = await c;
    expect(order).toEqual(['c']);
    expect(gate.load).toEqual({ inUse: 2, waiting: 1 });

    leaveB();
    const leaveD = await d;
    expect(order).toEqual(['c', 'd']);
    leaveC();
    leaveD();
    expect(gate.load).toEqual({ inUse: 0, waiting: 0 });
  });

  it('gives a slot back once however often it is left', async () => {
    const gate = new HandshakeGate(1);
    const leave = await gate.enter();
    leave();
    leave();
    expect(gate.load).toEqual({ inUse: 0, waiting: 0 });
    const again = await gate.enter();
    expect(gate.load).toEqual({ inUse: 1, waiting: 0 });
    again();
  });

  it('takes a slot back from a login that holds it longer than maxHoldMs', async () => {
    jest.useFakeTimers();
    const gate = new HandshakeGate(1, 100);
    const leaveHung = await gate.enter();
    let next: (() => void) | null = null;
    void gate.enter().then((leave) => (next = leave));
    await jest.advanceTimersByTimeAsync(99);
    expect(next).toBeNull();
    await jest.advanceTimersByTimeAsync(1);
    expect(next).not.toBeNull();
    // The hung login finishing later does not free a second slot.
    leaveHung();
    expect(gate.load).toEqual({ inUse: 1, waiting: 0 });
    next!();
    expect(gate.load).toEqual({ inUse: 0, waiting: 0 });
  });

  it('with 0 slots lets everything through', async () => {
    const gate = new HandshakeGate(0);
    const leaves = await Promise.all(Array.from({ length: 100 }, () => gate.enter()));
    expect(leaves).toHaveLength(100);
    expect(gate.load).toEqual({ inUse: 0, waiting: 0 });
  });

  it('refuses nonsense limits', () => {
    expect(() => new HandshakeGate(-1)).toThrow(RangeError);
    expect(() => new HandshakeGate(1.5)).toThrow(RangeError);
    expect(() => new HandshakeGate(1, 0)).toThrow(RangeError);
  });
});
