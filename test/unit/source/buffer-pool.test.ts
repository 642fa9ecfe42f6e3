import { Field, Int32, List, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../shared/source/buffer-pool.js';

describe('BufferPool', () => {
  it('hands back a buffer of a batch, zeroed over the requested bytes', () => {
    const pool = new BufferPool();
    const used = new ArrayBuffer(64 * 1024);
    new Uint8Array(used).fill(0xab);
    const schema = new Schema([new Field('a', new Int32(), true)]);
    const data = makeData({ type: new Int32(), length: 16 * 1024, data: new Int32Array(used) });
    pool.giveBatch(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: data.length, nullCount: 0, children: [data] })));
    const got = pool.take(40 * 1024);
    expect(got).toBe(used);
    expect(new Uint8Array(got, 0, 40 * 1024).every((b) => b === 0)).toBe(true);
    // Taken once: the next request gets fresh memory.
    expect(pool.take(40 * 1024)).not.toBe(used);
  });

  it('keeps small buffers out, does not spend a big buffer on a small request, and stops at its byte limit', () => {
    const pool = new BufferPool(200 * 1024);
    const batchOf = (...buffers: ArrayBuffer[]) => {
      const schema = new Schema(buffers.map((_, i) => new Field(`c${i}`, new Int32(), true)));
      const children = buffers.map((b) => makeData({ type: new Int32(), length: b.byteLength / 4, data: new Int32Array(b) }));
      return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: children[0].length, nullCount: 0, children }));
    };
    const small = new ArrayBuffer(1024);
    const big = new ArrayBuffer(128 * 1024);
    const over = new ArrayBuffer(128 * 1024);
    pool.giveBatch(batchOf(small, big, over));
    expect(pool.take(1024)).not.toBe(small);
    expect(pool.take(20 * 1024)).not.toBe(big);
    expect(pool.take(100 * 1024)).toBe(big);
    expect(pool.take(100 * 1024)).not.toBe(over);
  });

  it('collects offsets, data, validity and list children, each buffer once', () => {
    const pool = new BufferPool();
    const n = 5000;
    const strings = vectorFromArray(Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : `value ${i}`)), new Utf8()).data[0];
    const lists = vectorFromArray(Array.from({ length: n }, (_, i) => [i, i + 1, i + 2, i + 3]), new List(new Field('item', new Int32(), true))).data[0];
    const schema = new Schema([new Field('s', new Utf8(), true), new Field('l', lists.type, true)]);
    pool.giveBatch(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: [strings, lists] })));
    const given = [strings.valueOffsets.buffer, strings.values.buffer, lists.valueOffsets.buffer, lists.children[0].values.buffer].filter((b) => b.byteLength >= 16 * 1024);
    expect(given.length).toBeGreaterThanOrEqual(3);
    const taken = given.map((b) => pool.take(b.byteLength));
    // Every one came back, none twice, and then the pool is empty.
    expect(new Set(taken).size).toBe(given.length);
    for (const t of taken) expect(given).toContain(t);
    expect(given).not.toContain(pool.take(given[0].byteLength));
  });
});
