import { RivetError } from '../../errors/rivet-error.js';
import type { Source } from '../../source/source.js';
import type { ChunkSettings } from '../chunk-settings.js';
import { chunkPlanHash, refuseUnfinishedCheckpoint } from '../chunk-checkpoint.js';
import type { ChunkPredicate } from '../../source/sql-dialect.js';
import { keysetChunks } from '../chunk-keyset.js';
import { chunkSizeFromMemory } from '../chunk-memory.js';
import { chunksFromStarts, dayNumber, dayText, isSparse, parseKey, rangeChunks, sizeForCount, windowCount, type KeyRange } from '../chunk-bounds.js';
import { probeRows } from '../source-probe.js';
import type { ResolvedExport } from '../run-deps.js';
import type { ModePlanContext, ModePlanner } from './mode-planner.js';

interface PlannedChunk {
  predicate: ChunkPredicate;
  label: string;
  startKey: string;
  endKey: string;
}

/**
 * `chunked`: the base query cut into key ranges, one task (one part) per chunk.
 *
 * - range (default): MIN/MAX/COUNT of the key, then `chunk_size`-wide windows (or
 *   `chunk_count` equal windows). When the key is sparse — far more windows than the rows
 *   could fill — the chunk starts are read from the key distribution instead (every
 *   `chunk_size`-th key in key order), so ids 1..1000 plus 10^12 plan 11 chunks, not 10^10.
 * - `chunk_by_days`: only the day buckets that hold rows, each chunk reaching up to the
 *   next one, so empty stretches of calendar cost nothing.
 * - `chunk_dense`: ROW_NUMBER() ordinals, for keys too irregular to cut by value.
 * - `chunk_by_key`: boundaries sought in a unique NOT NULL key of any ordered type (chunk-keyset.ts).
 * `chunk_size_memory_mb` replaces `chunk_size` by rows that fit the budget (chunk-memory.ts).
 * Rows whose key IS NULL match no range predicate; they get a chunk of their own
 * (`WHERE key IS NULL`) instead of being lost or refused (keyset keys are NOT NULL).
 */
export const planChunked: ModePlanner = async (ctx) => {
  const { exp, source, log } = ctx;
  let settings = exp.chunk;
  if (!settings) throw new RivetError('INTERNAL', `export '${exp.name}': chunked mode without chunk settings`);
  if (settings.checkpoint) await refuseUnfinishedCheckpoint(exp, ctx.state);

  if (settings.memoryMb !== undefined) settings = { ...settings, size: await chunkSizeFromMemory(exp, source, settings.memoryMb, log) };
  const columnName = settings.byKey ?? settings.column ?? (await derivedColumn(exp, source, ctx));
  const column = source.quoteIdent(columnName);
  let keyType: string | undefined;
  let chunks: PlannedChunk[];
  if (settings.byKey !== undefined) {
    const keyset = await keysetChunks(exp, source, settings.byKey, settings.size);
    keyType = keyset.type;
    chunks = keyset.chunks;
  } else if (settings.dense) {
    chunks = await denseChunks(exp, settings, source);
  } else if (settings.byDays) {
    chunks = await dayChunks(exp, settings, columnName, column, source);
  } else {
    chunks = await rangeKeyChunks(exp, settings, columnName, column, source, ctx);
  }

  const columns = settings.dense ? (await source.describe(exp.sql)).fields.map((f) => source.quoteIdent(f.name)) : undefined;
  log.info(`export '${exp.name}': ${chunks.length} chunk(s) on ${columnName}${chunks.length ? ` (${chunks[0].label} … ${chunks[chunks.length - 1].label})` : ''}`);
  return {
    queries: chunks.map((c) => ({ sql: source.dialect.chunkSql({ baseSql: exp.sql, column, columns, keyType }, c.predicate), label: c.label })),
    ...(settings.checkpoint
      ? { checkpoint: { planHash: await chunkPlanHash(exp), chunks: chunks.map((c) => ({ startKey: c.startKey, endKey: c.endKey })) } }
      : {}),
  };
};

/** docs/reference/config.md g18: without `chunk_column`, a one-column integer primary key of `table:` is used, with a WARN. */
async function derivedColumn(exp: ResolvedExport, source: Source, ctx: ModePlanContext): Promise<string> {
  const t = exp.table;
  if (!t) {
    throw new RivetError('CONFIG_INVALID', `export '${exp.name}': mode: chunked needs \`chunk_column\` (deriving it from the primary key works only with \`table:\`)`, {
      hint: 'add `chunk_column: <integer or date column>`',
    });
  }
  const qualified = t.schema ? `${t.schema}.${t.name}` : t.name;
  const rows = await probeRows(source, source.dialect.primaryKeySql(t));
  const [name, type] = rows.length === 1 ? rows[0] : [null, null];
  if (!name || !type || !source.dialect.isIntegerKeyType(type)) {
    throw new RivetError('CONFIG_INVALID', `export '${exp.name}': no safe chunking strategy could be determined for table ${qualified}: it has no one-column integer primary key`, {
      hint: 'set `chunk_column:` to an integer or date column (with `chunk_by_days:`), `chunk_by_key:` to a unique NOT NULL column of any ordered type, or `chunk_dense: true`',
    });
  }
  ctx.log.warn(
    `export '${exp.name}': \`chunk_column\` was omitted, so '${name}' was picked because it is the one-column integer primary key of ${qualified}; write \`chunk_column: ${name}\` to make the choice deliberate and silence this warning`,
  );
  return name;
}

