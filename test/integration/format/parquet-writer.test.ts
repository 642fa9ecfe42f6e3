import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bool, Decimal, Field, Float64, Int32, Int64, RecordBatch, Schema, Struct, Utf8, makeData, tableFromIPC, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ByteSink, Compression, CreateFormatWriter, FormatOptions } from '../../../shared/format/format-writer.js';
import { tryCreateNativeParquetWriter } from '../../../shared/format/native-parquet-writer.js';
import { createParquetFileWriter } from '../../../shared/format/parquet-file-writer.js';
import { createParquetWriter } from '../../../shared/format/parquet-writer.js';
import { countWithDuckDB, queryWithDuckDB, readWithDuckDB, readWithPyArrow } from '../../helpers/readers.js';
import { FIXTURE_COLUMNS, fixtureBatch, fixtureExpectedRows, fixtureSchema } from './all-types-fixture.js';
import { FileSink } from './file-sink.js';
import { seededRandom } from '../../helpers/seeded-random.js';
import { readFile } from 'node:fs/promises';
import { decodeThriftStruct, ThriftType } from '../../../shared/format/thrift-compact.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-parquet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** rivet's own encoder, refusing the fallback so these tests know which encoder wrote. */
const createNative: CreateFormatWriter = async (schema, sink, options) => {
  const w = tryCreateNativeParquetWriter(schema, sink, options);
  if (!w) throw new Error(`the native encoder declined ${options.compression}`);
  return w;
};

/** The native encoder with every page encoded and compressed on this thread (no compression threads). */
const createNativeInline: CreateFormatWriter = async (schema, sink, options) => {
  const before = process.env.RIVET_PARQUET_COMPRESS_THREADS;
  process.env.RIVET_PARQUET_COMPRESS_THREADS = '0';
  try {
    return await createNative(schema, sink, options);
  } finally {
    if (before === undefined) delete process.env.RIVET_PARQUET_COMPRESS_THREADS;
    else process.env.RIVET_PARQUET_COMPRESS_THREADS = before;
  }
};

// Every encoder must write files that read back identically; LZ4 is the wasm encoder's alone.
// `native` encodes PLAIN pages on the compression threads, `native-inline` on this thread.
const ENCODERS: [string, CreateFormatWriter, Compression[]][] = [
  ['wasm', createParquetWriter, ['zstd', 'snappy', 'gzip', 'lz4', 'none']],
  ['native', createNative, ['zstd', 'snappy', 'gzip', 'none']],
  ['native-inline', createNativeInline, ['zstd', 'snappy', 'gzip', 'none']],
];
let createParquet: CreateFormatWriter = createParquetWriter;

async function writeFile(name: string, options: FormatOptions, batches = [fixtureBatch()]): Promise<string> {
  const file = join(dir, name);
  const sink = await FileSink.create(file);
  const writer = await createParquet(fixtureSchema(), sink, options);
  for (const b of batches) await writer.write(b);
  await writer.finish();
  await sink.close();
  expect(writer.bytesWritten).toBe(sink.bytes);
  expect(writer.rowsWritten).toBe(batches.reduce((n, b) => n + b.numRows, 0));
  return file;
}

const PYARROW_CODEC: Record<Compression, string> = { zstd: 'ZSTD', snappy: 'SNAPPY', gzip: 'GZIP', lz4: 'LZ4', none: 'UNCOMPRESSED' };

