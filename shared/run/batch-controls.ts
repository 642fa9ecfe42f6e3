import { DataType, type Data, type RecordBatch } from 'apache-arrow';
import { RivetError } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import type { Source } from '../source/source.js';

/**
 * The per-batch controls of one task's read (docs/modes.md): the `max_batch_memory_mb` cap on a
 * batch's Arrow bytes with its `on_batch_memory_exceeded` policy, and `adaptive: true` batch
 * sizing that follows the source's pressure counter. Both act on the rows the source may put
 * in its next batches (ReadOptions.rowCeiling); `auto_shrink` also splits the batch in hand.
 */
export interface BatchControlOptions {
  /** `export 'orders' task 3`, for log lines. */
  label: string;
  batchSize: number;
  maxBatchMemoryMb: number | null;
  onExceeded: 'warn' | 'fail' | 'auto_shrink';
  adaptive: boolean;
  log: Logger;
  /** A second connection to the source, for pressure samples while the first one reads. */
  openMonitor: () => Promise<Source>;
}

/** Batches between two pressure samples (docs/modes.md). */
export const ADAPTIVE_SAMPLE_EVERY = 10;
/** The adaptive floor, unless `batch_size` itself is lower. */
export const ADAPTIVE_MIN_ROWS = 500;

const MIB = 1024 * 1024;

export class BatchControls {
  private ceiling: number;
  private batches = 0;
  private monitor: Source | null = null;
  private monitorFailed = false;
  private lastPressure: number | null = null;

  constructor(private readonly o: BatchControlOptions) {
    this.ceiling = o.batchSize;
  }

  /** Rows the source may put in its next batch. */
  readonly rowCeiling = (): number => this.ceiling;

  get active(): boolean {
    return this.o.maxBatchMemoryMb !== null || this.o.adaptive;
  }

  /**
   * The batches to write for `batch`: itself, or with `auto_shrink` its halves, recursively,
   * until each fits the cap. `fail` throws BATCH_MEMORY_EXCEEDED; `warn` only warns.
   */
  cap(batch: RecordBatch): RecordBatch[] {
    const limitMb = this.o.maxBatchMemoryMb;
    if (limitMb === null || batch.numRows === 0) return [batch];
    const bytes = arrowBytes(batch);
    if (bytes <= limitMb * MIB) return [batch];
    const mb = bytes / MIB;
    const suggested = Math.max(1, Math.floor((batch.numRows * limitMb) / mb));
    const facts = `a batch of ${batch.numRows} rows holds ${mb.toFixed(1)} MB of Arrow memory, over max_batch_memory_mb ${limitMb} MB`;
    if (this.o.onExceeded === 'fail') {
      throw new RivetError('BATCH_MEMORY_EXCEEDED', `${this.o.label}: ${facts}`, {
        hint: `lower tuning.batch_size to about ${suggested}, or set tuning.on_batch_memory_exceeded: auto_shrink`,
      });
    }
    if (this.o.onExceeded === 'warn') {
      this.o.log.warn(`${this.o.label}: ${facts}; a batch_size of about ${suggested} would fit`);
      return [batch];
    }
    const next = Math.min(this.ceiling, suggested);
    this.o.log.warn(`${this.o.label}: ${facts}; it is written in halves that fit, and later batches take at most ${next} rows (auto_shrink)`);
    this.ceiling = next;
    return this.halves(batch, limitMb * MIB);
  }

  private halves(batch: RecordBatch, limit: number): RecordBatch[] {
    if (arrowBytes(batch) <= limit) return [batch];
    if (batch.numRows <= 1) {
      this.o.log.warn(`${this.o.label}: a single row holds ${(arrowBytes(batch) / MIB).toFixed(1)} MB, over max_batch_memory_mb; it is written as it is`);
      return [batch];
    }
    const half = Math.ceil(batch.numRows / 2);
    return [...this.halves(batch.slice(0, half), limit), ...this.halves(batch.slice(half), limit)];
  }

  /** After each batch from the source: every ADAPTIVE_SAMPLE_EVERY batches, follow the pressure. */
  async afterBatch(): Promise<void> {
    if (!this.o.adaptive || ++this.batches % ADAPTIVE_SAMPLE_EVERY !== 0) return;
    const now = await this.sample();
    if (now === null) return;
    const before = this.lastPressure;
    this.lastPressure = now;
    if (before === null) return;
    const floor = Math.min(ADAPTIVE_MIN_ROWS, this.o.batchSize);
    const from = this.ceiling;
    if (now > before) {
      this.ceiling = Math.max(floor, Math.floor((from * 3) / 4));
      if (this.ceiling !== from) this.o.log.info(`${this.o.label}: adaptive batch size ${from} → ${this.ceiling} rows: source pressure rose, backing off`);
    } else {
      this.ceiling = Math.min(this.o.batchSize, Math.max(from + 1, Math.floor((from * 5) / 4)));
      if (this.ceiling !== from) this.o.log.info(`${this.o.label}: adaptive batch size ${from} → ${this.ceiling} rows: source pressure eased, recovering`);
    }
  }

  private async sample(): Promise<number | null> {
    if (this.monitorFailed) return null;
    try {
      this.monitor ??= await this.o.openMonitor();
      return (await this.monitor.pressure?.()) ?? null;
    } catch (e) {
      this.monitorFailed = true;
      this.o.log.warn(`${this.o.label}: adaptive batch sizing could not watch the source (${(e as Error).message}); batch sizes stay as they are`);
      return null;
    }
  }

  async close(): Promise<void> {
    const m = this.monitor;
    this.monitor = null;
    await m?.close().catch(() => {});
  }
}

/** The Arrow bytes a batch's rows occupy (slices count only their own rows). */
export function arrowBytes(batch: RecordBatch): number {
  let n = 0;
  for (const child of batch.data.children) n += dataBytes(child);
  return n;
}

function dataBytes(data: Data): number {
  const length = data.length;
  let n = data.nullBitmap && data.nullBitmap.length > 0 ? Math.ceil(length / 8) : 0;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array | undefined;
  if (offsets && offsets.length > length) {
    n += (length + 1) * offsets.BYTES_PER_ELEMENT;
    const start = Number(offsets[0]);
    const end = Number(offsets[length]);
    if (data.children.length > 0) {
      // A list: its values are the child's rows between the first and last offset.
      for (const c of data.children) n += dataBytes(c.slice(start, end - start));
    } else if (data.values) {
      n += (end - start) * (data.values as Uint8Array).BYTES_PER_ELEMENT;
    }
    return n;
  }
  if (DataType.isBool(data.type)) n += Math.ceil(length / 8);
  else if (data.values) {
    // Builders pad their buffers: count the rows' own bytes.
    const values = data.values as Uint8Array;
    n += Math.min(values.byteLength, length * data.stride * values.BYTES_PER_ELEMENT);
  }
  for (const c of data.children) n += dataBytes(c);
  return n;
}
