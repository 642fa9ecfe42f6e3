import { Utf8, tableFromArrays, tableToIPC, vectorFromArray, Table } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import type { Destination } from '../../../shared/destination/destination.js';
import { ContentTally, verifyPartContent } from '../../../shared/run/content-verify.js';
import { RivetError } from '../../../shared/errors/rivet-error.js';

/** Just enough of a Destination to read one object back, counting the ranged reads. */
function oneObject(bytes: Uint8Array): Destination & { ranges: number } {
  const d = {
    ranges: 0,
    capabilities: { streaming: false, createOnly: true, listingHasMd5: false },
    async readRange(_key: string, offset: number, length: number) {
      d.ranges++;
      return bytes.subarray(offset, offset + length);
    },
    async *read() {
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
    },
  };
  return d as unknown as Destination & { ranges: number };
}

const table = tableFromArrays({ id: Int32Array.from({ length: 5000 }, (_, i) => i), name: Array.from({ length: 5000 }, (_, i) => (i % 4 === 0 ? null : i % 5 === 0 ? '' : `n${i}`)) });

function parquetOf(): Uint8Array {
  const props = new pw.WriterPropertiesBuilder().setMaxRowGroupSize(1000).build();
  return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props);
}

async function failure(p: Promise<void>): Promise<RivetError> {
  try {
    await p;
  } catch (e) {
    return e as RivetError;
  }
  throw new Error('expected verify: content to fail');
}

describe('verifyPartContent', () => {
  it('Parquet: reads every row group back with ranged reads and matches the tally of the batches', async () => {
    const dest = oneObject(parquetOf());
    const tally = new ContentTally('parquet', table.schema);
    for (const b of table.batches) tally.add(b);
    expect(tally.counts).toEqual({ rows: 5000, empty: [0, 1250] });
    const bytes = parquetOf();
    await verifyPartContent(dest, 'part-000001.parquet', bytes.length, 'parquet', table.schema, tally.counts);
    // The footer plus at least one read per row group: the part is never fetched in one piece.
    expect(dest.ranges).toBeGreaterThanOrEqual(5);
  });

  it('Parquet: a row or a null that differs from what was written fails with CONTENT_MISMATCH naming it', async () => {
    const bytes = parquetOf();
    const rows = await failure(verifyPartContent(oneObject(bytes), 'p.parquet', bytes.length, 'parquet', table.schema, { rows: 5001, empty: [0, 1250] }));
    expect(rows.code).toBe('CONTENT_MISMATCH');
    expect(rows.exitCode).toBe(1);
    expect(rows.hint).toBeTruthy();
    expect(rows.message).toContain('5000 rows read back, 5001 were written');
    const nulls = await failure(verifyPartContent(oneObject(bytes), 'p.parquet', bytes.length, 'parquet', table.schema, { rows: 5000, empty: [0, 1249] }));
    expect(nulls.message).toContain('column name: 1250 nulls read back, 1249 were written');
  });

  it('CSV: counts records and empty cells (NULL and empty text are both an empty field; "" is a value)', async () => {
    const values = ['x', null, '', 'q,"r"\nline'];
    const small = new Table({ a: vectorFromArray(Int32Array.from([1, 2, 3, 4])), b: vectorFromArray(values, new Utf8()) });
    const tally = new ContentTally('csv', small.schema);
    for (const b of small.batches) tally.add(b);
    expect(tally.counts).toEqual({ rows: 4, empty: [0, 2] });
    // Dictionary-encoded text counts the same way.
    const dictionary = tableFromArrays({ a: Int32Array.from([1, 2, 3, 4]), b: values });
    const dictTally = new ContentTally('csv', dictionary.schema);
    for (const b of dictionary.batches) dictTally.add(b);
    expect(dictTally.counts).toEqual(tally.counts);
    const csv = new TextEncoder().encode('a,b\n1,x\n2,\n3,\n4,"q,""r""\nline"\n');
    await verifyPartContent(oneObject(csv), 'p.csv', csv.length, 'csv', small.schema, tally.counts);
    const quotedEmpty = new TextEncoder().encode('a,b\n1,x\n2,\n3,""\n4,"q,""r""\nline"\n');
    const e = await failure(verifyPartContent(oneObject(quotedEmpty), 'p.csv', quotedEmpty.length, 'csv', small.schema, tally.counts));
    expect(e.message).toContain('column b: 1 empty cells read back, 2 were written');
    const short = new TextEncoder().encode('a,b\n1,x\n2,\n3,\n');
    expect((await failure(verifyPartContent(oneObject(short), 'p.csv', short.length, 'csv', small.schema, tally.counts))).message).toContain('3 rows read back, 4 were written');
  });
});
