import { describe, expect, it } from 'vitest';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { parseColumnOverride, parseColumnOverrides } from '../../../shared/types/column-override.js';

function failure(raw: string): RivetError {
  try {
    parseColumnOverride('amount', raw);
  } catch (e) {
    expect(e).toBeInstanceOf(RivetError);
    return e as RivetError;
  }
  throw new Error(`'${raw}' parsed`);
}

describe('parseColumnOverride', () => {
  it.each([
    ['bool', { kind: 'bool' }],
    ['BOOLEAN', { kind: 'bool' }],
    ['smallint', { kind: 'int16' }],
    ['int', { kind: 'int32' }],
    ['integer', { kind: 'int32' }],
    ['bigint', { kind: 'int64' }],
    ['int64', { kind: 'int64' }],
    ['real', { kind: 'float32' }],
    ['double precision', { kind: 'float64' }],
    ['  Float8 ', { kind: 'float64' }],
    ['varchar', { kind: 'string' }],
    ['bpchar', { kind: 'string' }],
    ['name', { kind: 'string' }],
    ['blob', { kind: 'binary' }],
    ['bytea', { kind: 'binary' }],
    ['date', { kind: 'date' }],
    ['jsonb', { kind: 'json' }],
    ['uuid', { kind: 'uuid' }],
    ['timestamp without time zone', { kind: 'timestamp', unit: 'microsecond', timezone: null }],
    ['timestamp_ns', { kind: 'timestamp', unit: 'nanosecond', timezone: null }],
    ['timestamp_utc', { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' }],
    ['timestamp with time zone', { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' }],
    ['timestamptz_ns', { kind: 'timestamp', unit: 'nanosecond', timezone: 'UTC' }],
    ['decimal(18,2)', { kind: 'decimal', precision: 18, scale: 2 }],
    ['NUMERIC( 38 , 10 )', { kind: 'decimal', precision: 38, scale: 10 }],
    ['decimal(76,0)', { kind: 'decimal', precision: 76, scale: 0 }],
    ['decimal(10,-2)', { kind: 'decimal', precision: 10, scale: -2 }],
  ])('parses %s', (raw, expected) => {
    expect(parseColumnOverride('c', raw)).toEqual(expected);
  });

  it.each([
    ['decimal', 'not of the shape decimal(precision,scale)'],
    ['decimal(10)', 'missing scale'],
    ['decimal(1,2,3)', 'not of the shape'],
    ['decimal(x,2)', "precision 'x' is not an integer in 0–76"],
    ['decimal(10,y)', "scale 'y' is not an integer in -128..127"],
    ['decimal(10,200)', 'scale \'200\' is not an integer'],
    ['decimal(0,0)', 'precision 0 is outside 1..=76'],
    ['decimal(77,2)', 'precision 77 is outside 1..=76'],
    ['decimal(5,6)', 'scale 6 is larger than precision 5'],
  ])('rejects %s', (raw, why) => {
    const e = failure(raw);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(`'${raw}'`);
    expect(e.message).toContain('"amount"');
    expect(e.message).toContain(why);
  });

  it('lists the supported set for an unknown type', () => {
    const e = failure('geometry');
    expect(e.message).toContain("unrecognised type 'geometry'");
    expect(e.hint).toContain('bool, int2/int4/int8, float4/float8, decimal(p,s), date, timestamp, timestamp_ns, timestamp_tz, timestamp_tz_ns, text, binary, json, uuid');
  });

  it('suggests the decimal shape when the scale is missing', () => {
    expect(failure('numeric(12)').hint).toContain('decimal(precision,scale)');
  });

  it('parses a whole columns map', () => {
    const m = parseColumnOverrides({ a: 'int8', b: 'decimal(10,2)' });
    expect([...m.entries()]).toEqual([
      ['a', { kind: 'int64' }],
      ['b', { kind: 'decimal', precision: 10, scale: 2 }],
    ]);
    expect(parseColumnOverrides(undefined).size).toBe(0);
  });

  it('returns independent objects', () => {
    const a = parseColumnOverride('a', 'timestamp');
    (a as { unit: string }).unit = 'second';
    expect(parseColumnOverride('b', 'timestamp')).toEqual({ kind: 'timestamp', unit: 'microsecond', timezone: null });
  });
});