describe.each(ENCODERS)('%s encoder', (encoder, factory, codecs) => {
beforeAll(() => {
  createParquet = factory;
});

describe.each(codecs)('parquet writer, %s', (compression) => {
  let file: string;
  beforeAll(async () => {
    file = await writeFile(`all-${encoder}-${compression}.parquet`, { compression });
  });

  it('reads back in DuckDB with the same types and values', async () => {
    const { columns, rows } = await readWithDuckDB(file);
    expect(columns).toEqual(FIXTURE_COLUMNS.map((c) => ({ name: c.name, type: c.duckdbType })));
    expect(rows).toEqual(fixtureExpectedRows());
  });

  it('reads back in pyarrow with the same types, values, codec and metadata', async () => {
    const r = await readWithPyArrow(file);
    expect(r.numRows).toBe(8);
    expect(r.columns).toEqual(FIXTURE_COLUMNS.map((c) => ({ name: c.name, type: c.pyarrowType })));
    expect(r.rows).toEqual(fixtureExpectedRows());
    const md = r.metadata!;
    expect(md.createdBy).toBe('rivet');
    expect(new Set(Object.values(md.compression))).toEqual(new Set([PYARROW_CODEC[compression]]));
    expect(md.logicalTypes.c_json).toBe('JSON');
    expect(md.logicalTypes.c_uuid).toBe('UUID');
    expect(md.logicalTypes.c_text).toBe('String');
    expect(md.fieldMetadata.c_text).toEqual({ 'rivet.native_type': 'text', 'rivet.fidelity': 'exact' });
    expect(md.fieldMetadata.c_json).toMatchObject({ 'rivet.logical_type': 'json', 'rivet.fidelity': 'logical_string' });
    expect(md.fieldMetadata.c_uuid).toMatchObject({ 'rivet.logical_type': 'uuid', 'rivet.native_type': 'uuid' });
  });
});

describe('parquet writer, row groups and edge cases', () => {
  it('cuts row groups at rowGroupRows across batches', async () => {
    const b = fixtureBatch();
    const file = await writeFile(`groups-${encoder}.parquet`, { compression: 'snappy', rowGroupRows: 5 }, [b, b, b]);
    const r = await readWithPyArrow(file);
    expect(r.metadata!.rowGroupRows).toEqual([5, 5, 5, 5, 4]);
    expect(r.rows).toEqual([...fixtureExpectedRows(), ...fixtureExpectedRows(), ...fixtureExpectedRows()]);
    expect(await countWithDuckDB(file)).toBe(24);
  });

  it('writes a valid empty file with the full schema when no batch arrives', async () => {
    const file = await writeFile(`empty-${encoder}.parquet`, { compression: 'zstd' }, []);
    const duck = await readWithDuckDB(file);
    expect(duck.rows).toEqual([]);
    expect(duck.columns.map((c) => c.type)).toEqual(FIXTURE_COLUMNS.map((c) => c.duckdbType));
    const py = await readWithPyArrow(file);
    expect(py.numRows).toBe(0);
    expect(py.columns.map((c) => c.type)).toEqual(FIXTURE_COLUMNS.map((c) => c.pyarrowType));
  });

  it('accepts sliced batches (Arrow offsets) and zero-row batches', async () => {
    const b = fixtureBatch();
    const file = await writeFile(`sliced-${encoder}.parquet`, { compression: 'gzip' }, [b.slice(0, 3), b.slice(3, 3), b.slice(3, 8)]);
    expect((await readWithDuckDB(file)).rows).toEqual(fixtureExpectedRows());
  });

  it('copies a batch larger than the wasm slice size in pieces, keeping every row', async () => {
    const n = 400_000;
    const schema = new Schema([new Field('id', new Int64(), true), new Field('s', new Utf8(), true)]);
    const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    const strings = vectorFromArray(Array.from({ length: n }, (_, i) => `value-number-${i}`), new Utf8()).data[0];
    const children = [makeData({ type: new Int64(), length: n, nullCount: 0, data: ids }), strings];
    const big = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
    const file = join(dir, `big-batch-${encoder}.parquet`);
    const sink = await FileSink.create(file);
    const writer = await createParquet(schema, sink, { compression: 'snappy' });
    await writer.write(big);
    await writer.finish();
    await sink.close();
    const [r] = await queryWithDuckDB(
      `SELECT count(*)::BIGINT AS n, sum(id)::BIGINT AS ids, count(DISTINCT s)::BIGINT AS s, max(s) FILTER (WHERE id = 399999) AS last FROM '${file}'`,
    );
    expect(r).toEqual({ n: BigInt(n), ids: BigInt((n * (n - 1)) / 2), s: BigInt(n), last: 'value-number-399999' });
  });

  it('refuses a negative decimal scale at creation, naming the column', async () => {
    const schema = new Schema([new Field('amount', new Decimal(-2, 10, 128), true)]);
    const sink: ByteSink = { write: async () => undefined };
    await expect(createParquetFileWriter(schema, sink, { compression: 'zstd' })).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/"amount".*negative scale/) });
  });

  it('surfaces a failing sink on the next write or finish, and abort still cleans up', async () => {
    let calls = 0;
    const sink: ByteSink = {
      write: async () => {
        calls++;
        throw new Error('disk full');
      },
    };
    const writer = await createParquet(fixtureSchema(), sink, { compression: 'zstd', rowGroupRows: 4 });
    const b = fixtureBatch();
    const err = await (async () => {
      for (let i = 0; i < 50; i++) await writer.write(b);
      await writer.finish();
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(calls).toBeGreaterThan(0);
    expect(err).toMatchObject({ code: 'FORMAT', message: expect.stringContaining('disk full') });
    expect(() => writer.abort()).not.toThrow();
  });

  it('abort never throws and leaves the writer unusable', async () => {
    const sink = await FileSink.create(join(dir, `aborted-${encoder}.parquet`));
    const writer = await createParquet(fixtureSchema(), sink, { compression: 'zstd' });
    await writer.write(fixtureBatch());
    expect(() => writer.abort()).not.toThrow();
    expect(() => writer.abort()).not.toThrow();
    await expect(writer.write(fixtureBatch())).rejects.toThrow();
    await sink.close();
  });

  it('rejects a batch whose schema differs from the file schema', async () => {
    const sink = await FileSink.create(join(dir, `mismatch-${encoder}.parquet`));
    const writer = await createParquet(fixtureSchema(FIXTURE_COLUMNS.slice(0, 2)), sink, { compression: 'zstd' });
    await expect(writer.write(fixtureBatch())).rejects.toThrow(/does not match/);
    writer.abort();
    await sink.close();
  });
});
});

