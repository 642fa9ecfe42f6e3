/**
 * Independent readers for what rivet writes: DuckDB (C++ Parquet/CSV readers) and pyarrow
 * (Arrow C++). Neither shares code with our writers, so agreement between them and the
 * data we fed in is real evidence.
 *
 * Both return values in one canonical shape so tests can compare them with each other and
 * with expectations:
 *   null → null; bool → boolean; 8/16/32-bit ints and floats → number (NaN/±Infinity kept);
 *   64-bit ints → bigint; decimal → exact string with `scale` fraction digits;
 *   string/json → string; date → 'YYYY-MM-DD'; time → 'HH:MM:SS.ffffff';
 *   timestamp → 'YYYY-MM-DDTHH:MM:SS.ffffff', plus 'Z' when the type carries a time zone
 *   (value shown in UTC); binary/blob/fixed-size binary → lowercase hex;
 *   uuid → hyphenated lowercase; list → array; struct → object.
 * Types are each reader's own spelling (DuckDB `DESCRIBE`, pyarrow `str(type)`).
 */
import { spawn } from 'node:child_process';
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimeValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUUIDValue,
  type DuckDBValue,
} from '@duckdb/node-api';

export interface ReadColumn {
  name: string;
  type: string;
}

export interface ReadResult {
  columns: ReadColumn[];
  rows: Record<string, unknown>[];
}

export interface ReadOptions {
  /** Defaults to the file extension (`.csv` → csv, anything else → parquet). */
  format?: 'parquet' | 'csv';
  /** CSV only: read every column as text instead of letting the reader infer types. */
  allVarchar?: boolean;
}

export interface PyArrowParquetMetadata {
  createdBy: string | null;
  numRowGroups: number;
  rowGroupRows: number[];
  /** Codec per column of the first row group, pyarrow's spelling (ZSTD, SNAPPY, GZIP, LZ4, UNCOMPRESSED). */
  compression: Record<string, string>;
  /** Parquet physical and logical type per leaf column, pyarrow's spelling (e.g. 'UUID', 'JSON', 'None'). */
  physicalTypes: Record<string, string>;
  logicalTypes: Record<string, string>;
  /** File key/value metadata other than the embedded ARROW:schema. */
  keyValue: Record<string, string>;
  /** Arrow field metadata per column, as restored by pyarrow. */
  fieldMetadata: Record<string, Record<string, string>>;
}

export interface PyArrowReadResult extends ReadResult {
  numRows: number;
  metadata?: PyArrowParquetMetadata;
}

function formatOf(file: string, options: ReadOptions): 'parquet' | 'csv' {
  return options.format ?? (/\.csv$/i.test(file) ? 'csv' : 'parquet');
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function scanSql(file: string, options: ReadOptions): string {
  if (formatOf(file, options) === 'csv') {
    return `read_csv(${sqlString(file)}, header = true${options.allVarchar ? ', all_varchar = true' : ''})`;
  }
  return `read_parquet(${sqlString(file)})`;
}

type DuckRun = (sql: string, params?: string[]) => ReturnType<Awaited<ReturnType<DuckDBInstance['connect']>>['runAndReadAll']>;

async function withDuckDB<T>(fn: (run: DuckRun) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    return await fn((sql, params) => (params ? con.runAndReadAll(sql, params) : con.runAndReadAll(sql)));
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/** Read a Parquet or CSV file (or glob) with DuckDB. */
export async function readWithDuckDB(file: string, options: ReadOptions = {}): Promise<ReadResult> {
  return withDuckDB(async (run) => {
    const scan = scanSql(file, options);
    const described = (await run(`DESCRIBE SELECT * FROM ${scan}`)).getRowObjectsJS();
    const columns = described.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const rows = (await run(`SELECT * FROM ${scan}`)).getRowObjects().map(canonicalRow);
    return { columns, rows };
  });
}

/** Run any SQL in a fresh in-memory DuckDB; values in the canonical shapes above. */
export async function queryWithDuckDB(sql: string, params?: string[]): Promise<Record<string, unknown>[]> {
  return withDuckDB(async (run) =>
    (await run(sql, params)).getRowObjects().map(canonicalRow),
  );
}

/** Rows in every file matching `glob` (Parquet unless the glob ends in .csv). */
export async function countWithDuckDB(glob: string, options: ReadOptions = {}): Promise<number> {
  return withDuckDB(async (run) => {
    const rows = (await run(`SELECT count(*)::BIGINT AS n FROM ${scanSql(glob, options)}`)).getRowObjectsJS();
    return Number(rows[0].n);
  });
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** 'YYYY-MM-DDTHH:MM:SS.ffffff' for epoch microseconds, computed with the JS Date calendar. */
function isoMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const frac = micros - ms * 1000n;
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, -1)}${String(frac).padStart(3, '0')}`;
}

function timeMicros(micros: bigint): string {
  const us = Number(micros);
  const s = Math.floor(us / 1e6);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(us % 1e6, 6)}`;
}

