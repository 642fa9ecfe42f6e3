import { Schema, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { isRivetError } from '../../../shared/errors/rivet-error.js';
import { PgBatchBuilder } from '../../../shared/source/postgres/pg-batch-builder.js';
import { PgCopyParser } from '../../../shared/source/postgres/pg-copy-reader.js';
import type { PgColumnSpec } from '../../../shared/source/postgres/pg-decoders.js';
import { PgOid } from '../../../shared/source/postgres/pg-types.js';
import { rivetField, type RivetType } from '../../../shared/types/rivet-type.js';
import { seededRandom } from '../../helpers/seeded-random.js';

/** A table of fixed- and variable-length columns, as the source would plan it. */
const COLUMNS: [string, number, RivetType][] = [
  ['id', PgOid.int8, { kind: 'int64' }],
  ['n', PgOid.int4, { kind: 'int32' }],
  ['amount', PgOid.numeric, { kind: 'decimal', precision: 15, scale: 4 }],
  ['score', PgOid.float8, { kind: 'float64' }],
  ['flag', PgOid.bool, { kind: 'bool' }],
  ['at', PgOid.timestamptz, { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' }],
  ['code', PgOid.text, { kind: 'string' }],
  ['blob', PgOid.bytea, { kind: 'binary' }],
];
const specs: PgColumnSpec[] = COLUMNS.map(([name, wireOid, rivetType]) => ({ name, wireOid, nativeType: 'test', rivetType, isEnum: false }));
const schema = new Schema(COLUMNS.map(([name, , t]) => rivetField(name, t, 'test')));

type Row = [bigint | null, number | null, string | null, number | null, boolean | null, bigint | null, string | null, Buffer | null];

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

/** Binary NUMERIC of a plain decimal string: base-10000 digit groups around the decimal point. */
function numeric(text: string): Buffer {
  const neg = text.startsWith('-');
  const [int, frac = ''] = text.replace('-', '').split('.');
  const intPadded = int.padStart(Math.ceil(int.length / 4) * 4, '0');
  const fracPadded = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  let groups = [...(intPadded + fracPadded).matchAll(/\d{4}/g)].map((m) => Number(m[0]));
  let weight = intPadded.length / 4 - 1;
  while (groups.length > 0 && groups[0] === 0) {
    groups = groups.slice(1);
    weight--;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups = groups.slice(0, -1);
  const b = Buffer.alloc(8 + 2 * groups.length);
  b.writeInt16BE(groups.length, 0);
  b.writeInt16BE(groups.length === 0 ? 0 : weight, 2);
  b.writeUInt16BE(neg ? 0x4000 : 0, 4);
  b.writeUInt16BE(frac.length, 6);
  groups.forEach((g, k) => b.writeUInt16BE(g, 8 + 2 * k));
  return b;
}

function encode(r: Row): Buffer {
  const values: (Buffer | null)[] = [
    r[0] === null ? null : Buffer.alloc(8),
    r[1] === null ? null : int32(r[1]),
    r[2] === null ? null : numeric(r[2]),
    r[3] === null ? null : Buffer.alloc(8),
    r[4] === null ? null : Buffer.from([r[4] ? 1 : 0]),
    r[5] === null ? null : Buffer.alloc(8),
    r[6] === null ? null : Buffer.from(r[6], 'utf8'),
    r[7],
  ];
  values[0]?.writeBigInt64BE(r[0]!);
  values[3]?.writeDoubleBE(r[3]!);
  values[5]?.writeBigInt64BE(r[5]!);
  const parts: Buffer[] = [Buffer.alloc(2)];
  parts[0].writeInt16BE(values.length);
  for (const v of values) parts.push(int32(v === null ? -1 : v.length), ...(v ? [v] : []));
  return Buffer.concat(parts);
}

const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(3), Buffer.from([9, 9, 9])]);
const TRAILER = Buffer.from([0xff, 0xff]);

function copyStream(rows: Row[]): Buffer {
  return Buffer.concat([HEADER, ...rows.map(encode), TRAILER]);
}

const ROWS: Row[] = [
  [1n, 7, '265443.5761', 0.25, true, 0n, 'C-1f', Buffer.from([0, 1, 2])],
  [null, null, null, null, null, null, null, null],
  [-9223372036854775808n, -2147483648, '-99999999999.9999', -0, false, -946684800000000n, '', Buffer.alloc(0)],
  [9223372036854775807n, 2147483647, '0.0001', Number.NaN, true, 1234567890123456n, 'héllo wörld ✓ 😀', null],
  [42n, null, '-0.0001', Number.POSITIVE_INFINITY, null, -1n, 'x'.repeat(300), Buffer.alloc(70, 0xab)],
  [3n, 3, '0', 1e-300, false, 86_400_000_000n, null, Buffer.from('tail')],
];

interface Decoded {
  /** Rows and wire bytes per batch, as the batch sizing sees them. */
  cuts: { rows: number; bytes: number }[];
  values: unknown[][];
}

function plain(x: unknown): unknown {
  if (x === null || x === undefined) return null;
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : Number.isNaN(x) ? 'NaN' : x;
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex');
  return x;
}

/** Decode a COPY stream fed as the given payloads (each inside a larger buffer, as in a socket chunk). */
function decode(pieces: Buffer[], rowsPerBatch = 2, maxValueMb = 0): Decoded {
  return decodeWith((parser) => {
    for (const piece of pieces) {
      const framed = Buffer.concat([Buffer.from([0xaa]), piece, Buffer.from([0xbb])]);
      parser.push(framed, 1, framed.length - 1);
    }
  }, rowsPerBatch, maxValueMb);
}

/** A protocol message: code, int32 length, body. */
function message(code: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = code.charCodeAt(0);
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/**
 * Decode the payloads as CopyData messages through `pushMessages`, the way the socket reader
 * calls it: the messages sit in one chunk after a foreign byte and before a CopyDone, and each
 * call may see only up to one of the `cuts` (offsets into the messages).
 */
function decodeMessages(payloads: Buffer[], cuts: number[] = [], rowsPerBatch = 2): Decoded {
  const messages = Buffer.concat(payloads.map((p) => message('d', p)));
  const wire = Buffer.concat([Buffer.from([0x5a]), messages, message('c', Buffer.alloc(0)), Buffer.from([0x5a])]);
  const copyDone = 1 + messages.length;
  return decodeWith((parser) => {
    let pos = 1;
    for (const cut of [...cuts, wire.length]) {
      const limit = Math.min(1 + cut, wire.length);
      if (limit < pos) continue;
      const next = parser.pushMessages(wire, pos, limit);
      // It takes every whole CopyData message below the limit and stops at anything else.
      let expected = pos;
      while (expected < copyDone && expected + 5 <= limit && expected + 1 + wire.readUInt32BE(expected + 1) <= limit) expected += 1 + wire.readUInt32BE(expected + 1);
      if (next !== expected) throw new Error(`pushMessages stopped at ${next}, expected ${expected}`);
      pos = next;
    }
    if (pos !== copyDone) throw new Error(`pushMessages ended at ${pos}, expected ${copyDone}`);
  }, rowsPerBatch);
}

function decodeWith(feed: (parser: PgCopyParser) => void, rowsPerBatch = 2, maxValueMb = 0): Decoded {
  const batches: RecordBatch[] = [];
  const cuts: { rows: number; bytes: number }[] = [];
  let builder = new PgBatchBuilder(schema, specs, rowsPerBatch, maxValueMb);
  const parser = new PgCopyParser({ builder, rows: rowsPerBatch }, (full) => {
    cuts.push({ rows: full.rows, bytes: full.bytes });
    batches.push(full.finish());
    builder = full.successor(rowsPerBatch);
    return { builder, rows: rowsPerBatch };
  });
  feed(parser);
  parser.finish();
  if (builder.rows > 0) {
    cuts.push({ rows: builder.rows, bytes: builder.bytes });
    batches.push(builder.finish());
  }
  const values: unknown[][] = COLUMNS.map(() => []);
  for (const b of batches) {
    COLUMNS.forEach(([name], c) => {
      const v = b.getChild(name)!;
      for (let i = 0; i < b.numRows; i++) values[c].push(v.isValid(i) ? plain(v.get(i)) : null);
    });
  }
  return { cuts, values };
}

/** An Arrow decimal128 value as 16 little-endian two's complement bytes, in hex. */
function decimal128Hex(unscaled: bigint): string {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt.asUintN(64, unscaled), 0);
  b.writeBigUInt64LE(BigInt.asUintN(64, unscaled >> 64n), 8);
  return b.toString('hex');
}

function splitAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of [...offsets, bytes.length]) {
    out.push(bytes.subarray(prev, o));
    prev = o;
  }
  return out;
}

