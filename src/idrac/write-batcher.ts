/**
 * Coalesces small database writes made by concurrent work: an item added while a write runs joins the next
 * write, which takes everything queued by then. With nothing in flight an item is written at once, so a lone
 * caller waits no longer than before; under load N items cost one statement instead of N. add() resolves once
 * the item is stored and rejects when its write fails.
 */
export class WriteBatcher<T> {
  private queued: T[] = [];
  private writing: Promise<void> | null = null;

  constructor(private readonly write: (items: readonly T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    this.queued.push(item);
    this.writing ??= this.drain();
    return this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        await this.write(batch);
      }
    } finally {
      // Synchronously after the last look at the queue: an item added later starts a new drain.
      this.writing = null;
    }
  }
}
