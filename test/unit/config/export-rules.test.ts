import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load.js';
import { RivetConfigSchema } from '../../../shared/config/schema.js';
import { assertExportRules } from '../../../shared/config/export-rules.js';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { silentLogger } from '../../../shared/log/logger.js';

const BASE = {
  source: { type: 'postgres', url_env: 'DATABASE_URL' },
  exports: [{ name: 'orders', query: 'SELECT 1', format: 'parquet', destination: { type: 'local', path: 'out' } }],
};

function config(patch: { source?: object; exp?: object; root?: object } = {}) {
  return RivetConfigSchema.parse({
    ...BASE,
    ...patch.root,
    source: { ...BASE.source, ...patch.source },
    exports: [{ ...BASE.exports[0], ...patch.exp }],
  });
}

const check = (patch: Parameters<typeof config>[0]) => {
  const c = config(patch);
  return () => assertExportRules(c, c.exports[0]);
};

describe('assertExportRules', () => {
  it('accepts everything that is built', () => {
    const c = config({
      source: { tls: { mode: 'require' }, environment: 'local', tuning: { profile: 'safe', batch_size: 5, throttle_ms: 1, statement_timeout_s: 1, lock_timeout_s: 1, max_retries: 1, retry_backoff_ms: 1, max_value_mb: 1, memory_threshold_mb: 1, on_batch_memory_exceeded: 'warn', adaptive: false } },
      exp: { compression: 'gzip', compression_level: 5, compression_profile: 'fast', skip_empty: true, columns: { a: 'int8' }, target: 'duckdb', source_group: 'g', reconcile_required: true, verify: 'size', parquet: { row_group_rows: 5 }, meta_columns: { exported_at: false, row_hash: false } },
    });
    expect(() => assertExportRules(c, c.exports[0])).not.toThrow();
    const s = config({ exp: { format: 'csv', destination: { type: 'stdout' } } });
    expect(() => assertExportRules(s, s.exports[0])).not.toThrow();
    const m = config({ exp: { max_file_size: '1GB' } });
    expect(() => assertExportRules(m, m.exports[0])).not.toThrow();
  });

  it.each([
    [{ mode: 'incremental', cursor_column: 'id' }],
    [{ mode: 'incremental', cursor_column: 'updated_at', incremental_cursor_mode: 'coalesce', cursor_fallback_column: 'created_at' }],
    [{ mode: 'time_window', time_column: 't', days_window: 1 }],
    [{ mode: 'time_window', time_column: 't', time_column_type: 'unix', days_window: 7 }],
    [{ meta_columns: { exported_at: true, row_hash: true } }],
    [{ mode: 'chunked', chunk_column: 'id', chunk_size: 10, parallel: 3, chunk_checkpoint: true, chunk_max_attempts: 2 }],
    [{ mode: 'chunked', chunk_column: 'day', chunk_by_days: 7 }],
    [{ mode: 'chunked', chunk_column: 'id', chunk_dense: true }],
    [{ mode: 'chunked', table: 'public.orders', query: undefined, chunk_count: 4 }],
  ])('accepts %j', (exp) => {
    expect(check({ exp })).not.toThrow();
  });

  it('refuses mode: chunked with a stdout destination (chunks are parts, a stream has none)', () => {
    let err: RivetError | null = null;
    try {
      check({ exp: { format: 'csv', mode: 'chunked', chunk_column: 'id', destination: { type: 'stdout' } } })();
    } catch (e) {
      err = e as RivetError;
    }
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err?.message).toMatch(/mode: chunked cannot write to a stdout destination/);
  });

  it('refuses max_file_size with a stdout destination (a stream cannot be split)', () => {
    let err: RivetError | null = null;
    try {
      check({ exp: { format: 'csv', max_file_size: '1MB', destination: { type: 'stdout' } } })();
    } catch (e) {
      err = e as RivetError;
    }
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toMatch(/max_file_size cannot be used with a stdout destination/);
  });

  it.each([
    [{ source: { tuning: { adaptive: true, min_parallel: 2 } } }],
    [{ exp: { tuning: { max_batch_memory_mb: 64, on_batch_memory_exceeded: 'fail' } } }],
    [{ exp: { tuning: { on_batch_memory_exceeded: 'auto_shrink' } } }],
    [{ exp: { verify: 'content' } }],
    [{ exp: { verify: 'content', format: 'csv', destination: { type: 'stdout' } } }],
    [{ exp: { mode: 'chunked', table: 'public.orders', query: undefined, chunk_by_key: 'id', chunk_size_memory_mb: 8 } }],
  ])('accepts every key of the 0.9.4 grammar: %j', (patch) => {
    expect(check(patch)).not.toThrow();
  });

  it('partition_by: accepted with {partition} in the path or prefix; refused (exit 2, with a hint) without it, empty, or with time_window', () => {
    expect(check({ exp: { partition_by: 'created_at', partition_granularity: 'month', destination: { type: 'local', path: 'lake/{partition}' } } })).not.toThrow();
    expect(check({ exp: { mode: 'incremental', cursor_column: 'id', partition_by: 'd', destination: { type: 's3', bucket: 'b', prefix: 'raw/{partition}/' } } })).not.toThrow();
    // Without partition_by a granularity changes nothing, as in the reference.
    expect(check({ exp: { partition_granularity: 'year' } })).not.toThrow();
    const cases: [object, RegExp][] = [
      [{ partition_by: 'created_at' }, /exports\[0\] \(orders\): partition_by needs the \{partition\} placeholder in destination\.path/],
      [{ partition_by: ' ', destination: { type: 'local', path: 'lake/{partition}' } }, /partition_by is empty/],
      [{ partition_by: 'd', mode: 'time_window', time_column: 't', days_window: 1, destination: { type: 'local', path: 'lake/{partition}' } }, /cannot be combined with mode: time_window/],
      [{ partition_by: 'd', format: 'csv', destination: { type: 'stdout' } }, /needs the \{partition\} placeholder/],
    ];
    for (const [exp, message] of cases) {
      let err: RivetError | undefined;
      try {
        check({ exp })();
      } catch (e) {
        err = e as RivetError;
      }
      expect(err?.code).toBe('CONFIG_INVALID');
      expect(err?.exitCode).toBe(2);
      expect(err?.message).toMatch(message);
      expect(err?.hint).toBeTruthy();
    }
  });

  it('accepts quality, notifications, on_schema_drift and shape_drift_warn_factor (built now)', () => {
    expect(check({ root: { notifications: { slack: { webhook_url_env: 'X', on: ['failure'] } } } })).not.toThrow();
    expect(check({ exp: { quality: { row_count_min: 1 } } })).not.toThrow();
    expect(check({ exp: { on_schema_drift: 'fail' } })).not.toThrow();
    expect(check({ exp: { shape_drift_warn_factor: 3 } })).not.toThrow();
  });

  it('accepts on_schema_drift written with its default value when loaded from a file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-support-'));
    const file = path.join(dir, 'rivet.yaml');
    writeFileSync(
      file,
      'source: { type: postgres, url_env: DATABASE_URL }\nexports:\n  - { name: a, query: q, format: csv, destination: { type: stdout }, on_schema_drift: warn }\n  - { name: b, query: q, format: csv, destination: { type: stdout } }\n',
    );
    const { config: c } = await loadConfig(file, { log: silentLogger, env: { DATABASE_URL: 'x' } });
    expect(() => assertExportRules(c, c.exports[0])).not.toThrow();
    expect(() => assertExportRules(c, c.exports[1])).not.toThrow();
  });
});
