import type { ExportConfig } from '../config/schema.js';
import type { TableName } from '../config/table-name.js';
import { parseKey, sizeForCount } from '../run/chunk-bounds.js';
import type { SourceCatalog } from '../source/source-catalog.js';

/**
 * `rivet check` diagnostics for one export (docs/commands/check.md): how big the read is, whether an index
 * serves the range column, a verdict, a tuning profile and parallelism, and warnings.
 * Only EXPLAIN, MIN/MAX and catalog lookups run — never the export query itself.
 */
export type Verdict = 'EFFICIENT' | 'ACCEPTABLE' | 'DEGRADED' | 'UNSAFE';

export interface Diagnostic {
  export: string;
  strategy: string;
  mode: string;
  rowEstimate: number | null;
  range: { min: string; max: string } | null;
  cursorColumn?: string;
  scanType: string;
  indexed: boolean;
  /** The ordered index whose leading key is the range column, when the catalog found one. */
  indexName?: string;
  verdict: Verdict;
  profile: 'fast' | 'balanced' | 'safe';
  parallel: { value: number; reason: string };
  warnings: string[];
  suggestion?: string;
}

export interface PreflightInput {
  exp: ExportConfig;
  /** The base query with params substituted (`table:` becomes `SELECT * FROM <table>`). */
  sql: string;
  table?: TableName;
}

const M = 1_000_000;

export async function diagnoseExport(catalog: SourceCatalog, input: PreflightInput): Promise<Diagnostic> {
  const { exp, sql } = input;
  const mode = exp.mode ?? 'full';
  const d = catalog.dialect;
  const parallel = exp.parallel ?? 1;

  let effective = sql;
  let rangeColumn: string | undefined;
  if (mode === 'incremental' && exp.cursor_column) {
    const fallback = exp.incremental_cursor_mode === 'coalesce' ? exp.cursor_fallback_column : undefined;
    const c = d.cursorSql(sql, exp.cursor_column, fallback);
    effective = `SELECT * ${c.from} ORDER BY ${c.expr}`;
    rangeColumn = exp.cursor_column;
  } else if (mode === 'time_window') {
    rangeColumn = exp.time_column;
  } else {
    rangeColumn = exp.chunk_column ?? exp.cursor_column;
  }

  const plan = await catalog.explain(effective);
  const rows = plan.rows ?? 0;
  let range: Diagnostic['range'] = null;
  if (rangeColumn) {
    const r = await catalog.queryRange(sql, rangeColumn);
    if (r.min !== null && r.max !== null) range = { min: r.min, max: r.max };
  }

  let indexed = plan.indexed;
  let indexName: string | undefined;
  const table = input.table ?? simpleTable(sql);
  if ((mode === 'chunked' || mode === 'incremental' || mode === 'time_window') && rangeColumn && table) {
    const schema = table.schema ?? (await catalog.defaultSchema());
    const desc = schema ? await catalog.describeTable(schema, table.name) : null;
    const idx = desc?.indexes.find((i) => i.ordered && i.columns[0] === rangeColumn);
    if (idx) {
      indexed = true;
      indexName = idx.name;
    }
  }

  const hasCursor = exp.cursor_column !== undefined;
  const verdict: Verdict = indexed
    ? hasCursor && rows <= 10 * M
      ? 'EFFICIENT'
      : 'ACCEPTABLE'
    : rows <= M || (hasCursor && rows <= 50 * M)
      ? 'DEGRADED'
      : 'UNSAFE';
  const profile = indexed ? (rows <= M ? 'fast' : rows <= 10 * M ? 'balanced' : 'safe') : rows <= 100_000 ? (parallel > 1 ? 'safe' : 'balanced') : rows <= M ? 'balanced' : 'safe';
  const recommended = recommendParallel(mode, rows, indexed);

  const warnings: string[] = [];
  if (parallel > 1) {
    const max = await catalog.maxConnections();
    if (max === null) {
      warnings.push("could not read the database's max_connections, so the connection-limit check was skipped; make sure the server accepts `parallel` more connections than it already serves");
    } else if (parallel >= max) {
      warnings.push(`parallel=${parallel} is at or above the database's max_connections=${max}; keep parallel at ${Math.max(max - 3, 1)} or below so other clients can still connect`);
    }
  }
  const chunkSize = chunkSizeOf(exp, range);
  if (mode === 'chunked' && !exp.chunk_dense && !exp.chunk_by_days && rows > 0 && range) {
    const lo = parseKey(range.min);
    const hi = parseKey(range.max);
    if (lo !== null && hi !== null) {
      const span = Number(hi - lo > 1n ? hi - lo : 1n);
      const density = rows / span;
      const windows = Math.ceil(span / chunkSize);
      if (density < 0.1 && windows > 10) {
        warnings.push(
          `chunk key ${exp.chunk_column} is sparse: about ${Math.floor((1 - density) * 100)}% of the chunk windows over ${range.min}..${range.max} are expected to return no rows (~${approx(rows)} rows); ` +
            'chunked mode then plans chunks from the key distribution instead of fixed windows; `chunk_dense: true` chunks by row number instead',
        );
      }
    }
  }
  if (mode === 'chunked' && (/row_number/i.test(sql) || exp.chunk_dense)) {
    warnings.push('chunks are cut on a dense row number (ROW_NUMBER / chunk_dense): every chunk query sorts the whole result, so each one costs about a full scan');
  }
  if (parallel > 1 && rows > 5 * M) {
    warnings.push(`parallel=${parallel} over ~${approx(rows)} rows holds ${parallel} batches in memory at once; watch memory_threshold_mb`);
  }

  return {
    export: exp.name,
    strategy: strategyOf(exp, parallel, chunkSize),
    mode: modeString(exp, chunkSize),
    rowEstimate: plan.rows,
    range,
    ...(exp.cursor_column ? { cursorColumn: exp.cursor_column } : {}),
    scanType: plan.scan,
    indexed,
    ...(indexName ? { indexName } : {}),
    verdict,
    profile,
    parallel: recommended,
    warnings,
    ...suggestionOf(verdict, mode, parallel, rows, indexed, recommended.value),
  };
}

