import { describe, expect, it } from 'vitest';
import { pgDecoderFor, type FieldDecoder, type PgColumnSpec } from '../../../shared/source/postgres/pg-decoders.js';
import { PgOid } from '../../../shared/source/postgres/pg-types.js';
import type { RivetType } from '../../../shared/types/rivet-type.js';
import { seededRandom } from '../../helpers/seeded-random.js';

/**
 * The hottest decoders exist twice: `decode` (array elements, tests) and `source`, the same
 * statement written into the generated field loop. Both must build the same column.
 */
type Step = (buf: Buffer, p: number, len: number) => void;

function viaSource(d: FieldDecoder): Step {
  if (!d.source) throw new Error('no source form');
  // `$` is a legal parameter name: bind it to the decoder, as the field loop binds d0, d1, ….
  return new Function('$', `return function (buf, p, len) { ${d.source} };`)(d) as Step;
}

function decoderFor(wireOid: number, rivetType: RivetType): FieldDecoder {
  const col: PgColumnSpec = { name: 'c', wireOid, nativeType: 'test', rivetType, isEnum: false };
  const d = pgDecoderFor(col, 4);
  if (typeof d === 'string') throw new Error(d);
  return d;
}

const CASES: [string, number, RivetType, (rand: () => number) => Buffer][] = [
  ['bool', PgOid.bool, { kind: 'bool' }, (r) => Buffer.from([r() < 0.5 ? 0 : 1])],
  ['int4', PgOid.int4, { kind: 'int32' }, (r) => Buffer.from(Uint8Array.from({ length: 4 }, () => Math.floor(r() * 256)))],
  ['int8', PgOid.int8, { kind: 'int64' }, (r) => Buffer.from(Uint8Array.from({ length: 8 }, () => Math.floor(r() * 256)))],
  ['float8', PgOid.float8, { kind: 'float64' }, (r) => Buffer.from(Uint8Array.from({ length: 8 }, () => Math.floor(r() * 256)))],
  [
    'time',
    PgOid.time,
    { kind: 'time', unit: 'microsecond' },
    (r) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(Math.floor(r() * 86_400_000_000)));
      return b;
    },
  ],
  [
    'timestamptz',
    PgOid.timestamptz,
    { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' },
    (r) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 1000n);
      return b;
    },
  ],
  ['text', PgOid.text, { kind: 'string' }, (r) => Buffer.from(`v${Math.floor(r() * 1e6)}${'é'.repeat(Math.floor(r() * 5))}`)],
];

describe('decoders written into the field loop', () => {
  it.each(CASES)('%s: the source form builds the same column as decode', (_name, oid, type, value) => {
    const rand = seededRandom(7);
    const a = decoderFor(oid, type);
    const b = decoderFor(oid, type);
    expect(b.source, 'this decoder has no source form any more; drop it from the test').toBeTruthy();
    const step = viaSource(b);
    for (let i = 0; i < 1000; i++) {
      if (rand() < 0.1) {
        a.builder.appendNull();
        b.builder.appendNull();
        continue;
      }
      const v = value(rand);
      const buf = Buffer.concat([Buffer.from([9, 9, 9]), v, Buffer.from([9])]);
      a.decode(buf, 3, v.length);
      step(buf, 3, v.length);
    }
    const x = a.builder.finish();
    const y = b.builder.finish();
    expect(y.length).toBe(x.length);
    expect(y.nullCount).toBe(x.nullCount);
    expect(Buffer.from(y.values.buffer, y.values.byteOffset, y.values.byteLength).equals(Buffer.from(x.values.buffer, x.values.byteOffset, x.values.byteLength))).toBe(true);
    if (x.valueOffsets) expect([...y.valueOffsets]).toEqual([...x.valueOffsets]);
  });
});