describe('a batch written is no longer referenced (its memory is reused by the reader)', () => {
  it.each(ENCODERS.flatMap(([name, factory]) => (['none', 'zstd'] as const).map((c) => [name, c, factory] as const)))(
    '%s encoder, %s: overwriting a batch after write() leaves the file as written',
    async (name, compression, factory) => {
      // A required (non-null) column, whose uncompressed PLAIN pages are byte-for-byte the Arrow values.
      const schema = new Schema([new Field('id', new Int64(), false), new Field('label', new Utf8(), true)]);
      const n = 3000;
      const batch = (from: number) => {
        const ids = new BigInt64Array(n).map((_, i) => BigInt(from + i));
        const labels = vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : `label ${from + i}`)), new Utf8()).data[0];
        const idData = makeData({ type: new Int64(), length: n, data: ids });
        return { rb: new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: [idData, labels] })), scribble: () => {
          ids.fill(-1n);
          (labels.values as Uint8Array).fill(0x21);
        } };
      };
      const file = join(dir, `reuse-${name}-${compression}.parquet`);
      const sink = await FileSink.create(file);
      const writer = await factory(schema, sink, { compression });
      for (const from of [0, n, 2 * n]) {
        const { rb, scribble } = batch(from);
        await writer.write(rb);
        scribble();
      }
      await writer.finish();
      await sink.close();
      const rows = await queryWithDuckDB(`SELECT id, label FROM '${file}' ORDER BY id`);
      expect(rows).toEqual(Array.from({ length: 3 * n }, (_, i) => ({ id: BigInt(i), label: (i % n) % 5 === 0 ? null : `label ${i}` })));
    },
  );
});

describe('native and wasm encoders agree', () => {
  /** The footer's schema elements (field 2) and key/value metadata (field 5), as decoded trees. */
  async function footerParts(file: string): Promise<unknown[]> {
    const bytes = await readFile(file);
    const len = bytes.readUInt32LE(bytes.length - 8);
    const meta = decodeThriftStruct(bytes.subarray(bytes.length - 8 - len, bytes.length - 8));
    const kv = meta.find((f) => f.id === 5)?.value;
    // ARROW:schema is compared decoded: arrow-rs and apache-arrow lay out the flatbuffer differently.
    const b64 = kv && kv.type === ThriftType.List && kv.value[0].type === ThriftType.Struct ? kv.value[0].value[1].value.value : null;
    const ipc = Buffer.concat([Buffer.from(Buffer.from(b64 as Uint8Array).toString('latin1'), 'base64'), Buffer.from([255, 255, 255, 255, 0, 0, 0, 0])]);
    const arrowSchema = tableFromIPC(ipc).schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable, metadata: Object.fromEntries([...f.metadata].sort()) }));
    return [meta.find((f) => f.id === 2)?.value, arrowSchema];
  }

  it('write the same Parquet schema elements, logical types and ARROW:schema', async () => {
    createParquet = createParquetWriter;
    const wasm = await writeFile('agree-wasm.parquet', { compression: 'zstd' });
    createParquet = createNative;
    const native = await writeFile('agree-native.parquet', { compression: 'zstd' });
    expect(await footerParts(native)).toEqual(await footerParts(wasm));
  });
});

