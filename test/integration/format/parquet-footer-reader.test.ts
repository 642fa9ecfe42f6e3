import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchParquetFooter, footerLength, parseFooterFromTail, ParquetFooterError, rowGroupRows, type ParquetFooter } from '../../../shared/format/parquet-footer-reader.js';
import { ParquetReadBack } from '../../../shared/format/parquet-read-back.js';
import { queryWithDuckDB } from '../../helpers/readers.js';

/**
 * The footer reader against files written by other Parquet writers (pyarrow's C++ writer,
 * DuckDB's), compared with what those libraries report about their own files.
 */
const run = promisify(execFile);
let dir: string;
let pyarrowFile: string;
let duckdbFile: string;
let pyarrowTruth: { num_rows: number; row_groups: number[]; names: string[]; leaves: string[]; created_by: string; values: number[][] };

const PYARROW_WRITE = `
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
n = 1000
t = pa.table({
  'id': pa.array(range(n), pa.int64()),
  'name': pa.array([None if i % 7 == 0 else f'n{i}' for i in range(n)], pa.string()),
  'tags': pa.array([[i, i + 1][: i % 3] for i in range(n)], pa.list_(pa.int32())),
  'pt': pa.array([{'x': float(i), 'y': None} for i in range(n)], pa.struct([('x', pa.float64()), ('y', pa.float64())])),
})
pq.write_table(t, sys.argv[1], row_group_size=300, compression='zstd', write_page_index=True)
md = pq.ParquetFile(sys.argv[1]).metadata
print(json.dumps({
  'num_rows': md.num_rows,
  'row_groups': [md.row_group(i).num_rows for i in range(md.num_row_groups)],
  'names': [md.schema.column(i).path.split('.')[0] for i in range(md.num_columns)],
  'leaves': [md.schema.column(i).path for i in range(md.num_columns)],
  'created_by': md.created_by,
  'values': [[md.row_group(g).column(c).num_values for c in range(md.num_columns)] for g in range(md.num_row_groups)],
}))
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-footer-'));
  pyarrowFile = join(dir, 'pyarrow.parquet');
  const { stdout } = await run('python3', ['-c', PYARROW_WRITE, pyarrowFile]);
  pyarrowTruth = JSON.parse(stdout);
  duckdbFile = join(dir, 'duckdb.parquet');
  await queryWithDuckDB(
    `COPY (SELECT i::BIGINT AS id, 'v' || i AS v, CASE WHEN i % 2 = 0 THEN NULL ELSE i * 1.5 END AS d FROM range(5000) t(i)) TO '${duckdbFile}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function footerOf(file: string): Promise<ParquetFooter> {
  const bytes = await readFile(file);
  return parseFooterFromTail(bytes, bytes.length);
}

/** Ranged reads over a file in memory, recording each request. */
function ranged(bytes: Uint8Array, requests: [number, number][] = []) {
  return async (offset: number, length: number) => {
    requests.push([offset, length]);
    return bytes.subarray(offset, offset + length);
  };
}

