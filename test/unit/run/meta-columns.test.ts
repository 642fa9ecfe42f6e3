import { Field, Int32, makeData, RecordBatch, Schema, Struct, Utf8, vectorFromArray } from 'apache-arrow';
import { xxhash128 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { MetaColumns } from '../../../shared/run/meta-columns.js';

function batch(ids: (number | null)[], names: (string | null)[]): RecordBatch {
  const fields = [new Field('id', new Int32(), true), new Field('name', new Utf8(), true)];
  const children = [vectorFromArray(ids, new Int32()).data[0], vectorFromArray(names, new Utf8()).data[0]];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: ids.length, nullCount: 0, children }));
}

/** The documented definition, computed independently: low 64 bits of XXH3-128 as a signed integer. */
async function expectedHash(bytes: number[]): Promise<bigint> {
  const hex = await xxhash128(new Uint8Array(bytes));
  return BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`));
}

const enc = (s: string) => [...new TextEncoder().encode(s)];

describe('MetaColumns', () => {
  it('is null when no meta column is asked for', async () => {
    expect(await MetaColumns.create({ exportedAt: false, rowHash: false }, new Date())).toBeNull();
  });

  it('appends exported_at (µs UTC, not null) and row_hash (int64, not null) after the source columns', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const meta = (await MetaColumns.create({ exportedAt: true, rowHash: true }, at))!;
    const out = meta.append(batch([7, null, 3], ['a,"b"', 'x', null]));
    expect(out.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['id', 'Int32', true],
      ['name', 'Utf8', true],
      ['_rivet_exported_at', 'Timestamp<MICROSECOND, UTC>', false],
      ['_rivet_row_hash', 'Int64', false],
    ]);
    const stamps = out.getChild('_rivet_exported_at')!.data[0].values as BigInt64Array;
    expect([...stamps]).toEqual([1767323045678000n, 1767323045678000n, 1767323045678000n]);

    const hashes = [...(out.getChild('_rivet_row_hash')!.data[0].values as BigInt64Array)];
    // Per column: NULL → 0x00, else the value's text (strings verbatim, no CSV quoting); 0x1F after each.
    expect(hashes[0]).toBe(await expectedHash([...enc('7'), 0x1f, ...enc('a,"b"'), 0x1f]));
    expect(hashes[1]).toBe(await expectedHash([0x00, 0x1f, ...enc('x'), 0x1f]));
    expect(hashes[2]).toBe(await expectedHash([...enc('3'), 0x1f, 0x00, 0x1f]));
  });

  it('depends only on the values: same rows, same hashes, in any batch; NULL differs from empty text', async () => {
    const meta = (await MetaColumns.create({ exportedAt: false, rowHash: true }, new Date()))!;
    const one = meta.append(batch([1, 2], ['', null]));
    const two = meta.append(batch([2, 1], [null, '']));
    const h = (b: RecordBatch) => [...(b.getChild('_rivet_row_hash')!.data[0].values as BigInt64Array)];
    expect(h(two)).toEqual([...h(one)].reverse());
    expect(h(one)[0]).not.toBe(h(meta.append(batch([1], [null])))[0]);
    expect(one.schema.fields.map((f) => f.name)).toEqual(['id', 'name', '_rivet_row_hash']);
  });
});
