import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal, Field, Int64, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ByteSink, Compression, FormatOptions } from '../../../shared/format/format-writer.js';
import { createParquetWriter } from '../../../shared/format/parquet-writer.js';
import { countWithDuckDB, queryWithDuckDB, readWithDuckDB, readWithPyArrow } from '../../helpers/readers.js';
import { FIXTURE_COLUMNS, fixtureBatch, fixtureExpectedRows, fixtureSchema } from './all-types-fixture.js';
import { FileSink } from './file-sink.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-parquet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeFile(name: string, options: FormatOptions, batches = [fixtureBatch()]): Promise<string> {
  const file = join(dir, name);
  const sink = await FileSink.create(file);
  const writer = await createParquetWriter(fixtureSchema(), sink, options);
  for (const b of batches) await writer.write(b);
  await writer.finish();
  await sink.close();
  expect(writer.bytesWritten).toBe(sink.bytes);
  expect(writer.rowsWritten).toBe(batches.reduce((n, b) => n + b.numRows, 0));
  return file;
}

const PYARROW_CODEC: Record<Compression, string> = { zstd: 'ZSTD', snappy: 'SNAPPY', gzip: 'GZIP', lz4: 'LZ4', none: 'UNCOMPRESSED' };

describe.each(['zstd', 'snappy', 'gzip', 'lz4', 'none'] as Compression[])('parquet writer, %s', (compression) => {
  let file: string;
  beforeAll(async () => {
    file = await writeFile(`all-${compression}.parquet`, { compression });
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
    const file = await writeFile('groups.parquet', { compression: 'snappy', rowGroupRows: 5 }, [b, b, b]);
    const r = await readWithPyArrow(file);
    expect(r.metadata!.rowGroupRows).toEqual([5, 5, 5, 5, 4]);
    expect(r.rows).toEqual([...fixtureExpectedRows(), ...fixtureExpectedRows(), ...fixtureExpectedRows()]);
    expect(await countWithDuckDB(file)).toBe(24);
  });

  it('writes a valid empty file with the full schema when no batch arrives', async () => {
    const file = await writeFile('empty.parquet', { compression: 'zstd' }, []);
    const duck = await readWithDuckDB(file);
    expect(duck.rows).toEqual([]);
    expect(duck.columns.map((c) => c.type)).toEqual(FIXTURE_COLUMNS.map((c) => c.duckdbType));
    const py = await readWithPyArrow(file);
    expect(py.numRows).toBe(0);
    expect(py.columns.map((c) => c.type)).toEqual(FIXTURE_COLUMNS.map((c) => c.pyarrowType));
  });

  it('accepts sliced batches (Arrow offsets) and zero-row batches', async () => {
    const b = fixtureBatch();
    const file = await writeFile('sliced.parquet', { compression: 'gzip' }, [b.slice(0, 3), b.slice(3, 3), b.slice(3, 8)]);
    expect((await readWithDuckDB(file)).rows).toEqual(fixtureExpectedRows());
  });

  it('copies a batch larger than the wasm slice size in pieces, keeping every row', async () => {
    const n = 400_000;
    const schema = new Schema([new Field('id', new Int64(), true), new Field('s', new Utf8(), true)]);
    const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    const strings = vectorFromArray(Array.from({ length: n }, (_, i) => `value-number-${i}`), new Utf8()).data[0];
    const children = [makeData({ type: new Int64(), length: n, nullCount: 0, data: ids }), strings];
    const big = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
    const file = join(dir, 'big-batch.parquet');
    const sink = await FileSink.create(file);
    const writer = await createParquetWriter(schema, sink, { compression: 'snappy' });
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
    await expect(createParquetWriter(schema, sink, { compression: 'zstd' })).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/"amount".*negative scale/) });
  });

  it('surfaces a failing sink on the next write or finish, and abort still cleans up', async () => {
    let calls = 0;
    const sink: ByteSink = {
      write: async () => {
        calls++;
        throw new Error('disk full');
      },
    };
    const writer = await createParquetWriter(fixtureSchema(), sink, { compression: 'zstd', rowGroupRows: 4 });
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
    const sink = await FileSink.create(join(dir, 'aborted.parquet'));
    const writer = await createParquetWriter(fixtureSchema(), sink, { compression: 'zstd' });
    await writer.write(fixtureBatch());
    expect(() => writer.abort()).not.toThrow();
    expect(() => writer.abort()).not.toThrow();
    await expect(writer.write(fixtureBatch())).rejects.toThrow();
    await sink.close();
  });

  it('rejects a batch whose schema differs from the file schema', async () => {
    const sink = await FileSink.create(join(dir, 'mismatch.parquet'));
    const writer = await createParquetWriter(fixtureSchema(FIXTURE_COLUMNS.slice(0, 2)), sink, { compression: 'zstd' });
    await expect(writer.write(fixtureBatch())).rejects.toThrow(/does not match/);
    writer.abort();
    await sink.close();
  });
});
