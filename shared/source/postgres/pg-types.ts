import type pg from 'pg';
import { MAX_DECIMAL_PRECISION, type RivetType } from '../../types/rivet-type.js';

/**
 * PostgreSQL wire type OIDs → RivetType (docs/reference/types.md). Built-in OIDs are fixed across server
 * versions; anything else (enums, domains, extension types) is looked up in `pg_type`.
 */
export const PgOid = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
  _bool: 1000,
  _int2: 1005,
  _int4: 1007,
  _text: 1009,
  _name: 1003,
  _bpchar: 1014,
  _varchar: 1015,
  _int8: 1016,
  _float4: 1021,
  _float8: 1022,
  xml: 142,
  macaddr8: 774,
  money: 790,
  macaddr: 829,
  cidr: 650,
  inet: 869,
  timetz: 1266,
  bit: 1560,
  varbit: 1562,
  _bytea: 1001,
  _char: 1002,
  _date: 1182,
  _time: 1183,
  _timestamp: 1115,
  _timestamptz: 1185,
  _interval: 1187,
  _numeric: 1231,
  _uuid: 2951,
  _json: 199,
  _jsonb: 3807,
  _oid: 1028,
  int4range: 3904,
  numrange: 3906,
  tsrange: 3908,
  tstzrange: 3910,
  daterange: 3912,
  int8range: 3926,
} as const;

const BUILTIN_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(PgOid).map(([name, oid]) => [oid, name]));

/** What `pg_type` says about a type we do not know by OID. */
export interface PgTypeInfo {
  oid: number;
  name: string;
  /** `pg_type.typtype`: b base, e enum, d domain, c composite, r range, m multirange, p pseudo. */
  typtype: string;
  /** Element type for arrays, 0 otherwise. */
  elem: number;
  /** Base type for domains, 0 otherwise. */
  base: number;
}

export type PgTypeCatalog = ReadonlyMap<number, PgTypeInfo>;

/** Built-in array types and their element types; user types (enum arrays…) come from `pg_type`. */
const ARRAY_ELEMENT: ReadonlyMap<number, number> = new Map<number, number>([
  [PgOid._bool, PgOid.bool],
  [PgOid._int2, PgOid.int2],
  [PgOid._int4, PgOid.int4],
  [PgOid._int8, PgOid.int8],
  [PgOid._float4, PgOid.float4],
  [PgOid._float8, PgOid.float8],
  [PgOid._text, PgOid.text],
  [PgOid._varchar, PgOid.varchar],
  [PgOid._bpchar, PgOid.bpchar],
  [PgOid._name, PgOid.name],
  [PgOid._bytea, PgOid.bytea],
  [PgOid._char, PgOid.char],
  [PgOid._date, PgOid.date],
  [PgOid._time, PgOid.time],
  [PgOid._timestamp, PgOid.timestamp],
  [PgOid._timestamptz, PgOid.timestamptz],
  [PgOid._interval, PgOid.interval],
  [PgOid._numeric, PgOid.numeric],
  [PgOid._uuid, PgOid.uuid],
  [PgOid._json, PgOid.json],
  [PgOid._jsonb, PgOid.jsonb],
  [PgOid._oid, PgOid.oid],
]);

/**
 * Types autodetect rejects (docs/reference/types.md: "cast in SQL") but whose binary value rivet can render as
 * the server's own text form, so a `columns: { c: string }` override exports them.
 */
export const STRING_OVERRIDE_ONLY: ReadonlySet<number> = new Set([
  PgOid.char,
  PgOid.xml,
  PgOid.inet,
  PgOid.cidr,
  PgOid.macaddr,
  PgOid.macaddr8,
  PgOid.bit,
  PgOid.varbit,
  PgOid.timetz,
  PgOid.int4range,
  PgOid.int8range,
  PgOid.numrange,
  PgOid.daterange,
  PgOid.tsrange,
  PgOid.tstzrange,
]);

/** OIDs we need `pg_type` for: neither built-in scalars nor built-in arrays. */
export function needsCatalog(oid: number): boolean {
  return !BUILTIN_NAMES.has(oid);
}

/** Fetch `pg_type` rows for the given OIDs, following domains to their base type. */
export async function loadPgTypeCatalog(client: pg.Client, oids: number[]): Promise<Map<number, PgTypeInfo>> {
  const out = new Map<number, PgTypeInfo>();
  let pending = [...new Set(oids.filter(needsCatalog))];
  // Domains can stack; a few rounds cover any sane schema.
  for (let round = 0; round < 5 && pending.length > 0; round++) {
    const res = await client.query<{ oid: number; typname: string; typtype: string; typelem: number; typbasetype: number }>(
      'SELECT oid::int8::float8 AS oid, typname, typtype::text AS typtype, typelem::int8::float8 AS typelem, typbasetype::int8::float8 AS typbasetype FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])',
      [pending],
    );
    const next: number[] = [];
    for (const r of res.rows) {
      out.set(r.oid, { oid: r.oid, name: r.typname, typtype: r.typtype, elem: r.typelem, base: r.typbasetype });
      if (r.typtype === 'd' && needsCatalog(r.typbasetype) && !out.has(r.typbasetype)) next.push(r.typbasetype);
      if (r.typelem !== 0 && r.typname.startsWith('_') && needsCatalog(r.typelem) && !out.has(r.typelem)) next.push(r.typelem);
    }
    pending = next;
  }
  return out;
}

