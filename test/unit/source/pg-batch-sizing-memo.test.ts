import { Schema, type Data } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { SizeMemo, VarBytesBuilder } from '../../../shared/source/column-builders.js';
import { PgBatchBuilder } from '../../../shared/source/postgres/pg-batch-builder.js';
import type { PgColumnSpec } from '../../../shared/source/postgres/pg-decoders.js';
import { PgOid } from '../../../shared/source/postgres/pg-types.js';
import { rivetField, toArrowType } from '../../../shared/types/rivet-type.js';

/** A PostgreSQL binary tuple (DataRow body / COPY tuple) of text values and int4[] arrays. */
function tuple(fields: (string | (number | null)[] | null)[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(2)];
  parts[0].writeInt16BE(fields.length);
  for (const f of fields) {
    const len = Buffer.alloc(4);
    if (f === null) {
      len.writeInt32BE(-1);
      parts.push(len);
      continue;
    }
    let body: Buffer;
    if (typeof f === 'string') body = Buffer.from(f, 'utf8');
    else {
      // ndim, has-nulls flag, element OID, then dimension size and lower bound.
      const head = Buffer.alloc(20);
      head.writeInt32BE(1, 0);
      head.writeInt32BE(0, 4);
      head.writeInt32BE(PgOid.int4, 8);
      head.writeInt32BE(f.length, 12);
      head.writeInt32BE(1, 16);
      const elems = f.map((v) => {
        const e = Buffer.alloc(v === null ? 4 : 8);
        e.writeInt32BE(v === null ? -1 : 4, 0);
        if (v !== null) e.writeInt32BE(v, 4);
        return e;
      });
      body = Buffer.concat([head, ...elems]);
    }
    len.writeInt32BE(body.length);
    parts.push(len, body);
  }
  return Buffer.concat(parts);
}

const columns: PgColumnSpec[] = [
  { name: 'body', wireOid: PgOid.text, nativeType: 'text', rivetType: { kind: 'string' }, isEnum: false },
  { name: 'ids', wireOid: PgOid._int4, nativeType: '_int4', rivetType: { kind: 'list', inner: { kind: 'int32' } }, isEnum: false },
];
const schema = new Schema(columns.map((c) => rivetField(c.name, c.rivetType, c.nativeType)));

/** Deterministic text of 0..2n characters, some multi-byte, so values cross the small-copy threshold both ways. */
function text(i: number, n: number): string {
  return `${'é'.repeat(i % 3)}${'x'.repeat((i * 7919) % (2 * n))}`;
}

function fill(b: PgBatchBuilder, rows: number, avgChars: number, seed: number): { texts: (string | null)[]; lists: ((number | null)[] | null)[] } {
  const texts: (string | null)[] = [];
  const lists: ((number | null)[] | null)[] = [];
  for (let i = 0; i < rows; i++) {
    const t = i % 11 === 5 ? null : text(i + seed, avgChars);
    const l = i % 13 === 7 ? null : Array.from({ length: (i + seed) % 6 }, (_, k) => (k === 2 ? null : i * 10 + k));
    texts.push(t);
    lists.push(l);
    const buf = tuple([t, l]);
    expect(b.addRow(buf, 0, buf.length)).toBe(buf.length);
  }
  return { texts, lists };
}

/** Bytes of the ArrayBuffer behind a column's value buffer: what the builder allocated. */
function allocated(data: Data): number {
  return (data.values as Uint8Array).buffer.byteLength;
}

describe('batch buffers sized from the previous batch', () => {
  it('decodes the same values whatever the starting size, including values beyond the measured average', () => {
    let b: PgBatchBuilder | null = null;
    const plan: [rows: number, avgChars: number][] = [
      [300, 40],
      [300, 40],
      [250, 400],
      [300, 3],
      [300, 0],
    ];
    for (const [seed, [rows, avg]] of plan.entries()) {
      b = b ? b.successor(rows) : new PgBatchBuilder(schema, columns, rows);
      const { texts, lists } = fill(b, rows, avg, seed);
      const batch = b.finish();
      expect(batch.numRows).toBe(rows);
      const body = batch.getChildAt(0)!;
      const ids = batch.getChildAt(1)!;
      for (let i = 0; i < rows; i++) {
        expect(body.get(i), `row ${i} of batch ${seed}`).toBe(texts[i]);
        const got = ids.get(i) as Iterable<number | null> | null;
        expect(got === null ? null : Array.from(got), `row ${i} of batch ${seed}`).toEqual(lists[i]);
      }
    }
  });

  it('starts the next batch near the measured size instead of doubling up to it', () => {
    const first = new PgBatchBuilder(schema, columns, 500);
    fill(first, 500, 600, 0);
    const a = first.finish();
    const second = first.successor(500);
    fill(second, 500, 600, 1);
    const b = second.finish();
    for (const batch of [a, b]) expect(batch.getChildAt(0)!.data[0].values.length).toBeGreaterThan(500 * 500);

    const firstText = a.getChildAt(0)!.data[0];
    const secondText = b.getChildAt(0)!.data[0];
    // Grown by doubling from 16 bytes a value: well above what it holds.
    expect(allocated(firstText)).toBeGreaterThan(firstText.values.length * 1.2);
    // Sized from the first batch: within the slack of what it holds.
    expect(allocated(secondText)).toBeGreaterThanOrEqual(secondText.values.length);
    expect(allocated(secondText)).toBeLessThan(secondText.values.length * 1.2);

    // A list column's element builder is sized from the elements per list it saw.
    const secondIds = b.getChildAt(1)!.data[0].children[0];
    const firstIds = a.getChildAt(1)!.data[0].children[0];
    expect(firstIds.length).toBeGreaterThan(500);
    expect(allocated(secondIds) / 4).toBeLessThan(secondIds.length * 1.2 + 16);
    expect(allocated(secondIds) / 4).toBeGreaterThanOrEqual(secondIds.length);
  });

  it('records bytes per value on finish and sizes the next builder from it', () => {
    const memo = new SizeMemo();
    const type = toArrowType({ kind: 'string' })!;
    const one = new VarBytesBuilder(type, 4, 'c', memo);
    for (const s of ['abcd', 'efghijkl', '', 'mnopqrstuvwx']) one.appendString(s);
    one.appendNull();
    one.finish();
    expect(memo.bytesPerValue).toBe(24 / 5);
    expect(memo.bytesFor(1000)).toBeGreaterThanOrEqual(4800);
    expect(memo.bytesFor(1000)).toBeLessThan(4800 * 1.1 + 64);
    // Nothing measured yet: the default start.
    expect(new SizeMemo().bytesFor(10)).toBe(10 * 16 + 64);
  });
});