function chunkSizeOf(exp: ExportConfig, range: Diagnostic['range']): number {
  if (exp.chunk_count && range) {
    const lo = parseKey(range.min);
    const hi = parseKey(range.max);
    if (lo !== null && hi !== null) return Number(sizeForCount(lo, hi, exp.chunk_count));
  }
  return exp.chunk_size ?? 100_000;
}

function recommendParallel(mode: string, rows: number, indexed: boolean): { value: number; reason: string } {
  if (mode !== 'chunked') return { value: 1, reason: 'parallelism only helps chunked mode' };
  if (rows < 50_000) return { value: 1, reason: 'too little data for parallelism to pay off' };
  if (!indexed && rows > 5 * M) return { value: 1, reason: 'without an index every worker would scan the source, multiplying its load' };
  if (!indexed) return { value: 2, reason: 'without an index, keep parallelism low to protect the source' };
  if (rows < 500_000) return { value: 2, reason: 'medium-sized data; two workers are enough' };
  if (rows < 5 * M) return { value: 4, reason: 'big and indexed' };
  return { value: 4, reason: 'very big; held at 4 for memory, raise it while watching memory_threshold_mb' };
}

/** `recommended`: advice to add workers only when the parallelism recommendation agrees. */
function modeHint(mode: string, parallel: number, recommended = 2): string {
  if (mode === 'full') return 'switch to mode: incremental (or chunked) so each run reads less';
  if (mode === 'chunked' && parallel <= 1 && recommended > 1) return `add parallel: ${recommended} to spread the chunks`;
  return '';
}

const SAFE = 'use tuning.profile: safe to go easy on the database';

function joinHints(...parts: string[]): string {
  return parts.filter(Boolean).join('; ');
}

function suggestionOf(verdict: Verdict, mode: string, parallel: number, rows: number, indexed: boolean, recommended: number): { suggestion?: string } {
  const hint = modeHint(mode, parallel, recommended);
  const millions = Math.floor(rows / M);
  switch (verdict) {
    case 'EFFICIENT':
      return {};
    case 'ACCEPTABLE':
      return rows > 10 * M ? { suggestion: `large dataset (~${millions}M rows): ${hint || SAFE}` } : {};
    case 'DEGRADED':
      return { suggestion: joinHints(indexed ? '' : 'no index serves this read, so the whole table is scanned', hint, SAFE) };
    case 'UNSAFE':
      return { suggestion: joinHints(`~${millions}M rows are scanned without index support`, hint, 'use tuning.profile: safe and run the extraction off-peak') };
  }
}

