import { describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { createXXHash3 } from 'hash-wasm';
import { rivetField } from '../../../shared/types/rivet-type.js';
import { schemaColumns, schemaFingerprint, UNKNOWN_SCHEMA_FINGERPRINT } from '../../../shared/types/schema-fingerprint.js';

describe('schemaFingerprint', () => {
  const id = rivetField('id', { kind: 'int64' }, 'int8');
  const amount = rivetField('amount', { kind: 'decimal', precision: 18, scale: 2 }, 'numeric');
  const ts = rivetField('ts', { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' }, 'timestamptz');

  it('hashes the sorted `<name>\\t<type>\\n` lines with XXH3-64', async () => {
    const h = await createXXHash3();
    h.init();
    h.update('amount\tDecimal128(18, 2)\nid\tInt64\nts\tTimestamp(Microsecond, Some("UTC"))\n');
    const fp = schemaFingerprint(new Schema([id, amount, ts]));
    expect(fp).toBe(`xxh3:${h.digest('hex')}`);
    expect(fp).toMatch(/^xxh3:[0-9a-f]{16}$/);
  });

  it('is stable: a pinned value, independent of column order and metadata', () => {
    const fp = schemaFingerprint(new Schema([id, amount, ts]));
    // Pinned: a change here means every stored fingerprint would look like schema drift.
    expect(fp).toBe('xxh3:50e8cf315b3561ab');
    expect(schemaFingerprint(new Schema([ts, id, amount]))).toBe(fp);
    expect(schemaFingerprint(new Schema([new Field('id', new Int64(), true), amount, ts]))).toBe(fp);
  });

  it('ignores meta columns and changes with any type or name change', () => {
    const base = schemaFingerprint(new Schema([id, amount]));
    expect(schemaFingerprint(new Schema([id, amount, new Field('_rivet_exported_at', new Utf8(), true)]))).toBe(base);
    expect(schemaFingerprint(new Schema([id, rivetField('amount', { kind: 'decimal', precision: 18, scale: 3 }, 'numeric')]))).not.toBe(base);
    expect(schemaFingerprint(new Schema([id, rivetField('Amount', { kind: 'decimal', precision: 18, scale: 2 }, 'numeric')]))).not.toBe(base);
  });

  it('has a placeholder for unknown schemas', () => {
    expect(UNKNOWN_SCHEMA_FINGERPRINT).toBe('xxh3:0000000000000000');
  });
});

describe('schemaColumns', () => {
  it('lists every column in order with its stable type string', () => {
    const s = new Schema([
      rivetField('id', { kind: 'int64' }, 'int8'),
      rivetField('ts', { kind: 'timestamp', unit: 'microsecond', timezone: null }, 'timestamp'),
      new Field('_rivet_batch', new Utf8(), true),
    ]);
    expect(schemaColumns(s)).toEqual([
      { name: 'id', type: 'Int64' },
      { name: 'ts', type: 'Timestamp(Microsecond, None)' },
      { name: '_rivet_batch', type: 'Utf8' },
    ]);
  });
});
