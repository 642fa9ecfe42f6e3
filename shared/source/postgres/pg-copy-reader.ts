import { i16, i32, u32 } from './big-endian.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordBatch, Schema } from 'apache-arrow';
import type pg from 'pg';
import { RivetError } from '../../errors/rivet-error.js';
import { firstBatchRows, nextBatchRows } from '../batch-sizing.js';
import type { BufferPool } from '../buffer-pool.js';
import { SizeMemo } from '../column-builders.js';
import { fieldCountError, PgBatchBuilder } from './pg-batch-builder.js';
import type { PgColumnSpec } from './pg-decoders.js';
import { PgRawQuery } from './pg-raw-query.js';

/** `COPY (<query>) TO STDOUT (FORMAT binary)`; the prefix length maps server error positions back to the user's SQL. */
export const COPY_PREFIX = 'COPY (\n';
const COPY_SUFFIX = '\n) TO STDOUT (FORMAT binary)';

/** `PGCOPY\n\377\r\n\0`: the fixed start of a binary COPY stream. */
const SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
/** Signature, int32 flags, int32 header-extension length. */
const HEADER_FIXED = SIGNATURE.length + 8;
const FLAG_OIDS = 1 << 16;

function protocolError(what: string): RivetError {
  return new RivetError('SOURCE_QUERY', `unexpected binary COPY stream from PostgreSQL: ${what}`, { hint: 'rerun the export; if it persists, report it' });
}

/** Where decoded tuples go: a batch builder and how many rows fill it. */
export interface CopyTarget {
  builder: PgBatchBuilder;
  rows: number;
}

/** `field` value while the next unconsumed byte starts a tuple (or the trailer), not a field. */
const AT_TUPLE = -1;

/**
 * Decodes a binary COPY stream into batch builders in one pass. The stream arrives as
 * CopyData payloads whose boundaries mean nothing: a tuple, a single value or the header can
 * span several of them. Fields are decoded in place as they arrive; when a field is not
 * wholly in the payload, decoding stops before it, only the bytes from that field on are
 * carried, and the next payload resumes the tuple at that field. A tuple counts as a row once
 * complete, so a batch is cut only between tuples.
 */
export class PgCopyParser {
  private carry = Buffer.alloc(0);
  private carryLen = 0;
  private headerDone = false;
  /** The field of the current tuple the carried bytes start with, or AT_TUPLE. */
  private field = AT_TUPLE;
  private builder: PgBatchBuilder;
  private rows: number;
  /** True once the trailer (field count −1) was seen. */
  ended = false;

  /** `onFull` is called when the current builder holds its `rows` and names the next one. */
  constructor(
    first: CopyTarget,
    private readonly onFull: (full: PgBatchBuilder) => CopyTarget,
  ) {
    this.builder = first.builder;
    this.rows = first.rows;
  }

  /** Call once the server reported the COPY complete: throws unless the stream ended with its trailer. */
  finish(): void {
    if (this.ended) return;
    if (this.headerDone && (this.field !== AT_TUPLE || this.carryLen > 0)) throw protocolError('the stream ended inside a row');
    throw protocolError('the stream ended without its trailer');
  }

  push(buf: Buffer, start: number, end: number): void {
    if (this.ended) {
      if (end > start) throw protocolError('data after the trailer');
      return;
    }
    if (this.carryLen === 0) {
      const used = this.parse(buf, start, end);
      if (used < end) this.append(buf, used, end);
      return;
    }
    this.append(buf, start, end);
    const used = this.parse(this.carry, 0, this.carryLen);
    if (used > 0) {
      this.carry.copyWithin(0, used, this.carryLen);
      this.carryLen -= used;
    }
    // Do not keep a multi-MB carry buffer alive once the big value is through.
    if (this.carryLen === 0 && this.carry.length > 1024 * 1024) this.carry = Buffer.alloc(0);
  }

  /**
   * The CopyData messages (5-byte header, then payload) that lie wholly in `buf[pos..end)`
   * from `pos` on, stopping at the first other message; returns the offset past the last one
   * taken. Same result as `push` per payload; the common case, one whole tuple per payload
   * with nothing carried, goes straight to the builder.
   */
  pushMessages(buf: Buffer, pos: number, end: number): number {
    while (end - pos >= 5 && buf[pos] === 0x64) {
      const next = pos + 1 + u32(buf, pos + 1);
      if (next > end) break;
      const s = pos + 5;
      const b = this.builder;
      if (this.carryLen === 0 && this.field === AT_TUPLE && this.headerDone && !this.ended && next - s >= 2 && i16(buf, s) === b.fieldCount) {
        const q = b.continueRow(buf, s, s + 2, next, 0);
        if (q < 0) {
          this.field = b.stopField;
          this.append(buf, b.stopAt, next);
        } else {
          if (b.rows === this.rows) this.next(b);
          if (q < next) {
            const used = this.parse(buf, q, next);
            if (used < next) this.append(buf, used, next);
          }
        }
      } else {
        this.push(buf, s, next);
      }
      pos = next;
    }
    return pos;
  }

