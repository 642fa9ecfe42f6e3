/**
 * Four Parquet readers that share no code with rivet's encoders, each reading a whole list of
 * files at once (one Python process for pyarrow and polars, one JVM for parquet-java, one
 * in-process DuckDB), so a test can write hundreds of files and have every one read by all
 * four. test/services/up.sh installs polars and builds the parquet-java reader
 * (test/services/parquet-java.sh).
 *
 * Every reader reports each file as its column types (the reader's own spelling) and rows
 * (arrays in column order) in one value shape, derived from the reader's own idea of each
 * column's type:
 *   null → null; boolean → boolean; integers (any width, signed or not) → decimal text;
 *   floating point → the 16 hex digits of the IEEE-754 double, or "NaN" for any NaN;
 *   decimal → exact decimal text (trailing fraction zeros vary between readers);
 *   date → epoch days as text; time → nanoseconds since midnight as text;
 *   timestamp → epoch nanoseconds as text (time zone only in the type);
 *   text and JSON → the text; binary, fixed-size binary and UUID → lowercase hex;
 *   list → array.
 * A file the reader refuses is reported as `{ error }` instead.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBTimeNSValue,
  DuckDBTimeValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUUIDValue,
  type DuckDBValue,
} from '@duckdb/node-api';

export const PANEL_READERS = ['pyarrow', 'polars', 'duckdb', 'parquet-java'] as const;
export type PanelReader = (typeof PANEL_READERS)[number];

export type PanelValue = null | boolean | string | PanelValue[];

/**
 * `rowGroups`: as the reader counted them (pyarrow and parquet-java report it).
 * `columnErrors`: pyarrow and polars, when a file fails as a whole, read its columns one by
 * one; the columns they still refuse are listed here, with the error.
 */
export type PanelFile =
  | { columns: { name: string; type: string }[]; rows: PanelValue[][]; rowGroups?: number; columnErrors?: Record<string, string> }
  | { error: string };

export type PanelResults = Record<PanelReader, Map<string, PanelFile>>;

const JAVA_READER = join(dirname(fileURLToPath(import.meta.url)), '..', 'readers', 'parquet-java', 'target');

/** Every file read by all four readers; `ms`: how long each reader process took. */
export async function readWithPanel(files: string[]): Promise<PanelResults & { ms: Record<string, number> }> {
  const ms: Record<string, number> = {};
  const timed = async <T>(what: string, run: Promise<T>): Promise<T> => {
    const started = Date.now();
    const out = await run;
    ms[what] = Date.now() - started;
    return out;
  };
  const [python, java, duckdb] = await Promise.all([
    timed('pyarrow+polars', readWithPython(files)),
    timed('parquet-java', readWithParquetJava(files)),
    timed('duckdb', readAllWithDuckDB(files)),
  ]);
  return { pyarrow: python.pyarrow, polars: python.polars, duckdb, 'parquet-java': java, ms };
}

const PYTHON_SCRIPT = String.raw`
import json, struct, sys
import pyarrow as pa
import pyarrow.parquet as pq
import polars as pl

NANOS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}

def floating(v):
    if v is None: return None
    if v != v: return "NaN"
    return struct.pack(">d", v).hex()

def text(values, scale=1):
    return [None if v is None else str(v * scale) for v in values]

def conv(arr):
    t = arr.type
    if isinstance(t, pa.BaseExtensionType):
        return conv(arr.storage)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        child = conv(arr.values)
        offsets = arr.offsets.to_pylist()
        valid = arr.is_valid().to_pylist()
        return [child[offsets[i]:offsets[i + 1]] if valid[i] else None for i in range(len(arr))]
    if pa.types.is_boolean(t): return arr.to_pylist()
    if pa.types.is_integer(t): return text(arr.to_pylist())
    if pa.types.is_floating(t): return [floating(v) for v in arr.to_pylist()]
    if pa.types.is_decimal(t): return [None if v is None else format(v, "f") for v in arr.to_pylist()]
    if pa.types.is_date32(t): return text(arr.cast(pa.int32()).to_pylist())
    if pa.types.is_time32(t): return text(arr.cast(pa.int32()).to_pylist(), NANOS[t.unit])
    if pa.types.is_time64(t) or pa.types.is_timestamp(t): return text(arr.cast(pa.int64()).to_pylist(), NANOS[t.unit])
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t): return arr.to_pylist()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t) or pa.types.is_fixed_size_binary(t):
        return [None if v is None else v.hex() for v in arr.to_pylist()]
    raise TypeError("no panel shape for " + str(t))

def table_result(table, types):
    cols = [conv(table.column(i).combine_chunks()) for i in range(table.num_columns)]
    return {"columns": [{"name": n, "type": ty} for n, ty in zip(table.column_names, types)], "rows": [list(r) for r in zip(*cols)]}

def error_text(e):
    return type(e).__name__ + ": " + str(e)

def attempt(reader, path, read):
    try:
        out = read(path, None)
    except Exception as e:
        out = {"error": error_text(e)}
        try:
            # One refused column fails the whole file: read its columns one by one.
            names = pq.read_schema(path).names
            base = read(path, names[:1])
            errors = {}
            for name in names[1:]:
                try:
                    part = read(path, [name])
                except Exception as e2:
                    errors[name] = error_text(e2)
                    continue
                base["columns"].append(part["columns"][0])
                for row, extra in zip(base["rows"], part["rows"]):
                    row.append(extra[0])
            base["columnErrors"] = errors
            out = base
        except Exception:
            pass
    out["reader"], out["file"] = reader, path
    sys.stdout.write(json.dumps(out) + "\n")

def with_pyarrow(path, columns):
    pf = pq.ParquetFile(path)
    table = pf.read(columns=columns)
    out = table_result(table, [str(f.type) for f in table.schema])
    out["rowGroups"] = pf.metadata.num_row_groups
    return out

def with_polars(path, columns):
    df = pl.read_parquet(path, columns=columns)
    return table_result(df.to_arrow(), [str(t) for t in df.dtypes])

for line in sys.stdin:
    path = line.strip()
    if path:
        attempt("pyarrow", path, with_pyarrow)
        attempt("polars", path, with_polars)
`;

