import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Turns a driver that pushes rows as events (mysql2's `result`, tedious's `row`) into the
 * pull-based stream `Source.read` returns. The driver's handlers `push` finished batches,
 * pause their stream and let the consumer catch up; `batches()` hands them on one at a time
 * and calls `resume` only when it has nothing left to hand on, so at most the batches cut
 * before the pause wait in memory.
 *
 * The pump knows nothing about connections: pausing, cancelling and cleaning up stay with
 * the engine, which reads `ended` to know whether the statement is still on the wire.
 */
export class BatchPump<B> {
  private readonly queue: B[] = [];
  private failure: unknown = null;
  private done = false;
  private wake: (() => void) | null = null;

  constructor(private readonly resume: () => void) {}

  /** The driver reported the end of the result (or its failure): nothing more will be pushed. */
  get ended(): boolean {
    return this.done;
  }

  /** A failure was recorded; the consumer sees it once the batches before it are taken. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** A batch is ready for the consumer. */
  push(batch: B): void {
    this.queue.push(batch);
    this.notify();
  }

  /** Stop with `e` (the first failure wins), while the statement may still be running. */
  fail(e: unknown): void {
    this.failure ??= e;
    this.notify();
  }

  /** The statement is over, with `e` when it failed. */
  end(e?: unknown): void {
    this.done = true;
    if (e) this.failure ??= e;
    this.notify();
  }

  /** Wake the consumer (an abort: it will find the signal aborted). */
  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * The pushed batches in order, until the end or the first failure. Sleeps `throttleMs`
   * after each batch; the signal stops the wait and the stream.
   */
  async *batches(signal: AbortSignal | undefined, throttleMs: number | undefined): AsyncGenerator<B> {
    for (;;) {
      signal?.throwIfAborted();
      const next = this.queue.shift();
      if (next) {
        yield next;
        if (throttleMs && throttleMs > 0) await sleep(throttleMs, undefined, { signal });
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.done) return;
      const woken = new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.resume();
      await woken;
    }
  }
}