function strategyOf(exp: ExportConfig, parallel: number, size: number): string {
  switch (exp.mode) {
    case 'incremental':
      return `incremental(${exp.cursor_column ?? '?'})`;
    case 'time_window':
      return `time-window(${exp.time_column ?? '?'}, ${exp.days_window ?? 0}d)`;
    case 'chunked': {
      if (exp.chunk_by_key !== undefined) return parallel > 1 ? `keyset-parallel(${exp.chunk_by_key}, size=${size}, p=${parallel})` : `keyset(${exp.chunk_by_key}, size=${size})`;
      const c = exp.chunk_column ?? '?';
      if (exp.chunk_by_days) return parallel > 1 ? `date-chunked-parallel(${c}, ${exp.chunk_by_days}d, p=${parallel})` : `date-chunked(${c}, ${exp.chunk_by_days}d)`;
      return parallel > 1 ? `chunked-parallel(${c}, size=${size}, p=${parallel})` : `chunked(${c}, size=${size})`;
    }
    default:
      return parallel > 1 ? `full-parallel(${parallel})` : 'full-scan';
  }
}

function modeString(exp: ExportConfig, size: number): string {
  switch (exp.mode) {
    case 'incremental':
      return `incremental (cursor: ${exp.cursor_column ?? '?'})`;
    case 'time_window':
      return `time_window (column: ${exp.time_column ?? '?'}, days: ${exp.days_window ?? 0})`;
    case 'chunked':
      if (exp.chunk_by_key !== undefined) return `chunked (key: ${exp.chunk_by_key}, size: ${size})`;
      return `chunked (column: ${exp.chunk_column ?? '?'}, size: ${size})`;
    default:
      return 'full';
  }
}

/** `~12M`, `~340K`, `~512` (integer division, docs/commands/check.md). */
export function approx(n: number): string {
  if (n >= M) return `${Math.floor(n / M)}M`;
  if (n >= 1000) return `${Math.floor(n / 1000)}K`;
  return `${n}`;
}

const IDENT = String.raw`(?:"[^"]+"|\`[^\`]+\`|[A-Za-z_][A-Za-z0-9_$]*)`;
/** `SELECT <plain columns> FROM <ident>[.<ident>] [WHERE …]`: the query reads one table, which the catalog can check for an index. */
const SIMPLE_FROM = new RegExp(String.raw`^\s*select\s+[^()]*?\s+from\s+(${IDENT})(?:\.(${IDENT}))?(?:\s+where\b[\s\S]*)?\s*;?\s*$`, 'i');

function simpleTable(sql: string): TableName | undefined {
  if (/\bjoin\b/i.test(sql)) return undefined;
  const m = SIMPLE_FROM.exec(sql);
  if (!m) return undefined;
  const bare = (s: string) => (/^["`]/.test(s) ? s.slice(1, -1) : s);
  return m[2] ? { schema: bare(m[1]), name: bare(m[2]) } : { name: bare(m[1]) };
}

/** The block printed per export (docs/commands/check.md). */
export function renderDiagnostic(d: Diagnostic): string {
  const out = [`Export: ${d.export}`, `  Strategy:     ${d.strategy}`, `  Mode:         ${d.mode}`];
  if (d.rowEstimate !== null) out.push(`  Row estimate: ~${approx(d.rowEstimate)}`);
  if (d.range) out.push(`  Cursor range: ${d.range.min} .. ${d.range.max}`);
  if (d.cursorColumn) out.push(`  Cursor col:   ${d.cursorColumn}`);
  out.push(`  Scan type:    ${d.scanType}${d.indexed ? ' (indexed)' : ''}`);
  out.push(`  Verdict:      ${d.verdict}`);
  out.push(`  Recommended:  tuning.profile: ${d.profile}`);
  out.push(d.parallel.value > 1 ? `  Recommended:  parallel: ${d.parallel.value} (${d.parallel.reason})` : `  Parallelism:  1 (${d.parallel.reason})`);
  for (const w of d.warnings) out.push(`  Warning:      ${w}`);
  if (d.suggestion) out.push(`  Suggestion:   ${d.suggestion}`);
  return out.join('\n') + '\n';
}
