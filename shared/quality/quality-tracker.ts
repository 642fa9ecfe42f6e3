import type { RecordBatch } from 'apache-arrow';

/** `quality:` of one export, as written in the config. */
export interface QualityConfig {
  row_count_min?: number;
  row_count_max?: number;
  null_ratio_max?: Record<string, number>;
  unique_columns?: string[];
  unique_max_entries?: number;
}

export interface QualityIssue {
  severity: 'fail' | 'warn';
  message: string;
}

/** Distinct values remembered per unique column when `unique_max_entries` is not set. */
export const DEFAULT_UNIQUE_MAX_ENTRIES = 1_000_000;

interface UniqueColumn {
  name: string;
  seen: Set<unknown>;
  /** Non-NULL values observed. */
  values: number;
  capped: boolean;
}

/**
 * Watches the batches of one export go by and keeps what its `quality:` checks need: rows,
 * NULLs per `null_ratio_max` column, and the distinct values of each `unique_columns`
 * column (up to `unique_max_entries`, after which that column's check is given up with a
 * warning rather than let memory grow with the table).
 *
 * Unlike the reference, which hashes display text, values are compared as typed values
 * and NULLs are not values: any number of NULLs is not a duplicate, and NULL never equals
 * the empty string (SQL's UNIQUE rule).
 */
export class QualityTracker {
  rows = 0;
  private readonly nulls = new Map<string, number>();
  private readonly unique: UniqueColumn[];
  private readonly cap: number;

  constructor(private readonly config: QualityConfig) {
    for (const c of Object.keys(config.null_ratio_max ?? {})) this.nulls.set(c, 0);
    this.cap = config.unique_max_entries ?? DEFAULT_UNIQUE_MAX_ENTRIES;
    this.unique = (config.unique_columns ?? []).map((name) => ({ name, seen: new Set(), values: 0, capped: false }));
  }

  observe(batch: RecordBatch): void {
    this.rows += batch.numRows;
    for (const [name, n] of this.nulls) {
      const col = batch.getChild(name);
      if (col) this.nulls.set(name, n + col.nullCount);
    }
    for (const u of this.unique) {
      if (u.capped) continue;
      const col = batch.getChild(u.name);
      if (!col) continue;
      for (let i = 0; i < col.length; i++) {
        const v = col.get(i);
        if (v === null || v === undefined) continue;
        u.values++;
        u.seen.add(uniqueKey(v));
        if (u.seen.size > this.cap) {
          u.capped = true;
          u.seen.clear();
          break;
        }
      }
    }
  }

  /** The checks on everything observed; any `fail` fails the export. */
  issues(): QualityIssue[] {
    return [...rowCountIssues(this.config, this.rows), ...this.nullIssues(), ...this.uniqueIssues()];
  }

  private nullIssues(): QualityIssue[] {
    if (this.rows === 0) return [];
    const out: QualityIssue[] = [];
    for (const [name, max] of Object.entries(this.config.null_ratio_max ?? {})) {
      const ratio = (this.nulls.get(name) ?? 0) / this.rows;
      if (ratio > max) out.push({ severity: 'fail', message: `column '${name}' null ratio ${ratio.toFixed(4)} exceeds the maximum ${max.toFixed(4)}` });
    }
    return out;
  }

  private uniqueIssues(): QualityIssue[] {
    if (this.rows === 0) return [];
    const out: QualityIssue[] = [];
    for (const u of this.unique) {
      if (u.capped) {
        out.push({
          severity: 'warn',
          message: `column '${u.name}' has more than ${this.cap} distinct values; uniqueness was not checked past that (raise quality.unique_max_entries to check it all)`,
        });
        continue;
      }
      const dupes = u.values - u.seen.size;
      if (dupes > 0) out.push({ severity: 'fail', message: `column '${u.name}' has ${dupes} duplicate value${dupes === 1 ? '' : 's'} in ${this.rows} rows` });
    }
    return out;
  }
}

/** `row_count_min` / `row_count_max` on a total (one task's rows, or a chunked run's aggregate). */
export function rowCountIssues(config: QualityConfig, rows: number): QualityIssue[] {
  const out: QualityIssue[] = [];
  if (config.row_count_min !== undefined && rows < config.row_count_min) {
    out.push({ severity: 'fail', message: `row count ${rows} is below the minimum ${config.row_count_min}` });
  }
  if (config.row_count_max !== undefined && rows > config.row_count_max) {
    out.push({ severity: 'fail', message: `row count ${rows} exceeds the maximum ${config.row_count_max}` });
  }
  return out;
}

/** A Set key that compares values by content: numbers and strings as they are, anything else by its text. */
function uniqueKey(v: unknown): unknown {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint' || typeof v === 'boolean') return v;
  if (v instanceof Date) return `d:${v.getTime()}`;
  if (v instanceof Uint8Array) return `b:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  if (ArrayBuffer.isView(v)) return `v:${Array.from(v as unknown as ArrayLike<number>).join(',')}`;
  return `j:${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))}`;
}
