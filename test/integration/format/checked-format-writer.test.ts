import { Field, Int32, List, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { createCheckedFormatWriter } from '../../../shared/format/checked-format-writer.js';
import type { Compression, FileFormat, FormatOptions } from '../../../shared/format/format-writer.js';
import { parquetFooterProblems } from '../../../shared/format/parquet-footer-check.js';
import { ParquetReadBack } from '../../../shared/format/parquet-read-back.js';
import { decodeThriftStruct, encodeThriftStruct, ThriftType, type ThriftStruct } from '../../../shared/format/thrift-compact.js';
import { fixtureBatch, fixtureSchema } from './all-types-fixture.js';
import { MemorySink } from './file-sink.js';

/**
 * The read-back check every part passes before it is published: files from both Parquet
 * encoders (and CSV) pass it, and files whose footer disagrees with their pages or with what
 * the writer was given do not.
 */

async function withEnv<T>(vars: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await run();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function writeChecked(format: FileFormat, batches: RecordBatch[], options: FormatOptions): Promise<Uint8Array> {
  const sink = new MemorySink();
  const w = await createCheckedFormatWriter(format, batches[0].schema, sink, options, 'part test');
  for (const b of batches) await w.write(b);
  await w.finish();
  return Buffer.concat(sink.chunks);
}

function listBatch(rows: number): RecordBatch {
  const values = Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => i * 10 + k)));
  const tags = vectorFromArray(values, new List(new Field('item', new Int32(), true)));
  const names = vectorFromArray(
    Array.from({ length: rows }, (_, i) => `n${i}`),
    new Utf8(),
  );
  const schema = new Schema([new Field('name', new Utf8(), true), new Field('tags', tags.type, true)]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: [names.data[0], tags.data[0]] }));
}

function readBack(bytes: Uint8Array, chunkSize: number) {
  const r = new ParquetReadBack();
  for (let at = 0; at < bytes.length; at += chunkSize) r.feed(bytes.subarray(at, at + chunkSize));
  return r.end();
}

describe('checked Parquet parts', () => {
  const cases: [string, Compression][] = [
    ['native', 'zstd'],
    ['native', 'snappy'],
    ['native', 'none'],
    ['wasm', 'zstd'],
    ['wasm', 'lz4'],
    ['wasm', 'none'],
  ];
  for (const [encoder, compression] of cases) {
    it(`${encoder} ${compression}: several row groups read back as written`, async () => {
      const batch = fixtureBatch();
      const bytes = await withEnv({ RIVET_PARQUET_ENCODER: encoder }, () => writeChecked('parquet', [batch, batch, batch], { compression, rowGroupRows: 4 }));
      // The same check, fed in awkward pieces, agrees: page headers split across writes are reassembled.
      for (const size of [1, 7, 4096]) {
        const result = readBack(bytes, size);
        expect(result.footer.numRows).toBe(batch.numRows * 3);
        expect(result.footer.rowGroups.length).toBe(Math.ceil((batch.numRows * 3) / 4));
        expect(parquetFooterProblems(result, { schema: fixtureSchema(), rows: batch.numRows * 3, rowGroupRows: 4 })).toEqual([]);
      }
    });
  }

  it('the wasm fallback (list columns) reads back as written, repeated leaves included', async () => {
    const batch = listBatch(50);
    const bytes = await withEnv({ RIVET_PARQUET_ENCODER: undefined }, () => writeChecked('parquet', [batch], { compression: 'zstd', rowGroupRows: 16 }));
    const result = readBack(bytes, 100);
    expect(result.footer.schema.map((e) => e.name)).toEqual(['arrow_schema', 'name', 'tags', 'list', 'item']);
    expect(result.footer.rowGroups.map((g) => g.numRows)).toEqual([16, 16, 16, 2]);
  });

  it('an encoder whose footer claims a row more than it wrote fails the part (RIVET_FAULT=inconsistent_footer)', async () => {
    for (const encoder of ['native', 'wasm']) {
      const batch = fixtureBatch();
      await withEnv({ RIVET_PARQUET_ENCODER: encoder, RIVET_FAULT: 'inconsistent_footer' }, () =>
        expect(writeChecked('parquet', [batch], { compression: 'zstd' })).rejects.toMatchObject({
          code: 'FORMAT',
          message: expect.stringContaining(`part test does not read back as written, so it was not published: the footer says ${batch.numRows + 1} rows, the writer was given ${batch.numRows}`),
          hint: expect.stringContaining('RIVET_PARQUET_ENCODER'),
        }),
      );
    }
  });

  it('a footer whose chunk sizes, offsets or value counts disagree with the pages is reported', async () => {
    const batch = fixtureBatch();
    const good = await withEnv({ RIVET_PARQUET_ENCODER: 'native' }, () => writeChecked('parquet', [batch], { compression: 'zstd' }));
    const intent = { schema: fixtureSchema(), rows: batch.numRows, rowGroupRows: 1000 };
    const edit = (change: (columnMeta: ThriftStruct) => void): string[] => {
      const bytes = withFooter(good, (meta) => {
        const groups = field(meta, 4);
        const chunk = field(field(groups[0], 1)[1], 3) as ThriftStruct;
        change(chunk);
      });
      return parquetFooterProblems(readBack(bytes, 1 << 20), intent);
    };
    const bump = (id: number, by: number) => (m: ThriftStruct) => {
      const f = m.find((x) => x.id === id)!;
      if (f.value.type === ThriftType.I64) f.value.value += BigInt(by);
    };
    expect(edit(bump(7, 1)).join('\n')).toMatch(/column "c_int16" claims \d+ bytes, its pages end \d+ bytes after its start/);
    expect(edit(bump(9, 3)).join('\n')).toMatch(/column "c_int16" starts at byte \d+, the previous chunk ended at \d+/);
    expect(edit(bump(5, -1)).join('\n')).toMatch(/column "c_int16" has \d+ values for \d+ rows/);
  });

  it('bytes that are not Parquet are refused with where it went wrong', () => {
    const r = new ParquetReadBack();
    r.feed(Buffer.from('id,name\n1,a\n'));
    expect(() => r.end()).toThrow(/does not start with the Parquet magic/);
  });
});

