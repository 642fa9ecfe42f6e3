import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { createXXHash128, type IHasher } from 'hash-wasm';
import { RivetError } from '../errors/rivet-error.js';
import { BOUNDARY_FLAG_COLUMN } from '../source/sql-dialect.js';
import type { CursorStore } from '../state/cursor-store.js';
import type { BoundaryTask } from './cursor-window.js';

/**
 * The rows at the edge of an incremental cursor, exported exactly once.
 *
 * A run reads `cursor >= since` (the stored cursor minus the look-back) instead of
 * `cursor > cursor`, so rows that tie the stored cursor, or commit late with a cursor inside
 * the look-back, are seen again. Each such row is identified by a 16-byte xxh128 of its
 * cursor value(s) and key (`cursor_key_columns`, else the table's primary key, else every
 * column), and dropped when the stored boundary already holds that identity. The identities
 * of every row at or above the next `since` — exported now or earlier — become the next
 * boundary, committed with the cursor after `_SUCCESS`.
 *
 * The SQL marks the rows that matter in BOUNDARY_FLAG_COLUMN (bit 1: at or below the stored
 * cursor, so possibly exported before; bit 2: at or above the next `since`), so only those
 * are hashed. The stored set is a multiset: two identical rows without a key count twice.
 */

/** Identities kept between runs, at most: 1.6 MB of state. Above it the run fails before committing. */
export const MAX_BOUNDARY_ROWS = 100_000;
export const ID_BYTES = 16;

/** The identity label stored with a boundary; a change of key means stored identities no longer compare. */
export function identityLabel(keyColumns: string[] | null): string {
  return keyColumns ? `key:${JSON.stringify(keyColumns)}` : 'row';
}

/** The columns a cursor value is made of: the cursor column, and its fallback under `coalesce`. */
export function cursorColumns(inc: { cursorColumn: string; fallbackColumn?: string }): string[] {
  return inc.fallbackColumn ? [inc.cursorColumn, inc.fallbackColumn] : [inc.cursorColumn];
}

function keyColumnsOf(identity: string): string[] | null {
  return identity.startsWith('key:') ? (JSON.parse(identity.slice(4)) as string[]) : null;
}

const encoder = new TextEncoder();