function decimalText(value: bigint, scale: number): string {
  if (scale <= 0) return String(value * 10n ** BigInt(-scale));
  const neg = value < 0n;
  const digits = String(neg ? -value : value).padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function canonicalRow(row: Record<string, DuckDBValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = fromDuckDB(v);
  return out;
}

function fromDuckDB(v: DuckDBValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof DuckDBDecimalValue) return decimalText(v.value, v.scale);
  if (v instanceof DuckDBBlobValue) return hex(v.bytes);
  if (v instanceof DuckDBDateValue) return isoMicros(BigInt(v.days) * 86_400_000_000n).slice(0, 10);
  if (v instanceof DuckDBTimestampTZValue) return `${isoMicros(v.micros)}Z`;
  if (v instanceof DuckDBTimestampValue) return isoMicros(v.micros);
  if (v instanceof DuckDBTimeValue) return timeMicros(v.micros);
  if (v instanceof DuckDBUUIDValue) return v.toString();
  if (v instanceof DuckDBListValue) return v.items.map(fromDuckDB);
  if (v instanceof DuckDBStructValue) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v.entries)) out[k] = fromDuckDB(x);
    return out;
  }
  return String(v);
}

// Values that JSON cannot carry exactly travel tagged: {"$bigint": "…"} and {"$float": "NaN"}.
const PYARROW_SCRIPT = String.raw`
import json, math, sys, uuid, datetime
import pyarrow as pa

path, opts = sys.argv[1], json.loads(sys.argv[2])
UTC = datetime.timezone.utc

def hexs(b):
    return bytes(b).hex()

def conv(v, t):
    if v is None:
        return None
    if isinstance(t, pa.BaseExtensionType):
        if isinstance(v, uuid.UUID):
            return str(v)
        return conv(v, t.storage_type)
    if pa.types.is_boolean(t):
        return bool(v)
    if pa.types.is_integer(t):
        return {"$bigint": str(v)} if t.bit_width == 64 else int(v)
    if pa.types.is_floating(t):
        f = float(v)
        if math.isnan(f): return {"$float": "NaN"}
        if math.isinf(f): return {"$float": "Infinity" if f > 0 else "-Infinity"}
        return f
    if pa.types.is_decimal(t):
        return format(v, "f")
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            return v.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        return v.isoformat(timespec="microseconds")
    if pa.types.is_date(t):
        return v.isoformat()
    if pa.types.is_time(t):
        return v.isoformat(timespec="microseconds")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return hexs(v)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [conv(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {t.field(i).name: conv(v[t.field(i).name], t.field(i).type) for i in range(t.num_fields)}
    return v if isinstance(v, (str, int, float)) else str(v)

def decode_meta(m):
    return {k.decode(): v.decode("utf-8", "replace") for k, v in (m or {}).items() if k != b"ARROW:schema"}

out = {}
if opts.get("format") == "csv":
    import pyarrow.csv as pcsv
    convert = pcsv.ConvertOptions()
    if opts.get("allVarchar"):
        with open(path, newline="") as fh:
            header = fh.readline().rstrip("\n").split(",")
        convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in header})
    # Quoted cells may hold line breaks (docs/reference/types.md quotes them rather than escaping).
    table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(newlines_in_values=True), convert_options=convert)
else:
    import pyarrow.parquet as pq
    pf = pq.ParquetFile(path)
    table = pf.read()
    md = pf.metadata
    rg0 = md.row_group(0) if md.num_row_groups else None
    schema = pf.schema
    out["metadata"] = {
        "createdBy": md.created_by,
        "numRowGroups": md.num_row_groups,
        "rowGroupRows": [md.row_group(i).num_rows for i in range(md.num_row_groups)],
        "compression": {rg0.column(i).path_in_schema: rg0.column(i).compression for i in range(rg0.num_columns)} if rg0 else {},
        "physicalTypes": {schema.column(i).path: schema.column(i).physical_type for i in range(len(schema))},
        "logicalTypes": {schema.column(i).path: str(schema.column(i).logical_type) for i in range(len(schema))},
        "keyValue": decode_meta(md.metadata),
        "fieldMetadata": {f.name: decode_meta(f.metadata) for f in table.schema},
    }

out["columns"] = [{"name": f.name, "type": str(f.type)} for f in table.schema]
out["numRows"] = table.num_rows
cols = []
for f in table.schema:
    col = table.column(f.name)
    try:
        values = col.to_pylist()
    except (ValueError, OverflowError):
        # Outside Python's datetime range (years 1..9999): give the raw storage integers.
        values = [None if x is None else "raw:" + str(x) for x in col.cast(pa.int64()).to_pylist()]
        cols.append(values)
        continue
    cols.append([conv(v, f.type) for v in values])
names = [f.name for f in table.schema]
out["rows"] = [dict(zip(names, r)) for r in zip(*cols)] if cols else []
sys.stdout.write(json.dumps(out, allow_nan=False))
`;

/** Read a Parquet or CSV file with pyarrow in a child `python3` (see test/services/up.sh). */
export async function readWithPyArrow(file: string, options: ReadOptions = {}): Promise<PyArrowReadResult> {
  const opts = JSON.stringify({ format: formatOf(file, options), allVarchar: options.allVarchar ?? false });
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn('python3', ['-c', PYARROW_SCRIPT, file, opts], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`pyarrow reader failed (exit ${code}): ${Buffer.concat(err).toString('utf8').trim()}`));
    });
  });
  return JSON.parse(stdout, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
      if (typeof o.$float === 'string') return Number(o.$float);
    }
    return v;
  }) as PyArrowReadResult;
}
