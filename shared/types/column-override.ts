import { configError, RivetError } from '../errors/rivet-error.js';
import { MAX_DECIMAL_PRECISION, type RivetType } from './rivet-type.js';

/**
 * `exports[].columns` override strings (docs/reference/types.md): a user-chosen RivetType for one column,
 * winning over engine autodetection.
 */

const KEYWORDS: ReadonlyMap<string, RivetType> = new Map<string, RivetType>([
  ...(['bool', 'boolean'] as const).map((k) => [k, { kind: 'bool' }] as const),
  ...(['int2', 'smallint', 'int16'] as const).map((k) => [k, { kind: 'int16' }] as const),
  ...(['int4', 'int', 'integer', 'int32'] as const).map((k) => [k, { kind: 'int32' }] as const),
  ...(['int8', 'bigint', 'int64'] as const).map((k) => [k, { kind: 'int64' }] as const),
  ...(['float4', 'real', 'float32'] as const).map((k) => [k, { kind: 'float32' }] as const),
  ...(['float8', 'double', 'double precision', 'float64'] as const).map((k) => [k, { kind: 'float64' }] as const),
  ...(['text', 'varchar', 'string', 'char', 'bpchar', 'name'] as const).map((k) => [k, { kind: 'string' }] as const),
  ...(['binary', 'bytea', 'blob', 'varbinary'] as const).map((k) => [k, { kind: 'binary' }] as const),
  ['date', { kind: 'date' }],
  ...(['json', 'jsonb'] as const).map((k) => [k, { kind: 'json' }] as const),
  ['uuid', { kind: 'uuid' }],
  ...(['timestamp', 'timestamp without time zone'] as const).map(
    (k) => [k, { kind: 'timestamp', unit: 'microsecond', timezone: null }] as const,
  ),
  ['timestamp_ns', { kind: 'timestamp', unit: 'nanosecond', timezone: null }],
  ...(['timestamp_tz', 'timestamptz', 'timestamp with time zone', 'timestamp_utc'] as const).map(
    (k) => [k, { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' }] as const,
  ),
  ...(['timestamp_tz_ns', 'timestamptz_ns'] as const).map((k) => [k, { kind: 'timestamp', unit: 'nanosecond', timezone: 'UTC' }] as const),
]);

const SUPPORTED_LIST =
  'bool, int2/int4/int8, float4/float8, decimal(p,s), date, timestamp, timestamp_ns, timestamp_tz, timestamp_tz_ns, text, binary, json, uuid';

function fail(column: string, raw: string, why: string, hint?: string): RivetError {
  return configError(`column override '${raw}' for column "${column}": ${why}`, hint);
}

/** Parse one override string for `column`. Throws RivetError CONFIG_INVALID quoting the string. */
export function parseColumnOverride(column: string, raw: string): RivetType {
  const s = raw.trim().toLowerCase();
  const keyword = KEYWORDS.get(s);
  if (keyword) return structuredClone(keyword);

  if (s.startsWith('decimal') || s.startsWith('numeric')) {
    const m = /^(?:decimal|numeric)\s*\((.*)\)$/.exec(s);
    if (!m) {
      throw fail(column, raw, 'not of the shape decimal(precision,scale)', 'write it as decimal(precision,scale), e.g. decimal(18,2)');
    }
    const parts = m[1].split(',').map((p) => p.trim());
    if (parts.length === 1) {
      throw fail(column, raw, 'missing scale', 'write it as decimal(precision,scale), e.g. decimal(18,2)');
    }
    if (parts.length !== 2) {
      throw fail(column, raw, 'not of the shape decimal(precision,scale)', 'write it as decimal(precision,scale), e.g. decimal(18,2)');
    }
    const [pText, sText] = parts;
    if (!/^\d{1,3}$/.test(pText)) {
      throw fail(column, raw, `precision '${pText}' is not an integer in 0–${MAX_DECIMAL_PRECISION}`);
    }
    const precision = Number(pText);
    if (!/^[+-]?\d{1,3}$/.test(sText) || Number(sText) < -128 || Number(sText) > 127) {
      throw fail(column, raw, `scale '${sText}' is not an integer in -128..127`);
    }
    const scale = Number(sText);
    if (precision < 1 || precision > MAX_DECIMAL_PRECISION) {
      throw fail(column, raw, `precision ${precision} is outside 1..=${MAX_DECIMAL_PRECISION}`);
    }
    if (scale > precision) {
      throw fail(column, raw, `scale ${scale} is larger than precision ${precision}`);
    }
    return { kind: 'decimal', precision, scale };
  }

  throw fail(column, raw, `unrecognised type '${raw.trim()}'`, `supported override types: ${SUPPORTED_LIST}`);
}

/** Parse a whole `columns:` map (column name → override string). */
export function parseColumnOverrides(overrides: Record<string, string> | undefined): Map<string, RivetType> {
  const out = new Map<string, RivetType>();
  for (const [column, raw] of Object.entries(overrides ?? {})) {
    if (typeof raw !== 'string') throw fail(column, String(raw), 'the override must be a string such as int8 or decimal(18,2)');
    out.set(column, parseColumnOverride(column, raw));
  }
  return out;
}