/** The native type string (`int4`, `numeric`, `_int4`, an enum's name…). */
export function pgTypeName(oid: number, catalog: PgTypeCatalog): string {
  return BUILTIN_NAMES.get(oid) ?? catalog.get(oid)?.name ?? `oid ${oid}`;
}

/** The OID whose binary wire format a value of `oid` uses (domains send their base type). */
export function wireOid(oid: number, catalog: PgTypeCatalog): number {
  let cur = oid;
  for (let i = 0; i < 10; i++) {
    const info = catalog.get(cur);
    if (!info || info.typtype !== 'd' || info.base === 0) return cur;
    cur = info.base;
  }
  return cur;
}

export function isEnumOid(oid: number, catalog: PgTypeCatalog): boolean {
  return catalog.get(oid)?.typtype === 'e';
}

/** Declared precision/scale from a numeric type modifier; null when unbounded (or unusable). */
export function numericTypmod(typmod: number): { precision: number; scale: number } | null {
  if (typmod < 4) return null;
  const t = typmod - 4;
  const precision = (t >> 16) & 0xffff;
  // Since PostgreSQL 15 the scale is an 11-bit two's complement field (negative scales allowed).
  const scale = ((t & 0x7ff) ^ 1024) - 1024;
  return { precision, scale };
}

const NO_MAPPING = 'the PostgreSQL type has no Rivet mapping';

/** Autodetect the RivetType of a result column (docs/reference/types.md). `oid` must already be the wire OID. */
export function autodetectPgType(oid: number, typmod: number, catalog: PgTypeCatalog): RivetType {
  switch (oid) {
    case PgOid.bool:
      return { kind: 'bool' };
    case PgOid.int2:
      return { kind: 'int16' };
    case PgOid.int4:
      return { kind: 'int32' };
    case PgOid.int8:
    case PgOid.oid:
      return { kind: 'int64' };
    case PgOid.float4:
      return { kind: 'float32' };
    case PgOid.float8:
      return { kind: 'float64' };
    case PgOid.numeric: {
      const declared = numericTypmod(typmod);
      if (declared === null) {
        return {
          kind: 'unsupported',
          native_type: 'numeric',
          reason: 'unbounded NUMERIC (no declared precision/scale) cannot be mapped exactly; add a decimal(p,s) override',
        };
      }
      if (declared.precision < 1 || declared.precision > MAX_DECIMAL_PRECISION || declared.scale > declared.precision) {
        return {
          kind: 'unsupported',
          native_type: `numeric(${declared.precision},${declared.scale})`,
          reason: `NUMERIC precision must be 1..${MAX_DECIMAL_PRECISION} with scale ≤ precision to fit an Arrow decimal`,
        };
      }
      return { kind: 'decimal', precision: declared.precision, scale: declared.scale };
    }
    case PgOid.date:
      return { kind: 'date' };
    case PgOid.time:
      return { kind: 'time', unit: 'microsecond' };
    case PgOid.timestamp:
      return { kind: 'timestamp', unit: 'microsecond', timezone: null };
    case PgOid.timestamptz:
      return { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' };
    case PgOid.text:
    case PgOid.varchar:
    case PgOid.bpchar:
    case PgOid.name:
      return { kind: 'string' };
    case PgOid.bytea:
      return { kind: 'binary' };
    case PgOid.json:
    case PgOid.jsonb:
      return { kind: 'json' };
    case PgOid.uuid:
      return { kind: 'uuid' };
    case PgOid.interval:
      return { kind: 'interval' };
  }
  const elem = arrayElementOid(oid, catalog);
  if (elem !== undefined) {
    // An array column's typmod is its element's (numeric(10,2)[] carries numeric(10,2)'s).
    const inner = autodetectPgType(wireOid(elem, catalog), typmod, catalog);
    if (inner.kind === 'unsupported' || inner.kind === 'list') {
      return {
        kind: 'unsupported',
        native_type: pgTypeName(oid, catalog),
        reason: `arrays of ${pgTypeName(elem, catalog)} have no Rivet mapping${inner.kind === 'unsupported' ? ` (${inner.reason})` : ''}`,
      };
    }
    return { kind: 'list', inner };
  }
  if (isEnumOid(oid, catalog)) return { kind: 'enum' };
  return { kind: 'unsupported', native_type: pgTypeName(oid, catalog), reason: NO_MAPPING };
}

/** Element OID of an array type (built-in or from `pg_type`), or undefined for non-arrays. */
export function arrayElementOid(oid: number, catalog: PgTypeCatalog): number | undefined {
  const builtin = ARRAY_ELEMENT.get(oid);
  if (builtin !== undefined) return builtin;
  const info = catalog.get(oid);
  // typelem is also set for fixed-length types like `point`; arrays are the `_`-named base types.
  return info && info.typtype === 'b' && info.elem !== 0 && info.name.startsWith('_') ? info.elem : undefined;
}
