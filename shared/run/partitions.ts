import { DataType } from 'apache-arrow';
import { configError } from '../errors/rivet-error.js';
import type { ExportConfig } from '../config/schema.js';
import type { DestinationTarget } from '../destination/registry.js';
import type { ChunkPredicate, SqlDialect } from '../source/sql-dialect.js';
import type { PartitionGranularity } from '../source/engine-descriptor.js';
import { sourceEngine } from '../source/registry.js';
import type { RunDeps, ResolvedExport } from './run-deps.js';
import { probeRows } from './source-probe.js';

/**
 * `partition_by` (docs/modes.md): an export split into one child export per day, month or year
 * of a date column, plus one for the rows whose value is NULL. A child is named
 * `<parent>__<label>` (`<parent>__null`) and everything about it — its query, its prefix —
 * follows from that name and the config, so a worker or finalizer that knows only the name
 * resolves the same child the planner did. Each child has its own manifest, `_SUCCESS`, lease,
 * cursor and checkpoints, because all of those are keyed by export name.
 */
export type Granularity = PartitionGranularity;

export interface PartitionSpec {
  column: string;
  granularity: Granularity;
  /** Set on a child: its bucket label, or null for the NULL bucket. Absent on the parent. */
  bucket?: string | null;
}

/** Hive's name for the partition of NULL values; DuckDB, Spark and Trino read it back as NULL. */
export const HIVE_NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';
const NULL_LABEL = 'null';
const SEPARATOR = '__';

const LABEL_SHAPE: Record<Granularity, RegExp> = {
  day: /^(\d{4})-(\d{2})-(\d{2})$/,
  month: /^(\d{4})-(\d{2})$/,
  year: /^(\d{4})$/,
};

export function childExportName(parent: string, bucket: string | null): string {
  return `${parent}${SEPARATOR}${bucket ?? NULL_LABEL}`;
}

/** The half-open range `[from, until)` of a bucket, both `YYYY-MM-DD`; null when `label` is no bucket of `granularity`. */
export function bucketRange(label: string, granularity: Granularity): { from: string; until: string } | null {
  const m = LABEL_SHAPE[granularity].exec(label);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), m[2] ? Number(m[2]) - 1 : 0, m[3] ? Number(m[3]) : 1];
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const from = new Date(0);
  from.setUTCFullYear(y, mo, d);
  // Rejects 2026-02-30 and month 13: the label must name a real calendar bucket.
  if (from.getUTCFullYear() !== y || from.getUTCMonth() !== mo || from.getUTCDate() !== d) return null;
  const until = new Date(from);
  if (granularity === 'day') until.setUTCDate(d + 1);
  else if (granularity === 'month') until.setUTCMonth(mo + 1);
  else until.setUTCFullYear(y + 1);
  return { from: dayText(from), until: dayText(until) };
}

function dayText(d: Date): string {
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

/**
 * Which partitioned export (and bucket) `name` is a child of. An exact export name always
 * wins, so this is asked only for names the config does not hold.
 */
export function findPartitionChild(exports: ExportConfig[], name: string): { parent: ExportConfig; bucket: string | null } | null {
  for (const parent of exports) {
    if (!parent.partition_by || !name.startsWith(parent.name + SEPARATOR)) continue;
    const label = name.slice(parent.name.length + SEPARATOR.length);
    if (label === NULL_LABEL) return { parent, bucket: null };
    if (bucketRange(label, parent.partition_granularity)) return { parent, bucket: label };
  }
  return null;
}

/** A child's query: the parent's base query restricted to the bucket, in the source's own SQL. */
export function partitionSql(dialect: SqlDialect, baseSql: string, column: string, granularity: Granularity, bucket: string | null): string {
  let predicate: ChunkPredicate = { kind: 'null' };
  if (bucket !== null) {
    const range = bucketRange(bucket, granularity);
    if (!range) throw new Error(`internal: '${bucket}' is not a ${granularity} bucket`);
    predicate = { kind: 'days', ...range };
  }
  return dialect.chunkSql({ baseSql, column: dialect.quoteIdent(column) }, predicate);
}

/** `{partition}` → `<col>=<label>` (Hive style), before the planner expands the other placeholders. */
export function partitionTarget(t: DestinationTarget, column: string, bucket: string | null): DestinationTarget {
  const value = `${column}=${bucket ?? HIVE_NULL_PARTITION}`;
  const x = (s: string | undefined) => (s === undefined ? undefined : s.split('{partition}').join(value));
  return { ...t, path: x(t.path), prefix: x(t.prefix) };
}

/**
 * The children of a partitioned export: one per bucket that holds rows (found with one
 * DISTINCT query on the source), ascending, and the NULL bucket last when some rows have no
 * value. No rows at all → no children.
 */
export async function discoverPartitions(exp: ResolvedExport, deps: Pick<RunDeps, 'openSource' | 'log'>): Promise<string[]> {
  const spec = exp.partition;
  if (!spec) return [exp.name];
  const source = await deps.openSource({ connection: exp.connection, columnOverrides: exp.columnOverrides, log: deps.log });
  try {
    const schema = await source.describe(exp.sql);
    const field = schema.fields.find((f) => f.name === spec.column);
    if (!field) {
      throw configError(`export '${exp.name}': partition_by column '${spec.column}' is not a column of the export's query`, `columns: ${schema.fields.map((f) => f.name).join(', ')}`);
    }
    if (!DataType.isDate(field.type) && !DataType.isTimestamp(field.type)) {
      throw configError(
        `export '${exp.name}': partition_by column '${spec.column}' is ${String(field.type)}, not a date or timestamp`,
        'partition by a date, timestamp or timestamptz (DATETIME/TIMESTAMP on MySQL) column, or cast one in `query:`',
      );
    }
    const rows = await probeRows(source, sourceEngine(exp.connection.engine).partitionLabelsSql(exp.sql, source.dialect.quoteIdent(spec.column), spec.granularity));
    const labels = rows.map((r) => r[0] ?? null);
    for (const l of labels) {
      if (l !== null && !bucketRange(l, spec.granularity)) {
        throw configError(`export '${exp.name}': the source printed the ${spec.granularity} bucket of '${spec.column}' as '${l}', which rivet cannot name a partition after`, 'partition a column whose years lie between 0001 and 9999');
      }
    }
    const named = labels.filter((l): l is string => l !== null).sort();
    const children = named.map((l) => childExportName(exp.name, l));
    if (labels.includes(null)) children.push(childExportName(exp.name, null));
    if (children.length === 0) deps.log.warn(`export '${exp.name}': the query returned no rows, so there is no partition to export`);
    return children;
  } finally {
    await source.close();
  }
}