describe('checked CSV parts', () => {
  it('count records with embedded line feeds, quotes and commas as rows', async () => {
    const texts = ['plain', 'line\nfeed', 'say "hi"', 'a,b', '"\n"', '', 'crlf\r\n'];
    const col = vectorFromArray(texts, new Utf8());
    const schema = new Schema([new Field('t', new Utf8(), true)]);
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: texts.length, nullCount: 0, children: [col.data[0]] }));
    const bytes = await writeChecked('csv', [batch, batch], { compression: 'none' });
    expect(Buffer.from(bytes).toString('utf8').split('\n').length - 1).toBeGreaterThan(texts.length * 2);
  });

  it('a header name with a quote does not confuse the count', async () => {
    const schema = new Schema([new Field('we"ird', new Int32(), true)]);
    const col = vectorFromArray([1, 2, 3], new Int32());
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 3, nullCount: 0, children: [col.data[0]] }));
    await expect(writeChecked('csv', [batch], { compression: 'none' })).resolves.toBeDefined();
  });
});

function field(s: ThriftStruct, id: number): ThriftStruct[] & ThriftStruct {
  const f = s.find((x) => x.id === id);
  if (!f) throw new Error(`no field ${id}`);
  if (f.value.type === ThriftType.List) return f.value.value.map((v) => (v.type === ThriftType.Struct ? v.value : [])) as ThriftStruct[] & ThriftStruct;
  if (f.value.type === ThriftType.Struct) return f.value.value as ThriftStruct[] & ThriftStruct;
  throw new Error(`field ${id} is neither a list nor a struct`);
}

/** The file with its footer decoded, edited and re-encoded (the writer's own codec: a test tool only). */
function withFooter(file: Uint8Array, change: (meta: ThriftStruct) => void): Uint8Array {
  const len = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(file.length - 8, true);
  const start = file.length - 8 - len;
  const meta = decodeThriftStruct(file.subarray(start, file.length - 8));
  change(meta);
  const footer = encodeThriftStruct(meta);
  const out = new Uint8Array(start + footer.length + 8);
  out.set(file.subarray(0, start));
  out.set(footer, start);
  new DataView(out.buffer).setUint32(start + footer.length, footer.length, true);
  out.set([0x50, 0x41, 0x52, 0x31], start + footer.length + 4);
  return out;
}
