/**
 * Turns a stream of arbitrary writes into fixed-size blocks uploaded with bounded
 * concurrency: S3 multipart parts and Azure staged blocks. Memory stays at most
 * `(maxInFlight + 1) * blockSize` whatever the part size, and `write` resolves only when
 * a block slot is free, so the format writer upstream feels the backpressure.
 */
export interface BlockPipelineOptions<R> {
  blockSize: number;
  maxInFlight: number;
  /** Upload one block; `index` counts from 0 in write order. */
  upload(index: number, block: Uint8Array): Promise<R>;
}

export class BlockPipeline<R> {
  private buf: Uint8Array;
  /** Buffers whose upload settled, reused so freed 8 MiB blocks do not pile up until a GC. */
  private readonly spare: Uint8Array[] = [];
  private fill = 0;
  private next = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly results: R[] = [];
  private failure: { error: unknown } | null = null;
  private aborted = false;

  constructor(private readonly options: BlockPipelineOptions<R>) {
    this.buf = new Uint8Array(options.blockSize);
  }

  /** True once at least one block has been handed to `upload`. */
  get started(): boolean {
    return this.next > 0;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.byteLength) {
      this.throwIfFailed();
      const n = Math.min(chunk.byteLength - off, this.buf.byteLength - this.fill);
      this.buf.set(chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === this.buf.byteLength) {
        await this.dispatch();
      }
    }
  }

  /** Bytes written but not yet dispatched (the whole object when `started` is false). */
  tail(): Uint8Array {
    return this.buf.subarray(0, this.fill);
  }

  /** Dispatch the tail as the last block (if any) and wait for every upload. Results are in block order. */
  async finish(): Promise<R[]> {
    if (this.fill > 0) await this.dispatch();
    await this.drain();
    this.throwIfFailed();
    return this.results;
  }

  /** Stop dispatching and wait until in-flight uploads settle; their errors are ignored. */
  async abort(): Promise<void> {
    this.aborted = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private async dispatch(): Promise<void> {
    if (this.aborted) throw new Error('upload was aborted');
    while (this.inFlight.size >= this.options.maxInFlight) {
      await Promise.race(this.inFlight);
      this.throwIfFailed();
    }
    const index = this.next++;
    const full = this.buf;
    const block = full.subarray(0, this.fill);
    // The dispatched buffer is owned by its upload until that settles; write into another.
    this.buf = this.spare.pop() ?? new Uint8Array(this.options.blockSize);
    this.fill = 0;
    const p: Promise<void> = this.options
      .upload(index, block)
      .then((r) => {
        this.results[index] = r;
      })
      .catch((error: unknown) => {
        if (!this.failure) this.failure = { error };
      })
      .finally(() => {
        this.inFlight.delete(p);
        this.spare.push(full);
      });
    this.inFlight.add(p);
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
