import { describe, expect, it } from 'vitest';
import { resolveCompression } from '../../../shared/config/compression.js';
import { levenshtein, suggestKey } from '../../../shared/config/did-you-mean.js';
import { expandPlaceholders, utcDate } from '../../../shared/config/placeholders.js';
import { ExportConfigSchema } from '../../../shared/config/schema.js';
import { parseSize } from '../../../shared/config/size.js';

describe('parseSize', () => {
  it('reads binary units, case-insensitively, with fractions truncated', () => {
    expect(parseSize('1GB')).toBe(1024 ** 3);
    expect(parseSize(' 512mb ')).toBe(512 * 1024 ** 2);
    expect(parseSize('1.5GB')).toBe(1610612736);
    expect(parseSize('10KB')).toBe(10240);
    expect(parseSize('100B')).toBe(100);
    expect(parseSize('1000')).toBe(1000);
    expect(parseSize('1.7')).toBe(1);
    expect(parseSize('0.5KB')).toBe(512);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'GB', '1.5 GB', '1TB', 'abc', '-5MB', '1e999GB', '5 MB', '1,5GB']) expect(parseSize(bad), bad).toBeNull();
  });
});

describe('placeholders', () => {
  it('replaces every occurrence of {date}, {export}, {table}', () => {
    expect(expandPlaceholders('out/{export}/{date}/{table}-{date}', { date: '2026-01-02', exportName: 'orders' })).toBe('out/orders/2026-01-02/orders-2026-01-02');
  });

  it('replaces {run_id} when a run id is known, keeps it otherwise', () => {
    expect(expandPlaceholders('p/{run_id}/', { date: 'd', exportName: 'e', runId: 'e_20260101T000000' })).toBe('p/e_20260101T000000/');
    expect(expandPlaceholders('p/{run_id}/', { date: 'd', exportName: 'e' })).toBe('p/{run_id}/');
  });

  it('leaves unknown tokens verbatim and never expands inserted text', () => {
    expect(expandPlaceholders('{partition}/{x}/{export}', { date: 'd', exportName: '{date}' })).toBe('{partition}/{x}/{date}');
  });

  it('formats the UTC date', () => {
    expect(utcDate(new Date('2026-03-04T23:59:59-05:00'))).toBe('2026-03-05');
  });
});

describe('did you mean', () => {
  const keys = ['name', 'query', 'query_file', 'table', 'format', 'compression', 'compression_level', 'destination'];
  it('prefers the longest substring match of 3+ characters', () => {
    expect(suggestKey('my_query_file_path', keys)).toBe('query_file');
    expect(suggestKey('compression_lvl', keys)).toBe('compression');
    expect(suggestKey('TABLE_NAME', keys)).toBe('table');
  });

  it('falls back to edit distance within max(2, len/3)', () => {
    expect(levenshtein('formt', 'format')).toBe(1);
    expect(suggestKey('formt', keys)).toBe('format');
    expect(suggestKey('destnation', keys)).toBe('destination');
    expect(suggestKey('xyzzy', keys)).toBeUndefined();
  });
});

describe('resolveCompression', () => {
  const exp = (extra: object) => ExportConfigSchema.parse({ name: 'e', query: 'q', format: 'parquet', destination: { type: 'stdout' }, ...extra });
  it('uses compression and level, or the profile mapping', () => {
    expect(resolveCompression(exp({}))).toEqual({ codec: 'zstd' });
    expect(resolveCompression(exp({ compression: 'gzip', compression_level: 4 }))).toEqual({ codec: 'gzip', level: 4 });
    expect(resolveCompression(exp({ compression_profile: 'none' }))).toEqual({ codec: 'none' });
    expect(resolveCompression(exp({ compression_profile: 'fast', compression_level: 5 }))).toEqual({ codec: 'snappy' });
    expect(resolveCompression(exp({ compression_profile: 'balanced' }))).toEqual({ codec: 'zstd', level: 3 });
    expect(resolveCompression(exp({ compression_profile: 'compact' }))).toEqual({ codec: 'zstd', level: 9 });
  });
});