async function rangeKeyChunks(exp: ResolvedExport, s: ChunkSettings, name: string, column: string, source: Source, ctx: ModePlanContext): Promise<PlannedChunk[]> {
  const [stats] = await probeRows(source, source.dialect.keyStatsSql(exp.sql, column));
  const [minText, maxText, totalText, keyedText] = stats ?? [null, null, '0', '0'];
  const total = BigInt(totalText ?? '0');
  const keyed = BigInt(keyedText ?? '0');
  const nulls = total - keyed;
  const out: PlannedChunk[] = [];
  if (keyed > 0n) {
    const min = parseKey(minText);
    const max = parseKey(maxText);
    if (min === null || max === null) {
      throw new RivetError('CONFIG_INVALID', `export '${exp.name}': chunk_column '${name}' is not an integer column (its minimum is ${minText})`, {
        hint: 'range chunks need an integer key: use `chunk_by_days:` for a date/timestamp column, or `chunk_dense: true` for any orderable column',
      });
    }
    let ranges: KeyRange[];
    if (s.count) {
      ranges = rangeChunks(min, max, sizeForCount(min, max, s.count));
    } else {
      const size = BigInt(s.size);
      const windows = windowCount(min, max, size);
      if (isSparse(windows, keyed, size)) {
        const starts = await probeRows(source, source.dialect.sparseStartsSql(exp.sql, column, size));
        ranges = chunksFromStarts(starts.map((r) => BigInt(r[0] ?? '0')), max);
        ctx.log.info(`export '${exp.name}': key ${name} is sparse (${keyed} rows over ${max - min + 1n} values, ${windows} windows of ${size}); planning ${ranges.length} chunk(s) from the key distribution instead`);
      } else {
        ranges = rangeChunks(min, max, size);
      }
    }
    for (const r of ranges) {
      out.push({ predicate: { kind: 'range', start: r.start, end: r.end }, label: `${name} ${r.start}..${r.end}`, startKey: String(r.start), endKey: String(r.end) });
    }
  }
  if (nulls > 0n) out.push(nullChunk(exp, name, nulls, ctx));
  return out;
}

async function dayChunks(exp: ResolvedExport, s: ChunkSettings, name: string, column: string, source: Source): Promise<PlannedChunk[]> {
  const days = s.byDays ?? 1;
  const [stats] = await probeRows(source, source.dialect.dayStatsSql(exp.sql, column));
  const [minText, totalText, keyedText] = stats ?? [null, '0', '0'];
  const nulls = BigInt(totalText ?? '0') - BigInt(keyedText ?? '0');
  const out: PlannedChunk[] = [];
  if (minText !== null) {
    if (dayNumber(minText) === null) {
      throw new RivetError('CONFIG_INVALID', `export '${exp.name}': chunk_by_days needs a date or timestamp chunk_column, but the minimum of '${name}' (${minText}) could not be parsed as a date`, {
        hint: 'point chunk_column at a date/timestamp column, or drop chunk_by_days for an integer key',
      });
    }
    // Only buckets that hold rows.
    const buckets = await probeRows(source, source.dialect.dayBucketsSql(exp.sql, column, days));
    const starts = buckets.map((r) => Number(r[0]) * days);
    starts.forEach((from, i) => {
      const until = i + 1 < starts.length ? starts[i + 1] : from + days;
      const f = dayText(from);
      const u = dayText(until);
      out.push({ predicate: { kind: 'days', from: f, until: u }, label: `${name} ${f}..<${u}`, startKey: f, endKey: dayText(until - 1) });
    });
  }
  if (nulls > 0n) out.push(nullChunk(exp, name, nulls));
  return out;
}

async function denseChunks(exp: ResolvedExport, s: ChunkSettings, source: Source): Promise<PlannedChunk[]> {
  const [row] = await probeRows(source, source.dialect.countSql(exp.sql));
  const count = BigInt(row?.[0] ?? '0');
  return rangeChunks(1n, count, BigInt(s.size)).map((r) => ({
    predicate: { kind: 'dense', start: r.start, end: r.end },
    label: `rows ${r.start}..${r.end}`,
    startKey: String(r.start),
    endKey: String(r.end),
  }));
}

function nullChunk(exp: ResolvedExport, name: string, nulls: bigint, ctx?: ModePlanContext): PlannedChunk {
  ctx?.log.info(`export '${exp.name}': ${nulls} row(s) have NULL in ${name}; they are exported as a chunk of their own`);
  return { predicate: { kind: 'null' }, label: `${name} IS NULL`, startKey: 'NULL', endKey: 'NULL' };
}
