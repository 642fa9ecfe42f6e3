import { describe, expect, it } from 'vitest';
import { buildManifest, parseManifest, parseSuccessMarker, serializeManifest, successMarker } from '../../../shared/run/manifest.js';
import { xxh3Fingerprint } from '../../../shared/run/part-hasher.js';
import { partKey, partNumberOf, isBookkeepingKey } from '../../../shared/run/layout.js';
import { makeRunId } from '../../../shared/run/run-id.js';

const base = {
  run_id: 'orders_20260521T120000.123',
  export_name: 'orders',
  started_at: '2026-05-21T12:00:00.123Z',
  finished_at: '2026-05-21T12:00:05.000Z',
  status: 'success' as const,
  source: { engine: 'postgres', schema: 'public', table: 'orders' },
  destination: { kind: 'local', uri: 'file:///tmp/out' },
  format: 'parquet' as const,
  compression: 'zstd',
  schema_fingerprint: 'xxh3:0123456789abcdef',
  parts: [
    { part_id: 1, path: 'part-000001.parquet', rows: 10, size_bytes: 100, content_fingerprint: 'xxh3:aaaaaaaaaaaaaaaa', content_md5: 'x', status: 'committed' as const },
    { part_id: 2, path: 'part-000002.parquet', rows: 5, size_bytes: 50, content_fingerprint: 'xxh3:bbbbbbbbbbbbbbbb', content_md5: 'y', status: 'committed' as const },
  ],
  mode: 'full',
  columns: [{ name: 'id', type: 'Int64' }],
};

describe('manifest', () => {
  it('keeps the contract field order and derives counts', () => {
    const m = buildManifest(base);
    expect(Object.keys(m)).toEqual([
      'manifest_version', 'run_id', 'export_name', 'started_at', 'finished_at', 'status', 'source', 'destination',
      'format', 'compression', 'schema_fingerprint', 'row_count', 'part_count', 'parts', 'mode', 'columns',
    ]);
    expect(Object.keys(m.parts[0])).toEqual(['part_id', 'path', 'rows', 'size_bytes', 'content_fingerprint', 'content_md5', 'status']);
    expect(m.row_count).toBe(15);
    expect(m.part_count).toBe(2);
  });

  it('serializes as 2-space pretty JSON and round-trips', () => {
    const bytes = serializeManifest(buildManifest(base));
    const text = new TextDecoder().decode(bytes);
    expect(text.startsWith('{\n  "manifest_version": 1,\n')).toBe(true);
    const { manifest, problems } = parseManifest(bytes);
    expect(problems).toEqual([]);
    expect(manifest?.run_id).toBe(base.run_id);
  });

  it('reports self-consistency problems', () => {
    const m = buildManifest(base);
    const broken = { ...m, row_count: 99, parts: [...m.parts, { ...m.parts[0] }] };
    const { problems } = parseManifest(new TextEncoder().encode(JSON.stringify(broken)));
    expect(problems.join('\n')).toMatch(/part_count declares 2 parts but 3/);
    expect(problems.join('\n')).toMatch(/row_count declares 99 rows but the committed parts sum to 25/);
    expect(problems.join('\n')).toMatch(/duplicate part_id 1/);
  });

  it('_SUCCESS is xxh3 of the exact manifest bytes plus a newline', async () => {
    const bytes = serializeManifest(buildManifest(base));
    const marker = await successMarker(bytes);
    expect(marker).toMatch(/^xxh3:[0-9a-f]{16}\n$/);
    expect(marker).toBe(`${await xxh3Fingerprint(bytes)}\n`);
    expect(await xxh3Fingerprint('hello')).toBe('xxh3:9555e8555c62dcfd');
  });

  it('parses markers strictly', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(parseSuccessMarker(enc('xxh3:9555e8555c62dcfd\r\n'))).toBe('xxh3:9555e8555c62dcfd');
    expect(parseSuccessMarker(enc('xxh3:9555E8555C62DCFD\n'))).toBeNull();
    expect(parseSuccessMarker(enc('xxh3:9555e8\n'))).toBeNull();
    expect(parseSuccessMarker(enc('md5:9555e8555c62dcfd\n'))).toBeNull();
  });
});

describe('layout and run ids', () => {
  it('names parts with six digits and reads them back', () => {
    expect(partKey(1, 'parquet')).toBe('part-000001.parquet');
    expect(partKey(1234567, 'csv')).toBe('part-1234567.csv');
    expect(partNumberOf('part-000042.csv')).toBe(42);
    expect(partNumberOf('_superseded/x/part-000042.csv')).toBeNull();
    expect(partNumberOf('orders_20260101_000000.parquet')).toBeNull();
    expect(isBookkeepingKey('_rivet/runs/x/plan.json')).toBe(true);
    expect(isBookkeepingKey('part-000001.parquet')).toBe(false);
  });
  it('makes reference-shaped run ids', () => {
    expect(makeRunId('orders', new Date('2026-05-21T12:00:00.123Z'))).toBe('orders_20260521T120000.123');
  });
});