/** A cell as bytes that differ whenever the values differ: raw fixed-width bytes where Arrow has them, text otherwise. */
function cellBytes(vector: Vector, i: number): Uint8Array {
  if (!vector.isValid(i)) return encoder.encode('\u0000null');
  const type = vector.type;
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return encoder.encode(vector.get(i) as string);
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return vector.get(i) as Uint8Array;
  const data = vector.data[0];
  const values = data.values as ArrayLike<unknown> & ArrayBufferView;
  const fixedWidth = DataType.isInt(type) || DataType.isFloat(type) || DataType.isDate(type) || DataType.isTime(type) ||
    DataType.isTimestamp(type) || DataType.isDecimal(type) || DataType.isFixedSizeBinary(type) || DataType.isInterval(type) || DataType.isDuration(type);
  if (fixedWidth && vector.data.length === 1 && ArrayBuffer.isView(values)) {
    // Sliced Data carries its values buffer already cut at the slice, so element i is at stride * i.
    const width = (values as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT * data.stride;
    return new Uint8Array(values.buffer, values.byteOffset + width * i, width);
  }
  return encoder.encode(JSON.stringify(vector.get(i), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
}

function hex(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}

/** Worker side of one incremental task: filters batches and gathers the next boundary. */
export class BoundaryFilter {
  private readonly near: Uint8Array[] = [];

  private constructor(
    private readonly exportName: string,
    private readonly columns: string[] | null,
    private readonly exported: Map<string, number>,
    private readonly hasher: IHasher,
  ) {}

  /** Loads the identities the plan was made against, and refuses a boundary that changed since. */
  static async open(exportName: string, task: BoundaryTask, cursorColumns: string[], state: CursorStore): Promise<BoundaryFilter> {
    const exported = new Map<string, number>();
    if (task.baseRunId !== null) {
      const stored = await state.getBoundary(exportName);
      if (!stored || stored.runId !== task.baseRunId || stored.cursor !== task.from || stored.identity !== task.identity) {
        throw new RivetError('STATE', `export '${exportName}': the stored cursor boundary changed after this run was planned (another run committed in between)`, {
          hint: 'runs of one incremental export must not overlap; run it again',
        });
      }
      for (let at = 0; at + ID_BYTES <= stored.ids.length; at += ID_BYTES) {
        const k = hex(stored.ids.subarray(at, at + ID_BYTES));
        exported.set(k, (exported.get(k) ?? 0) + 1);
      }
    }
    const keys = keyColumnsOf(task.identity);
    const columns = keys ? [...new Set([...cursorColumns, ...keys])] : null;
    return new BoundaryFilter(exportName, columns, exported, await createXXHash128());
  }

  /**
   * The batch without the flag column and without the rows an earlier run exported, as one or
   * more slices (contiguous runs of kept rows; the dropped rows sit at the start of the stream).
   */
  apply(batch: RecordBatch): RecordBatch[] {
    const flagAt = batch.schema.fields.findIndex((f) => f.name === BOUNDARY_FLAG_COLUMN);
    if (flagAt < 0) throw new RivetError('INTERNAL', `export '${this.exportName}': the incremental window lost its ${BOUNDARY_FLAG_COLUMN} column`);
    const keep = batch.schema.fields.map((_, j) => j).filter((j) => j !== flagAt);
    const data = batch.selectAt(keep);
    const flags = batch.getChildAt(flagAt)!;
    const idColumns = (this.columns ?? data.schema.fields.map((f) => f.name)).map((name) => {
      const v = data.getChild(name);
      if (!v) throw new RivetError('INTERNAL', `export '${this.exportName}': identity column ${name} is not in the window's rows`);
      return v;
    });

    const out: RecordBatch[] = [];
    let runStart = 0;
    for (let i = 0; i < data.numRows; i++) {
      const flag = Number(flags.get(i) ?? 0);
      if (flag === 0) continue;
      const id = this.identity(idColumns, i);
      if (flag & 2) {
        this.near.push(id);
        if (this.near.length > MAX_BOUNDARY_ROWS) {
          throw new RivetError('EXPORT_FAILED', `export '${this.exportName}': more than ${MAX_BOUNDARY_ROWS} rows lie at the cursor boundary (the highest cursor value, or within cursor_lookback of it); rivet keeps at most ${MAX_BOUNDARY_ROWS} row identities between runs, so nothing was committed and the cursor did not move`, {
            hint: 'shorten cursor_lookback, or use a finer cursor column (too many rows share its highest value)',
          });
        }
      }
      if (flag & 1) {
        const k = hex(id);
        const n = this.exported.get(k) ?? 0;
        if (n > 0) {
          this.exported.set(k, n - 1);
          if (i > runStart) out.push(data.slice(runStart, i));
          runStart = i + 1;
        }
      }
    }
    if (runStart === 0) return [data];
    if (runStart < data.numRows) out.push(data.slice(runStart, data.numRows));
    return out;
  }

  /** The next boundary's identities, sorted (so equal sets store equal bytes). */
  nextIds(): Uint8Array {
    const sorted = [...this.near].sort((a, b) => Buffer.compare(a, b));
    const out = new Uint8Array(sorted.length * ID_BYTES);
    sorted.forEach((id, n) => out.set(id, n * ID_BYTES));
    return out;
  }

  private identity(columns: Vector[], i: number): Uint8Array {
    const h = this.hasher;
    h.init();
    for (let c = 0; c < columns.length; c++) {
      const bytes = cellBytes(columns[c], i);
      // Length-prefixed, so ("ab","c") and ("a","bc") differ.
      h.update(`${c}:${bytes.length}:`);
      h.update(bytes);
    }
    return h.digest('binary');
  }
}