describe('dictionary columns with nulls, in batches sliced at odd offsets', () => {
  // 5,000 rows of low-cardinality columns (dictionary-encoded) with nulls every few rows,
  // handed over in slices that start mid-byte of the validity bitmap.
  const n = 5000;
  const schema = new Schema([new Field('id', new Int64(), false), new Field('grp', new Int32(), true), new Field('tag', new Utf8(), true)]);
  const ids = Array.from({ length: n }, (_, i) => BigInt(i));
  const grp = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? null : i % 5));
  const tag = Array.from({ length: n }, (_, i) => (i % 11 === 4 ? null : `tag-${i % 9}`));
  const whole = new RecordBatch(
    schema,
    makeData({
      type: new Struct(schema.fields),
      length: n,
      nullCount: 0,
      children: [vectorFromArray(ids, new Int64()).data[0], vectorFromArray(grp, new Int32()).data[0], vectorFromArray(tag, new Utf8()).data[0]],
    }),
  );
  const slices: RecordBatch[] = [];
  for (let at = 0, k = 0; at < n; k++) {
    const len = [777, 3, 1029, 13, 2001][k % 5];
    slices.push(whole.slice(at, Math.min(n, at + len)));
    at += len;
  }

  it.each(ENCODERS.map(([name, factory]) => [name, factory] as const))('%s encoder: every value and null reads back in DuckDB and pyarrow', async (name, factory) => {
    const file = join(dir, `dict-nulls-${name}.parquet`);
    const sink = await FileSink.create(file);
    const writer = await factory(schema, sink, { compression: 'zstd', rowGroupRows: 1500 });
    for (const b of slices) await writer.write(b);
    await writer.finish();
    await sink.close();
    const rows = await queryWithDuckDB(`SELECT id, grp, tag FROM '${file}' ORDER BY id`);
    expect(rows).toEqual(ids.map((id, i) => ({ id, grp: grp[i], tag: tag[i] })));
    const py = await readWithPyArrow(file);
    expect(py.numRows).toBe(n);
    expect(py.rows.map((r) => [r.grp, r.tag])).toEqual(grp.map((g, i) => [g, tag[i]]));
  });
});

