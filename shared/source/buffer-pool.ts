import type { Data, RecordBatch } from 'apache-arrow';

/** Buffers smaller than this are not worth keeping. */
const MIN_BYTES = 16 * 1024;
/** A spare buffer serves a request of at least this share of its size, so big buffers are not spent on small columns. */
const MIN_FILL = 0.5;

/**
 * Column memory recycled from one batch of a read to the next. Every batch used to get fresh
 * ArrayBuffers; the old ones outlived the young generation, so only full garbage collections
 * freed them — about one per 64 MB of batches (5M narrow rows: ~40 mark-compacts, 0.5 s of the
 * main thread). The consumer hands a batch back once nothing refers to its memory any more
 * (export-chunk.ts: after the format writer's `write` resolved — writers copy what they keep);
 * the source's column builders take from here first. Handing back is optional: a read whose
 * batches are kept (tests, previews) never passes a pool.
 */
export class BufferPool {
  private readonly spare: ArrayBuffer[] = [];
  private spareBytes = 0;

  constructor(private readonly maxSpareBytes = 64 * 1024 * 1024) {}

  /** An ArrayBuffer of at least `bytes` whose first `bytes` are zero. */
  take(bytes: number): ArrayBuffer {
    if (bytes >= MIN_BYTES) {
      let best = -1;
      for (let i = 0; i < this.spare.length; i++) {
        const n = this.spare[i].byteLength;
        if (n >= bytes && n * MIN_FILL <= bytes && (best < 0 || n < this.spare[best].byteLength)) best = i;
      }
      if (best >= 0) {
        const b = this.spare[best];
        this.spare[best] = this.spare[this.spare.length - 1];
        this.spare.pop();
        this.spareBytes -= b.byteLength;
        new Uint8Array(b, 0, bytes).fill(0);
        return b;
      }
    }
    return new ArrayBuffer(bytes);
  }

  /** The memory of a batch its consumer is done with: no view of it may be used afterwards. */
  giveBatch(batch: RecordBatch): void {
    const seen = new Set<ArrayBufferLike>();
    const visit = (d: Data): void => {
      for (const a of [d.values, d.valueOffsets, d.nullBitmap] as (ArrayBufferView | undefined)[]) {
        if (a && a.buffer instanceof ArrayBuffer && !seen.has(a.buffer)) {
          seen.add(a.buffer);
          this.give(a.buffer);
        }
      }
      for (const c of d.children) visit(c);
    };
    for (const d of batch.data.children) visit(d);
  }

  private give(b: ArrayBuffer): void {
    if (b.byteLength < MIN_BYTES || this.spareBytes + b.byteLength > this.maxSpareBytes) return;
    this.spare.push(b);
    this.spareBytes += b.byteLength;
  }
}