interface JsonLine {
  file: string;
  reader?: string;
  error?: string;
  columns?: { name: string; type: string }[];
  rows?: PanelValue[][];
  rowGroups?: number;
  columnErrors?: Record<string, string>;
}

function toPanelFile(line: JsonLine): PanelFile {
  if (line.error !== undefined) return { error: line.error };
  return {
    columns: line.columns ?? [],
    rows: line.rows ?? [],
    ...(line.rowGroups !== undefined ? { rowGroups: line.rowGroups } : {}),
    ...(line.columnErrors !== undefined ? { columnErrors: line.columnErrors } : {}),
  };
}

/** Run a reader process with the file list on stdin; one JSON object per output line, parsed as it arrives. */
function runLines(command: string, args: string[], files: string[], what: string): Promise<JsonLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: JsonLine[] = [];
    const err: Buffer[] = [];
    let parseError: unknown = null;
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (l) => {
      if (l.trim() === '' || parseError) return;
      try {
        lines.push(JSON.parse(l) as JsonLine);
      } catch (e) {
        parseError = e;
      }
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${what} failed (exit ${code}): ${Buffer.concat(err).toString('utf8').trim().slice(-2000)}`));
      else if (parseError) reject(new Error(`${what} printed a line that is not JSON: ${String(parseError)}`));
      else resolve(lines);
    });
    child.stdin.end(files.map((f) => `${f}\n`).join(''));
  });
}

async function readWithPython(files: string[]): Promise<{ pyarrow: Map<string, PanelFile>; polars: Map<string, PanelFile> }> {
  const lines = await runLines('python3', ['-c', PYTHON_SCRIPT], files, 'the pyarrow/polars reader');
  const pyarrow = new Map<string, PanelFile>();
  const polars = new Map<string, PanelFile>();
  for (const line of lines) (line.reader === 'polars' ? polars : pyarrow).set(line.file, toPanelFile(line));
  return { pyarrow, polars };
}

async function readWithParquetJava(files: string[]): Promise<Map<string, PanelFile>> {
  if (!existsSync(join(JAVA_READER, 'lib', '.complete'))) {
    throw new Error(`the parquet-java reader is not built at ${JAVA_READER}; run bash test/services/up.sh`);
  }
  const classpath = `${join(JAVA_READER, 'classes')}:${join(JAVA_READER, 'lib', '*')}`;
  const lines = await runLines('java', ['-cp', classpath, 'rivet.readers.ParquetJsonLines'], files, 'the parquet-java reader');
  return new Map(lines.map((l) => [l.file, toPanelFile(l)]));
}

function floatBits(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return Buffer.from(view.buffer).toString('hex');
}

function decimalText(value: bigint, scale: number): string {
  if (scale <= 0) return String(value * 10n ** BigInt(-scale));
  const neg = value < 0n;
  const digits = String(neg ? -value : value).padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** `float`: the column (or list element) is FLOAT or DOUBLE, which DuckDB hands to JS as numbers just like small integers. */
function fromDuckDB(v: DuckDBValue, float: boolean): PanelValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return float ? floatBits(v) : String(v);
  if (typeof v === 'bigint') return String(v);
  if (v instanceof DuckDBDecimalValue) return decimalText(v.value, v.scale);
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes).toString('hex');
  if (v instanceof DuckDBUUIDValue) return v.toString().replace(/-/g, '');
  if (v instanceof DuckDBDateValue) return String(v.days);
  if (v instanceof DuckDBTimeValue) return String(v.micros * 1000n);
  if (v instanceof DuckDBTimeNSValue) return String(v.nanos);
  if (v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue) return String(v.micros * 1000n);
  if (v instanceof DuckDBTimestampMillisecondsValue) return String(v.millis * 1_000_000n);
  if (v instanceof DuckDBTimestampSecondsValue) return String(v.seconds * 1_000_000_000n);
  if (v instanceof DuckDBTimestampNanosecondsValue) return String(v.nanos);
  if (v instanceof DuckDBListValue) return v.items.map((x) => fromDuckDB(x, float));
  throw new Error(`no panel shape for the DuckDB value ${String(v)}`);
}

async function readAllWithDuckDB(files: string[]): Promise<Map<string, PanelFile>> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const out = new Map<string, PanelFile>();
  try {
    for (const file of files) {
      const scan = `read_parquet('${file.replace(/'/g, "''")}')`;
      try {
        const described = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${scan}`)).getRowObjectsJS();
        const reader = await con.runAndReadAll(`SELECT * FROM ${scan}`);
        const columns = described.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
        const float = columns.map((c) => /^(FLOAT|DOUBLE)(\[\])*$/.test(c.type));
        const rows = reader.getRows().map((row) => row.map((v, i) => fromDuckDB(v, float[i])));
        out.set(file, { columns, rows });
      } catch (e) {
        out.set(file, { error: e instanceof Error ? e.message : String(e) });
      }
    }
  } finally {
    con.closeSync();
    instance.closeSync();
  }
  return out;
}