describe('random null bitmaps through the native encoder', () => {
  // A seeded generator, so a failure is reproducible: null patterns of every density, and
  // slices of every length and bit offset, for fixed-width, boolean, decimal and string columns.
  it.each([1, 2, 3])('seed %i: DuckDB reads back every value and null', async (seed) => {
    const rand = seededRandom(seed * 7919);
    const n = 3000;
    const density = [0.05, 0.5, 0.95][seed - 1];
    const pick = <T>(f: () => T): (T | null)[] => Array.from({ length: n }, () => (rand() < density ? null : f()));
    const a = pick(() => Math.floor(rand() * 2 ** 31) - 2 ** 30);
    const b = pick(() => BigInt(Math.floor(rand() * 2 ** 40)) - 2n ** 39n);
    const c = pick(() => rand() < 0.5);
    const d = pick(() => Math.round(rand() * 1e6) / 8);
    const e = pick(() => `v${Math.floor(rand() * (seed === 2 ? 6 : 100000))}`);
    const schema = new Schema([
      new Field('id', new Int64(), false),
      new Field('a', new Int32(), true),
      new Field('b', new Int64(), true),
      new Field('c', new Bool(), true),
      new Field('d', new Float64(), true),
      new Field('e', new Utf8(), true),
    ]);
    const ids = Array.from({ length: n }, (_, i) => BigInt(i));
    const whole = new RecordBatch(
      schema,
      makeData({
        type: new Struct(schema.fields),
        length: n,
        nullCount: 0,
        children: [
          vectorFromArray(ids, new Int64()).data[0],
          vectorFromArray(a, new Int32()).data[0],
          vectorFromArray(b, new Int64()).data[0],
          vectorFromArray(c, new Bool()).data[0],
          vectorFromArray(d, new Float64()).data[0],
          vectorFromArray(e, new Utf8()).data[0],
        ],
      }),
    );
    const slices: RecordBatch[] = [];
    for (let at = 0; at < n; ) {
      const len = 1 + Math.floor(rand() * 400);
      slices.push(whole.slice(at, Math.min(n, at + len)));
      at += len;
    }
    const write = async (name: string, factory: CreateFormatWriter): Promise<string> => {
      const file = join(dir, `random-nulls-${seed}-${name}.parquet`);
      const sink = await FileSink.create(file);
      const writer = await factory(schema, sink, { compression: 'snappy', rowGroupRows: 1000 });
      for (const slice of slices) await writer.write(slice);
      await writer.finish();
      await sink.close();
      return file;
    };
    const file = await write('threads', createNative);
    const rows = await queryWithDuckDB(`SELECT id, a, b, c, d, e FROM '${file}' ORDER BY id`);
    expect(rows).toEqual(ids.map((id, i) => ({ id, a: a[i], b: b[i], c: c[i], d: d[i], e: e[i] })));
    const py = await readWithPyArrow(file);
    expect(py.rows.map((r) => [r.a, r.c, r.e])).toEqual(a.map((v, i) => [v, c[i], e[i]]));

    // Pages encoded on the compression threads and on this thread: the same bytes.
    const inline = await write('inline', createNativeInline);
    expect(Buffer.compare(await readFile(inline), await readFile(file))).toBe(0);

    // Each row group's statistics (null count, min, max), as DuckDB reads them, against the data.
    const stats = await queryWithDuckDB(
      `SELECT row_group_id AS g, path_in_schema AS col, stats_null_count AS nulls, stats_min_value AS min, stats_max_value AS max FROM parquet_metadata('${file}') ORDER BY g, col`,
    );
    const columns = { a, b, c, d, e } as Record<string, unknown[]>;
    const expected = [];
    for (let g = 0; g * 1000 < n; g++) {
      for (const col of Object.keys(columns).sort()) {
        const present = columns[col].slice(g * 1000, (g + 1) * 1000).filter((v) => v !== null);
        const sorted = [...present].sort((x, y) => (x! < y! ? -1 : x! > y! ? 1 : 0));
        const text = (v: unknown): string | null => (v === undefined ? null : col === 'd' ? String(Number(v)) : String(v));
        expected.push({ g: BigInt(g), col, nulls: BigInt(1000 - present.length), min: text(sorted[0]), max: text(sorted[sorted.length - 1]) });
      }
    }
    const actual = stats
      .filter((r) => r.col !== 'id')
      .map((r) => ({ ...r, min: r.col === 'd' && r.min !== null ? String(Number(r.min)) : r.min, max: r.col === 'd' && r.max !== null ? String(Number(r.max)) : r.max }));
    expect(actual).toEqual(expected);
  });
});

describe('RIVET_PARQUET_ENCODER', () => {
  const sink: ByteSink = { write: async () => undefined };
  const withEncoder = async <T>(value: string, run: () => Promise<T>): Promise<T> => {
    const before = process.env.RIVET_PARQUET_ENCODER;
    process.env.RIVET_PARQUET_ENCODER = value;
    try {
      return await run();
    } finally {
      if (before === undefined) delete process.env.RIVET_PARQUET_ENCODER;
      else process.env.RIVET_PARQUET_ENCODER = before;
    }
  };

  it('refuses an unknown value as a usage error', async () => {
    await withEncoder('fast', () =>
      expect(createParquetFileWriter(fixtureSchema(), sink, { compression: 'zstd' })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('"fast"') }),
    );
  });

  it('native refuses what only the wasm encoder can write (lz4) instead of falling back', async () => {
    await withEncoder('native', () =>
      expect(createParquetFileWriter(fixtureSchema(), sink, { compression: 'lz4' })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('lz4') }),
    );
  });
});