describe('Parquet footer reader on files other writers wrote', () => {
  it('pyarrow: rows, row groups, schema tree and value counts are what pyarrow reports', async () => {
    const f = await footerOf(pyarrowFile);
    expect(f.numRows).toBe(pyarrowTruth.num_rows);
    expect(f.rowGroups.map((g) => g.numRows)).toEqual(pyarrowTruth.row_groups);
    expect(rowGroupRows(f)).toBe(1000);
    expect(f.createdBy).toBe(pyarrowTruth.created_by);
    expect(f.keyValue.has('ARROW:schema')).toBe(true);
    expect(f.schema[0].numChildren).toBe(4);
    expect(f.rowGroups[0].columns.map((c) => c.path.join('.'))).toEqual(pyarrowTruth.leaves);
    expect(f.rowGroups.map((g) => g.columns.map((c) => c.numValues))).toEqual(pyarrowTruth.values);
  });

  it('DuckDB: rows and row groups agree with DuckDB\'s own parquet_metadata()', async () => {
    const f = await footerOf(duckdbFile);
    const truth = await queryWithDuckDB(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${duckdbFile}') ORDER BY row_group_id`);
    expect(f.numRows).toBe(5000);
    expect(f.rowGroups.map((g) => g.numRows)).toEqual(truth.map((r) => Number(r.row_group_num_rows)));
    expect(f.createdBy).toMatch(/DuckDB/i);
    expect(f.schema.slice(1).map((e) => e.name)).toEqual(['id', 'v', 'd']);
  });

  it('streamed read-back walks every page of both files to the footer, in any chunking', async () => {
    for (const file of [pyarrowFile, duckdbFile]) {
      const bytes = await readFile(file);
      const whole = await footerOf(file);
      for (const size of [1, 13, 65536]) {
        const r = new ParquetReadBack();
        for (let at = 0; at < bytes.length; at += size) r.feed(bytes.subarray(at, at + size));
        const result = r.end();
        expect(result.footer).toEqual(whole);
        expect(result.pages.length).toBeGreaterThan(0);
        expect(result.pages[0].offset).toBe(4);
      }
    }
  });

  it('ranged reads: the tail, then the leading magic; a footer beyond the first read costs one more', async () => {
    const bytes = await readFile(pyarrowFile);
    const requests: [number, number][] = [];
    const f = await fetchParquetFooter(bytes.length, ranged(bytes, requests));
    expect(f.numRows).toBe(1000);
    // The file is smaller than the first tail read: one request covers everything.
    expect(requests).toEqual([[0, bytes.length]]);

    // DuckDB with many small row groups of many columns: a footer larger than the first read.
    const wide = join(dir, 'wide.parquet');
    const cols = Array.from({ length: 12 }, (_, k) => `i + ${k} AS c${k}`).join(', ');
    await queryWithDuckDB(`COPY (SELECT ${cols} FROM range(400000) t(i)) TO '${wide}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
    const wideBytes = await readFile(wide);
    const footerLen = footerLength(wideBytes.subarray(wideBytes.length - 8), wideBytes.length);
    expect(footerLen).toBeGreaterThan(65536);
    const r2: [number, number][] = [];
    const wf = await fetchParquetFooter(wideBytes.length, ranged(wideBytes, r2));
    expect(wf.numRows).toBe(400000);
    expect(wf.rowGroups.length).toBeGreaterThan(100);
    expect(r2).toEqual([
      [wideBytes.length - 65536, 65536],
      [wideBytes.length - footerLen - 8, footerLen + 8 - 65536],
      [0, 4],
    ]);
  });
});

describe('Parquet footer reader refuses what is not a readable footer', () => {
  it('names the problem: magic, length, truncation, garbage', async () => {
    const bytes = new Uint8Array(await readFile(duckdbFile));
    const bad = (mutate: (b: Uint8Array) => Uint8Array) => fetchParquetFooter(mutate(bytes.slice()).length, ranged(mutate(bytes.slice())));
    await expect(bad((b) => (b.set([0x50, 0x41, 0x52, 0x30], b.length - 4), b))).rejects.toThrow(/does not end with the Parquet magic/);
    await expect(bad((b) => (b.set([0, 0, 0, 0], 0), b))).rejects.toThrow(/does not start with the Parquet magic/);
    await expect(bad((b) => (new DataView(b.buffer).setUint32(b.length - 8, b.length, true), b))).rejects.toThrow(/does not fit in a file/);
    await expect(bad((b) => b.subarray(0, 10))).rejects.toThrow(/too short for Parquet/);
    // The footer's bytes replaced by noise of the same length: a file of the right size and shape that is not Parquet.
    await expect(
      bad((b) => {
        const len = new DataView(b.buffer).getUint32(b.length - 8, true);
        b.fill(0xee, b.length - 8 - len, b.length - 8);
        return b;
      }),
    ).rejects.toBeInstanceOf(ParquetFooterError);
  });
});
