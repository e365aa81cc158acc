import { describe, expect, it } from '@jest/globals';
import { WriteBatcher } from './write-batcher.js';

describe('WriteBatcher', () => {
  it('writes a lone item at once and batches what arrives during a write', async () => {
    const writes: number[][] = [];
    let release: () => void = () => undefined;
    const batcher = new WriteBatcher<number>(async (items) => {
      writes.push([...items]);
      if (writes.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    const first = batcher.add(1);
    expect(writes).toEqual([[1]]);
    const later = [batcher.add(2), batcher.add(3), batcher.add(4)];
    release();
    await Promise.all([first, ...later]);
    expect(writes).toEqual([[1], [2, 3, 4]]);
    await batcher.add(5);
    expect(writes).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('rejects the callers whose write failed and keeps working afterwards', async () => {
    let fail = true;
    const written: number[] = [];
    const batcher = new WriteBatcher<number>((items) => {
      if (fail) return Promise.reject(new Error('database down'));
      written.push(...items);
      return Promise.resolve();
    });
    await expect(batcher.add(1)).rejects.toThrow('database down');
    fail = false;
    await batcher.add(2);
    expect(written).toEqual([2]);
  });

  it('never leaves an item added just as a drain ends unwritten', async () => {
    const written: number[] = [];
    const batcher = new WriteBatcher<number>((items) => {
      written.push(...items);
      return Promise.resolve();
    });
    const adds: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      adds.push(batcher.add(i));
      if (i % 7 === 0) await Promise.resolve();
    }
    await Promise.all(adds);
    expect(written.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
