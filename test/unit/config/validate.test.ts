import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RivetConfigSchema } from '../../../shared/config/schema.js';
import { validateConfig } from '../../../shared/config/validate.js';
import { RivetError } from '../../../shared/errors/rivet-error.js';

const BASE_EXPORT = { name: 'orders', query: 'SELECT 1', format: 'parquet', destination: { type: 'local', path: 'out' } };

function config(exp: object = {}, source: object = {}, more: object[] = []) {
  return RivetConfigSchema.parse({
    source: { type: 'postgres', url_env: 'DATABASE_URL', ...source },
    exports: [{ ...BASE_EXPORT, ...exp }, ...more],
  });
}

function refusal(exp: object = {}, source: object = {}, more: object[] = [], cwd?: string): string {
  try {
    validateConfig(config(exp, source, more), { cwd });
  } catch (e) {
    expect(e).toBeInstanceOf(RivetError);
    expect((e as RivetError).code).toBe('CONFIG_INVALID');
    expect((e as RivetError).exitCode).toBe(2);
    return (e as RivetError).message;
  }
  throw new Error('expected a refusal');
}

describe('validateConfig', () => {
  it('accepts a minimal config', () => {
    expect(() => validateConfig(config())).not.toThrow();
  });

  it('refuses duplicate export names, naming the name', () => {
    expect(refusal({}, {}, [BASE_EXPORT])).toMatch(/export name 'orders' is used more than once; names must be unique because state .* per export name/);
  });

  it('checks batch_size vs batch_size_memory_mb at source, export and merged level', () => {
    expect(refusal({}, { tuning: { batch_size: 1, batch_size_memory_mb: 2 } })).toMatch(/^tuning: .*mutually exclusive/);
    expect(refusal({ tuning: { batch_size: 1, batch_size_memory_mb: 2 } })).toContain('exports[0] (orders): `tuning.batch_size` and `tuning.batch_size_memory_mb` are mutually exclusive');
    expect(refusal({ tuning: { batch_size_memory_mb: 2 } }, { tuning: { batch_size: 1 } })).toContain('exports[0] (orders): after merging source.tuning');
  });

  it('checks the connection method before per-export rules', () => {
    expect(refusal({ query: undefined }, { url_env: undefined })).toContain('source: no connection method is configured');
  });

  it('requires exactly one query source', () => {
    expect(refusal({ query: undefined })).toContain('exports[0] (orders): none of `query`, `query_file`, `table` is set; exactly one is required');
    expect(refusal({ query_file: 'a.sql', table: 't' })).toContain('but 3 are set (query, query_file, table)');
  });

  it('refuses absolute query_file paths', () => {
    expect(refusal({ query: undefined, query_file: '/etc/passwd' })).toContain("absolute paths are not allowed for query_file ('/etc/passwd')");
  });

  it('applies the destination rules, naming the export', () => {
    expect(refusal({ destination: { type: 's3', bucket: 'b', access_key_env: 'K' } })).toContain('exports[0] (orders): destination: S3 needs both `access_key_env` and `secret_key_env`, or neither');
    expect(refusal({ destination: { type: 'gcs', bucket: 'b', allow_anonymous: true, credentials_file: 'x' } })).toContain('GCS `allow_anonymous` cannot be combined with `credentials_file`');
    expect(refusal({ destination: { type: 'azure', bucket: 'c', allow_anonymous: true, account_name: 'a' } })).toContain('anonymous Azure access');
    expect(refusal({ destination: { type: 'azure', bucket: 'c', account_name: 'a', account_key_env: 'K', sas_token_env: 'S' } })).toContain('cannot both be set');
    expect(refusal({ destination: { type: 'azure', bucket: 'c', account_key_env: 'K' } })).toContain('Azure needs `account_name`');
    expect(refusal({ destination: { type: 'azure', bucket: 'c', account_name: 'a' } })).toContain('Azure needs `account_key_env` or `sas_token_env`');
    expect(() => validateConfig(config({ destination: { type: 'azure', bucket: 'c', allow_anonymous: true } }))).not.toThrow();
  });

  it('checks that credentials_file exists, relative to the cwd', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-val-'));
    writeFileSync(path.join(dir, 'sa.json'), '{}');
    expect(refusal({ destination: { type: 'gcs', bucket: 'b', credentials_file: 'nope.json' } }, {}, [], dir)).toContain("credentials_file 'nope.json' does not exist");
    expect(() => validateConfig(config({ destination: { type: 'gcs', bucket: 'b', credentials_file: 'sa.json' } }), { cwd: dir })).not.toThrow();
  });

  it('parses max_file_size', () => {
    expect(refusal({ max_file_size: '10 parsecs' })).toContain("exports[0] (orders): invalid max_file_size '10 parsecs'");
    expect(() => validateConfig(config({ max_file_size: '1.5gb' }))).not.toThrow();
  });

  it('range-checks compression_level against compression, even with a profile', () => {
    expect(refusal({ compression_level: 23 })).toContain('compression_level 23 is out of range for zstd (1..22)');
    expect(refusal({ compression: 'gzip', compression_level: 11 })).toContain('out of range for gzip (0..10)');
    expect(refusal({ compression: 'snappy', compression_level: 1 })).toContain("compression 'snappy' takes no compression_level");
    expect(refusal({ compression_level: 0, compression_profile: 'fast' })).toContain('out of range for zstd');
    expect(() => validateConfig(config({ compression: 'gzip', compression_level: 0 }))).not.toThrow();
  });

  it('applies the incremental rules', () => {
    expect(refusal({ mode: 'incremental', cursor_column: 'a', incremental_cursor_mode: 'coalesce' })).toContain('`incremental_cursor_mode: coalesce` also needs `cursor_fallback_column`');
    expect(refusal({ mode: 'incremental', cursor_column: 'a', cursor_fallback_column: 'b' })).toContain('`cursor_fallback_column` only makes sense with `incremental_cursor_mode: coalesce`');
  });

  it('applies the chunked rules', () => {
    expect(refusal({ mode: 'chunked' })).toContain('mode: chunked needs `chunk_column`');
    expect(() => validateConfig(config({ mode: 'chunked', query: undefined, table: 'orders' }))).not.toThrow();
    expect(refusal({ mode: 'chunked', chunk_column: 'id', chunk_size: 0 })).toContain('`chunk_size` must be ≥ 1 in chunked mode (got 0)');
    expect(refusal({ mode: 'chunked', chunk_column: 'id', parallel: 0 })).toContain('`parallel` must be ≥ 1 in chunked mode (got 0)');
    expect(refusal({ mode: 'chunked', chunk_column: 'id', chunk_count: 0 })).toContain('`chunk_count` must be ≥ 1');
    expect(refusal({ mode: 'chunked', chunk_column: 'id', chunk_count: 2, chunk_dense: true })).toContain('`chunk_count` cannot be used together with `chunk_dense`');
    expect(refusal({ mode: 'chunked', chunk_column: 'id', chunk_count: 2, chunk_by_days: 1 })).toContain('`chunk_count` cannot be used together with `chunk_by_days`');
    expect(() => validateConfig(config({ chunk_size: 0, parallel: 0 }))).not.toThrow();
  });

  it('applies the time_window rules', () => {
    expect(refusal({ mode: 'time_window', days_window: 3 })).toContain('`time_column` is needed for mode: time_window');
    expect(refusal({ mode: 'time_window', time_column: 't' })).toContain('`days_window` is needed for mode: time_window');
  });

  it('keeps chunk_dense and chunk_by_days to chunked mode', () => {
    expect(refusal({ chunk_dense: true })).toContain('`chunk_dense` only makes sense with `mode: chunked`');
    expect(refusal({ chunk_by_days: 2 })).toContain('`chunk_by_days` needs `mode: chunked`');
    expect(refusal({ mode: 'chunked', chunk_column: 'd', chunk_by_days: 2, chunk_dense: true })).toContain('`chunk_by_days` cannot be used together with `chunk_dense`');
    expect(refusal({ mode: 'chunked', chunk_column: 'd', chunk_by_days: 0 })).toContain('`chunk_by_days` must be ≥ 1 (got 0)');
  });

  it('names the failing export by index and name', () => {
    expect(refusal({}, {}, [{ ...BASE_EXPORT, name: 'second', compression_level: 99 }])).toContain('exports[1] (second): compression_level 99');
  });
});