  private append(buf: Buffer, start: number, end: number): void {
    const need = this.carryLen + (end - start);
    if (need > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.carry.length * 2, 64 * 1024));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    buf.copy(this.carry, this.carryLen, start, end);
    this.carryLen = need;
  }

  /** Decode everything complete in buf[pos..end); returns the offset of the first byte to carry. */
  private parse(buf: Buffer, pos: number, end: number): number {
    if (!this.headerDone) {
      if (end - pos < HEADER_FIXED) return pos;
      if (!buf.subarray(pos, pos + SIGNATURE.length).equals(SIGNATURE)) throw protocolError('bad signature');
      const flags = i32(buf, pos + SIGNATURE.length);
      if (flags & FLAG_OIDS) throw protocolError('tuples carry OIDs');
      const extension = i32(buf, pos + SIGNATURE.length + 4);
      if (extension < 0) throw protocolError('negative header extension length');
      if (end - pos < HEADER_FIXED + extension) return pos;
      pos += HEADER_FIXED + extension;
      this.headerDone = true;
    }
    let b = this.builder;
    if (this.field !== AT_TUPLE) {
      const p = b.continueRow(buf, pos, pos, end, this.field);
      if (p < 0) {
        this.field = b.stopField;
        return b.stopAt;
      }
      this.field = AT_TUPLE;
      pos = p;
      if (b.rows === this.rows) b = this.next(b);
    }
    const fields = b.fieldCount;
    while (end - pos >= 2) {
      const n = i16(buf, pos);
      if (n !== fields) {
        if (n !== -1) throw fieldCountError(n, fields);
        this.ended = true;
        if (pos + 2 !== end) throw protocolError('data after the trailer');
        return end;
      }
      const p = b.continueRow(buf, pos, pos + 2, end, 0);
      if (p < 0) {
        this.field = b.stopField;
        return b.stopAt;
      }
      pos = p;
      if (b.rows === this.rows) b = this.next(b);
    }
    return pos;
  }

  private next(full: PgBatchBuilder): PgBatchBuilder {
    const t = this.onFull(full);
    this.builder = t.builder;
    this.rows = t.rows;
    return t.builder;
  }
}

export interface CopyReadOptions {
  schema: Schema;
  columns: PgColumnSpec[];
  batchSize: number;
  /** Byte budget per batch (batch-sizing.ts). */
  batchBytes: number;
  maxValueMb: number;
  throttleMs?: number;
  signal?: AbortSignal;
  /** Ask the server to stop the running statement; resolves once the request was delivered (or failed). */
  cancel: () => Promise<void>;
  /** Finished batches held ahead of the consumer before the socket is paused. */
  highWater?: number;
  /** Recycled column memory (ReadOptions.bufferPool). */
  bufferPool?: BufferPool;
  /** ReadOptions.rowCeiling: the most rows a later batch may take. */
  rowCeiling?: () => number;
}

/**
 * Streams `COPY (<body>) TO STDOUT (FORMAT binary)` as Arrow batches of `batchSize` rows.
 * Runs inside the caller's transaction. Memory stays bounded: once `highWater` finished
 * batches wait for the consumer, the socket is paused and the server blocks on its send
 * buffer until the consumer catches up. Abort, an early stop by the consumer or a decode
 * error cancel the COPY on the server; the connection is back in sync when this returns.
 */
export async function* readCopyBatches(client: pg.Client, body: string, o: CopyReadOptions): AsyncGenerator<RecordBatch> {
  const highWater = Math.max(1, o.highWater ?? 2);
  // The same batch sequence as the cursor path (batch-sizing.ts), so both read methods cut
  // identical batches.
  let want = firstBatchRows(o.batchSize);
  let builder = new PgBatchBuilder(o.schema, o.columns, want, o.maxValueMb, o.columns.map(() => new SizeMemo(o.bufferPool ?? null)));
  const ready: RecordBatch[] = [];
  let failure: unknown = null;
  let serverError: unknown = null;
  let settled = false;
  let stopped = false;
  let cancelling: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const parser = new PgCopyParser({ builder, rows: want }, (full) => {
    const got = { rows: full.rows, bytes: full.bytes };
    ready.push(full.finish());
    want = Math.max(1, Math.min(nextBatchRows(got, o.batchSize, o.batchBytes), o.rowCeiling?.() ?? o.batchSize));
    builder = full.successor(want);
    if (ready.length >= highWater) query.pause();
    notify();
    return { builder, rows: want };
  });
  const query = new PgRawQuery(`${COPY_PREFIX}${body}${COPY_SUFFIX}`, {
    onCopyData: (buf, start, end) => {
      if (stopped) return;
      try {
        parser.push(buf, start, end);
      } catch (e) {
        failure = e;
        stop();
      }
    },
    onCopyRun: (buf, start, end) => {
      // Once stopped, hand the messages to onCopyData, which drops them.
      if (stopped) return start;
      try {
        return parser.pushMessages(buf, start, end);
      } catch (e) {
        failure = e;
        stop();
        return start;
      }
    },
  });
  /** Stop consuming: cancel the COPY if it still runs and let the rest of the reply drain. */
  const stop = () => {
    if (!stopped) {
      stopped = true;
      if (!settled) cancelling = o.cancel();
      query.resume();
    }
    notify();
  };
  const onAbort = () => stop();

  const finished = query.done.then(
    () => undefined,
    (e: unknown) => {
      serverError = e;
    },
  );
  void finished.finally(() => {
    settled = true;
    notify();
  });
  o.signal?.addEventListener('abort', onAbort);
  client.query(query);
  try {
    for (;;) {
      if (failure) throw failure;
      o.signal?.throwIfAborted();
      if (settled && serverError) throw serverError;
      const next = ready.shift();
      if (next) {
        if (ready.length < highWater) query.resume();
        yield next;
        if (o.throttleMs && o.throttleMs > 0) await sleep(o.throttleMs, undefined, { signal: o.signal });
        continue;
      }
      if (settled) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    parser.finish();
    if (builder.rows > 0) yield builder.finish();
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    if (!settled) stop();
    await finished;
    // The cancel request must have reached the server before the caller's next statement, or it could hit that one.
    if (cancelling) await cancelling;
  }
}