function randomSplit(bytes: Buffer, seed: number, maxPiece: number): Buffer[] {
  const rnd = seededRandom(seed);
  const offsets: number[] = [];
  for (let p = 0; ; ) {
    p += Math.floor(rnd() * maxPiece);
    if (p >= bytes.length) break;
    offsets.push(p);
  }
  return splitAt(bytes, offsets);
}

describe('PgCopyParser: one pass over a binary COPY stream', () => {
  const bytes = copyStream(ROWS);
  const whole = decode([bytes]);

  it('decodes the unsplit stream to the values that were encoded', () => {
    expect(whole.cuts.map((c) => c.rows)).toEqual([2, 2, 2]);
    // Tuple bodies only: the header and trailer are not row bytes.
    expect(whole.cuts.reduce((s, c) => s + c.bytes, 0)).toBe(bytes.length - HEADER.length - TRAILER.length);
    expect(whole.values[0]).toEqual(['1n', null, '-9223372036854775808n', '9223372036854775807n', '42n', '3n']);
    expect(whole.values[2]).toEqual(['2654435761', null, '-999999999999999', '1', '-1', '0'].map((s) => (s === null ? null : decimal128Hex(BigInt(s)))));
    expect(whole.values[3]).toEqual([0.25, null, '-0', 'NaN', Number.POSITIVE_INFINITY, 1e-300]);
    expect(whole.values[4]).toEqual([true, null, false, true, null, false]);
    // Arrow hands timestamps back as epoch milliseconds.
    expect(whole.values[5]).toEqual([946684800000, null, 0, 2181252690123.456, 946684799999.999, 946771200000]);
    expect(whole.values[6]).toEqual(['C-1f', null, '', 'héllo wörld ✓ 😀', 'x'.repeat(300), null]);
    expect(whole.values[7]).toEqual(['000102', null, '', null, 'ab'.repeat(70), '7461696c']);
  });

  it('gives the same batches for a split at every byte offset', () => {
    for (let k = 0; k <= bytes.length; k++) {
      const got = decode(splitAt(bytes, [k]));
      if (JSON.stringify(got) !== JSON.stringify(whole)) expect({ split: k, got }).toEqual({ split: k, got: whole });
    }
  });

  it('gives the same batches when every byte arrives alone', () => {
    expect(decode(splitAt(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)))).toEqual(whole);
  });

  it('gives the same batches for seeded random splits, including empty payloads', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const got = decode(randomSplit(bytes, seed, 40));
      if (JSON.stringify(got) !== JSON.stringify(whole)) expect({ seed, got }).toEqual({ seed, got: whole });
    }
  });

  it('cuts batches only between whole rows, whatever the payloads', () => {
    for (const rowsPerBatch of [1, 4, 100]) {
      const expected = decode([bytes], rowsPerBatch);
      expect(expected.cuts.map((c) => c.rows)).toEqual(rowsPerBatch === 1 ? [1, 1, 1, 1, 1, 1] : rowsPerBatch === 4 ? [4, 2] : [6]);
      expect(decode(randomSplit(bytes, 7, 9), rowsPerBatch)).toEqual(expected);
    }
  });

  it('reads a multi-MB value split into 64 KiB payloads and at random', () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const rows: Row[] = [ROWS[0], [5n, 5, '1.5', 1, true, 5n, 'big', big], ROWS[2], ROWS[3]];
    const stream = copyStream(rows);
    const expected = decode([stream], 3);
    expect(expected.values[7][1]).toBe(big.toString('hex'));
    expect(expected.values[1]).toEqual([7, 5, -2147483648, 2147483647]);
    const pieces64k: Buffer[] = [];
    for (let p = 0; p < stream.length; p += 64 * 1024) pieces64k.push(stream.subarray(p, p + 64 * 1024));
    expect(decode(pieces64k, 3)).toEqual(expected);
    expect(decode(randomSplit(stream, 99, 200_000), 3)).toEqual(expected);
  });

  it('rejects an oversized value as soon as its length arrives, before buffering it', () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 1);
    const stream = copyStream([ROWS[0], [5n, 5, '1', 1, true, 5n, 'big', big]]);
    // The first payload ends just before the value's length word; the second brings the length and 64 KiB of the value.
    const lengthAt = stream.length - TRAILER.length - big.length - 4;
    const pieces = splitAt(stream, [lengthAt, lengthAt + 64 * 1024]);
    let builder = new PgBatchBuilder(schema, specs, 10, 1);
    const parser = new PgCopyParser({ builder, rows: 10 }, (full) => (builder = full.successor(10)) && { builder, rows: 10 });
    parser.push(pieces[0], 0, pieces[0].length);
    let err: unknown;
    try {
      parser.push(pieces[1], 0, pieces[1].length);
    } catch (e) {
      err = e;
    }
    expect(isRivetError(err) && err.code).toBe('VALUE_TOO_LARGE');
    expect((err as Error).message).toContain('"blob"');
  });

  it('accepts the header and trailer split anywhere, and a stream with no rows', () => {
    const empty = copyStream([]);
    for (let k = 0; k <= empty.length; k++) expect(decode(splitAt(empty, [k]))).toEqual({ cuts: [], values: COLUMNS.map(() => []) });
  });

  it('reports a stream cut short or carrying garbage as a clear RivetError', () => {
    const cases: [Buffer, RegExp][] = [
      [bytes.subarray(0, bytes.length - 2), /without its trailer/],
      [bytes.subarray(0, bytes.length - 3), /inside a row/],
      [bytes.subarray(0, HEADER.length + 9), /inside a row/],
      [bytes.subarray(0, 5), /without its trailer/],
    ];
    for (const [stream, message] of cases) {
      const err = (() => {
        try {
          decode([stream]);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(isRivetError(err), String(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
    const wrongCount = Buffer.from(bytes);
    wrongCount.writeInt16BE(3, HEADER.length);
    expect(() => decode([wrongCount])).toThrow(/3 fields, expected 8/);
    const badSignature = Buffer.from(bytes);
    badSignature[0] = 0x51;
    expect(() => decode([badSignature])).toThrow(/bad signature/);
    const oids = Buffer.from(bytes);
    oids.writeInt32BE(1 << 16, 11);
    expect(() => decode([oids])).toThrow(/OIDs/);
    expect(() => decode([bytes, Buffer.from([0])])).toThrow(/after the trailer/);
  });
});

describe('PgCopyParser.pushMessages: runs of CopyData messages from one socket chunk', () => {
  const bytes = copyStream(ROWS);
  const whole = decode([bytes]);
  const tuples = ROWS.map(encode);

  it('decodes one tuple per message, as PostgreSQL sends them, like push', () => {
    expect(decodeMessages([HEADER, ...tuples, TRAILER])).toEqual(whole);
    // The header may also share its message with the first tuple.
    expect(decodeMessages([Buffer.concat([HEADER, tuples[0]]), ...tuples.slice(1), TRAILER])).toEqual(whole);
    for (const rowsPerBatch of [1, 4, 100]) expect(decodeMessages([HEADER, ...tuples, TRAILER], [], rowsPerBatch)).toEqual(decode([bytes], rowsPerBatch));
  });

  it('stops before a message that is not wholly in the chunk and resumes there, at every offset', () => {
    const payloads = [HEADER, ...tuples, TRAILER];
    const length = payloads.reduce((n, p) => n + 5 + p.length, 0);
    for (let cut = 0; cut <= length; cut++) {
      const got = decodeMessages(payloads, [cut]);
      if (JSON.stringify(got) !== JSON.stringify(whole)) expect({ cut, got }).toEqual({ cut, got: whole });
    }
  });

  it('handles payloads that split tuples or hold several, including empty ones', () => {
    expect(decodeMessages([bytes])).toEqual(whole);
    for (let seed = 1; seed <= 200; seed++) {
      const got = decodeMessages(randomSplit(bytes, seed, 60), [seed * 7]);
      if (JSON.stringify(got) !== JSON.stringify(whole)) expect({ seed, got }).toEqual({ seed, got: whole });
    }
    // A tuple that ends a message short, then its rest with the next tuple.
    const k = HEADER.length + tuples[0].length + 9;
    expect(decodeMessages([bytes.subarray(0, k), bytes.subarray(k)])).toEqual(whole);
    // Messages that start at a tuple and hold more than one, the last one cut short or the trailer.
    const t4 = tuples[4];
    const grouped = [HEADER, Buffer.concat(tuples.slice(0, 2)), Buffer.concat([tuples[2], tuples[3], t4.subarray(0, 30)]), Buffer.concat([t4.subarray(30), tuples[5], TRAILER])];
    expect(decodeMessages(grouped)).toEqual(whole);
    expect(decodeMessages([HEADER, ...tuples.slice(0, 5), Buffer.concat([tuples[5], TRAILER])])).toEqual(whole);
    expect(decodeMessages([HEADER, Buffer.concat([tuples[0], tuples[1].subarray(0, 2)]), tuples[1].subarray(2), ...tuples.slice(2), TRAILER])).toEqual(whole);
  });

  it('reports the same errors as push', () => {
    const miscounted = Buffer.from(tuples[1]);
    miscounted.writeInt16BE(3, 0);
    expect(() => decodeMessages([HEADER, tuples[0], miscounted, TRAILER])).toThrow(/3 fields, expected 8/);
    expect(() => decodeMessages([HEADER, tuples[0], TRAILER, tuples[1]])).toThrow(/after the trailer/);
    expect(() => decodeMessages([HEADER, ...tuples, TRAILER, Buffer.alloc(0)])).not.toThrow();
    expect(() => decodeMessages([HEADER, tuples[0].subarray(0, 7)])).toThrow(/inside a row/);
    const badSignature = Buffer.from(HEADER);
    badSignature[0] = 0x51;
    expect(() => decodeMessages([badSignature, ...tuples, TRAILER])).toThrow(/bad signature/);
  });
});

describe('PgBatchBuilder.addRow (cursor DataRow bodies)', () => {
  it('decodes whole tuples like the COPY path and rejects truncated or miscounted ones', () => {
    const builder = new PgBatchBuilder(schema, specs, 8);
    for (const r of ROWS) {
      const body = encode(r);
      const framed = Buffer.concat([Buffer.from([1, 2, 3]), body, Buffer.from([4])]);
      expect(builder.addRow(framed, 3, 3 + body.length)).toBe(3 + body.length);
    }
    expect(builder.rows).toBe(ROWS.length);
    const batch = builder.finish();
    const viaCopy = decode([copyStream(ROWS)], 100);
    COLUMNS.forEach(([name], c) => {
      const v = batch.getChild(name)!;
      expect(Array.from({ length: batch.numRows }, (_, i) => (v.isValid(i) ? plain(v.get(i)) : null))).toEqual(viaCopy.values[c]);
    });

    const body = encode(ROWS[0]);
    for (const cut of [1, 2, 5, body.length - 1]) {
      const b = new PgBatchBuilder(schema, specs, 1);
      expect(() => b.addRow(body, 0, cut)).toThrow(/truncated row/);
    }
    const miscounted = Buffer.from(body);
    miscounted.writeInt16BE(9, 0);
    expect(() => new PgBatchBuilder(schema, specs, 1).addRow(miscounted, 0, miscounted.length)).toThrow(/9 fields, expected 8/);
  });
});
