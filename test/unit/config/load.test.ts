import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../../shared/config/load.js';
import { isExplicitlySet } from '../../../shared/config/provenance.js';
import { isRivetError, type RivetError } from '../../../shared/errors/rivet-error.js';
import { createLogger } from '../../../shared/log/logger.js';
import { redact } from '../../../shared/log/redact.js';

interface Outcome {
  loaded?: LoadedConfig;
  error?: RivetError;
  warnings: string[];
  file: string;
}

async function load(yaml: string, opts: { params?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rivet-load-'));
  const file = path.join(dir, 'rivet.yaml');
  writeFileSync(file, yaml);
  const warnings: string[] = [];
  const log = createLogger({ level: 'warn', sink: (l) => warnings.push(l) });
  try {
    const loaded = await loadConfig(file, { params: opts.params, env: opts.env ?? { DATABASE_URL: 'postgresql://u@db/x' }, log });
    return { loaded, warnings, file };
  } catch (e) {
    if (!isRivetError(e)) throw e;
    return { error: e, warnings, file };
  }
}

async function loadError(yaml: string, opts: { params?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}): Promise<RivetError> {
  const out = await load(yaml, opts);
  if (!out.error) throw new Error('expected the config to be refused');
  expect(out.error.exitCode).toBe(2);
  expect(out.error.message).toContain(out.file);
  return out.error;
}

const MINIMAL = `
source:
  type: postgres
  url_env: DATABASE_URL
exports:
  - name: orders
    query: SELECT * FROM orders
    format: parquet
    destination:
      type: local
      path: ./out
`;

describe('loadConfig: reading', () => {
  it('reports a missing file with CONFIG_NOT_FOUND, the path and a hint to rivet init', async () => {
    const missing = path.join(tmpdir(), 'no-such-dir-rivet', 'rivet.yaml');
    const err = await loadConfig(missing, { log: createLogger({ sink: () => {} }) }).catch((e: RivetError) => e);
    expect(isRivetError(err)).toBe(true);
    expect((err as RivetError).code).toBe('CONFIG_NOT_FOUND');
    expect((err as RivetError).exitCode).toBe(2);
    expect((err as RivetError).message).toContain(missing);
    expect((err as RivetError).hint).toContain('rivet init');
  });

  it('reports another I/O error as unreadable, naming the path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-load-'));
    const err = await loadConfig(dir, { log: createLogger({ sink: () => {} }) }).catch((e: RivetError) => e);
    expect((err as RivetError).code).toBe('CONFIG_INVALID');
    expect((err as RivetError).message).toContain(`config ${dir} cannot be read`);
  });

  it('masks credential-looking env values it substitutes', async () => {
    const yaml = MINIMAL.replace('url_env: DATABASE_URL', 'url: "postgresql://u:${PG_PASSWORD}@db/x"');
    await load(yaml, { env: { PG_PASSWORD: 'substituted-secret-42' } });
    expect(redact('oops substituted-secret-42')).toBe('oops ***');
  });

  it('returns absolute path, dir, the original text and applied defaults', async () => {
    const out = await load(MINIMAL + '# ${DATABASE_URL}\n');
    const l = out.loaded!;
    expect(path.isAbsolute(l.path)).toBe(true);
    expect(l.dir).toBe(path.dirname(l.path));
    expect(l.rawText).toContain('# ${DATABASE_URL}');
    const e = l.config.exports[0];
    expect(e.mode).toBe('full');
    expect(e.compression).toBe('zstd');
    expect(e.verify).toBe('size');
    expect(e.chunk_size).toBe(100000);
    expect(e.parallel).toBe(1);
    expect(e.on_schema_drift).toBe('warn');
    expect(e.shape_drift_warn_factor).toBe(2.0);
    expect(e.meta_columns).toEqual({ exported_at: false, row_hash: false });
    expect(e.columns).toEqual({});
    expect(e.destination.allow_anonymous).toBe(false);
    expect(l.config.parallel_exports).toBe(false);
    expect(out.warnings).toEqual([]);
  });

  it('records which keys were written, so defaults and explicit values can be told apart', async () => {
    const l = (await load(MINIMAL.replace('format: parquet', 'format: parquet\n    on_schema_drift: warn'))).loaded!;
    expect(isExplicitlySet(l.config.exports[0], 'on_schema_drift')).toBe(true);
    expect(isExplicitlySet(l.config.exports[0], 'mode')).toBe(false);
  });

  it('treats an empty value as absent', async () => {
    const l = (await load(MINIMAL.replace('format: parquet', 'format: parquet\n    quality:\n    tuning:'))).loaded!;
    expect(l.config.exports[0].quality).toBeUndefined();
    expect(l.config.exports[0].tuning).toBeUndefined();
  });

  it('accepts anchors and aliases, refuses << merge keys as unknown', async () => {
    const yaml = `
source: { type: postgres, url_env: DATABASE_URL }
exports:
  - name: a
    query: SELECT 1
    format: csv
    destination: &dest { type: local, path: ./out }
  - name: b
    query: SELECT 2
    format: csv
    destination: *dest
`;
    const l = (await load(yaml)).loaded!;
    expect(l.config.exports[1].destination.path).toBe('./out');
    const err = await loadError(yaml.replace('destination: *dest', 'destination:\n      <<: *dest'));
    expect(err.message).toContain("unknown key '<<' in exports[1] (b).destination");
  });

  it('refuses duplicate keys and reports YAML errors with line and column', async () => {
    const err = await loadError(MINIMAL.replace('format: parquet', 'format: parquet\n    format: csv'));
    expect(err.message).toMatch(/YAML syntax error at line 9, column 5/);
    const err2 = await loadError('source:\n  type: postgres\n   url: x\n');
    expect(err2.message).toMatch(/YAML syntax error at line 2, column \d+: /);
  });

  it('reports an empty file and a non-mapping root', async () => {
    expect((await loadError('')).message).toContain('the config file is empty');
    expect((await loadError('- 1\n')).message).toContain('must be a mapping');
  });
});

describe('loadConfig: params and ${} substitution', () => {
  it('warns once per unused param, sorted, with the ${name} token and the config path', async () => {
    const yaml = MINIMAL.replace('SELECT * FROM orders', 'SELECT * FROM orders WHERE id > ${max_id}');
    const out = await load(yaml, { params: { zeta: '1', max: '2', max_id: '3' } });
    expect(out.loaded).toBeDefined();
    expect(out.warnings).toHaveLength(2);
    expect(out.warnings[0]).toContain('--param max is not used');
    expect(out.warnings[0]).toContain('${max}');
    expect(out.warnings[0]).toContain(out.file);
    expect(out.warnings[0]).toContain('case-sensitive');
    expect(out.warnings[1]).toContain('--param zeta is not used');
    expect(out.loaded!.config.exports[0].query).toBe('SELECT * FROM orders WHERE id > 3');
  });

  it('substitutes params before the environment', async () => {
    const yaml = MINIMAL.replace('SELECT * FROM orders', 'SELECT ${X}');
    const l = (await load(yaml, { params: { X: 'param' }, env: { X: 'env', DATABASE_URL: 'u' } })).loaded!;
    expect(l.config.exports[0].query).toBe('SELECT param');
    const l2 = (await load(yaml, { env: { X: 'env', DATABASE_URL: 'u' } })).loaded!;
    expect(l2.config.exports[0].query).toBe('SELECT env');
  });

  it('refuses an unset variable, naming it, even inside a comment', async () => {
    const err = await loadError(MINIMAL + '# uses ${FORGOTTEN_SECRET}\n');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('${FORGOTTEN_SECRET}');
    expect(err.message).toContain('not set');
    expect(err.message).toContain('empty string');
  });

  it('accepts an environment variable set to the empty string', async () => {
    const yaml = MINIMAL.replace('SELECT * FROM orders', 'SELECT 1${EMPTY}');
    const l = (await load(yaml, { env: { EMPTY: '', DATABASE_URL: 'u' } })).loaded!;
    expect(l.config.exports[0].query).toBe('SELECT 1');
  });

  it('substitutes before parsing, so substituted text is YAML (and is never rescanned)', async () => {
    const yaml = MINIMAL.replace('format: parquet', 'format: ${FMT}').replace('SELECT * FROM orders', '"${Q}"');
    const l = (await load(yaml, { params: { FMT: 'csv', Q: '${NOT_SCANNED}' } })).loaded!;
    expect(l.config.exports[0].format).toBe('csv');
    expect(l.config.exports[0].query).toBe('${NOT_SCANNED}');
  });
});

describe('loadConfig: misplaced tuning', () => {
  it('names source fields in order, bracketed, and shows a YAML example', async () => {
    const err = await loadError(MINIMAL.replace('url_env: DATABASE_URL', 'url_env: DATABASE_URL\n  throttle_ms: 5\n  batch_size: 10'));
    expect(err.message).toContain('source: [batch_size, throttle_ms] belong under source.tuning:, not directly under source:');
    expect(err.message).toMatch(/source:\n\s+tuning:\n\s+batch_size: <value>/);
  });

  it('names the export by index and name, <unnamed> when it has none', async () => {
    const err = await loadError(MINIMAL.replace('    format: parquet', '    format: parquet\n    profile: safe'));
    expect(err.message).toContain('exports[0] (orders): [profile] belong under exports[].tuning:');
    const err2 = await loadError(MINIMAL.replace('  - name: orders\n    query', '  - query').replace('    format: parquet', '    format: parquet\n    lock_timeout_s: 1'));
    expect(err2.message).toContain('exports[0] (<unnamed>): [lock_timeout_s]');
    expect(err2.message).toContain('- name: <unnamed>');
  });

  it('runs before the typed parse (wins over other errors)', async () => {
    const err = await loadError(MINIMAL.replace('format: parquet', 'format: avro\n    retry_backoff_ms: 1'));
    expect(err.message).toContain('[retry_backoff_ms]');
  });

  it('leaves other tuning keys to the unknown-key error, pointing them to tuning:', async () => {
    const err = await loadError(MINIMAL.replace('format: parquet', 'format: parquet\n    max_value_mb: 3'));
    expect(err.message).toContain("unknown key 'max_value_mb' in exports[0] (orders)");
    expect(err.message).toContain("'max_value_mb' belongs under `tuning:`");
  });
});

describe('loadConfig: typed parse messages', () => {
  it('suggests a key by substring and by edit distance', async () => {
    const sub = await loadError(MINIMAL.replace('path: ./out', 'path: ./out\n      bucket_name: x'));
    expect(sub.message).toContain("unknown key 'bucket_name' in exports[0] (orders).destination; allowed keys: type, bucket, prefix, path,");
    expect(sub.message).toContain("\n  did you mean 'bucket'?");
    const typo = await loadError(MINIMAL.replace('format: parquet', 'format: parquet\n    compresion: gzip'));
    expect(typo.message).toContain("did you mean 'compression'?");
    const none = await loadError(MINIMAL.replace('format: parquet', 'format: parquet\n    zzzzqqq: 1'));
    expect(none.message).not.toContain('did you mean');
  });

  it('checks unknown keys at every level (tls, tuning, quality, parquet, meta_columns, notifications, slack)', async () => {
    const cases: [string, string][] = [
      [MINIMAL.replace('url_env: DATABASE_URL', 'url_env: DATABASE_URL\n  tls: { mode: require, cafile: x }'), 'source.tls'],
      [MINIMAL.replace('url_env: DATABASE_URL', 'url_env: DATABASE_URL\n  tuning: { batchsize: 3 }'), 'source.tuning'],
      [MINIMAL.replace('format: parquet', 'format: parquet\n    quality: { min_rows: 3 }'), 'exports[0] (orders).quality'],
      [MINIMAL.replace('format: parquet', 'format: parquet\n    parquet: { rows: 3 }'), 'exports[0] (orders).parquet'],
      [MINIMAL.replace('format: parquet', 'format: parquet\n    meta_columns: { hash: true }'), 'exports[0] (orders).meta_columns'],
      [MINIMAL + 'notifications: { email: x }\n', 'notifications'],
      [MINIMAL + 'notifications: { slack: { url: x } }\n', 'notifications.slack'],
    ];
    for (const [yaml, where] of cases) {
      const err = await loadError(yaml);
      expect(err.message).toContain(`in ${where}; allowed keys:`);
    }
  });

  it('reports a missing required key with where it is missing', async () => {
    const err = await loadError(MINIMAL.replace('    format: parquet\n', ''));
    expect(err.message).toContain("missing required key 'format' in exports[0] (orders)");
    const err2 = await loadError(MINIMAL.replace('      type: local\n', ''));
    expect(err2.message).toContain("missing required key 'type' in exports[0] (orders).destination");
  });

  it('describes wrong types and negative counts without echoing strings', async () => {
    const err = await loadError(MINIMAL.replace('format: parquet', 'format: parquet\n    chunk_size: -5'));
    expect(err.message).toContain('exports[0] (orders).chunk_size must be ≥ 0, got -5');
    const err2 = await loadError(MINIMAL.replace('format: parquet', 'format: parquet\n    skip_empty: "sure-secret-ish"'));
    expect(err2.message).toContain('exports[0] (orders).skip_empty must be true or false, got a string');
    expect(err2.message).not.toContain('sure-secret-ish');
    const err3 = await loadError(MINIMAL.replace('format: parquet', 'format: parquet\n    parallel: 1.5'));
    expect(err3.message).toContain('parallel must be a whole number');
  });

  it('shows a mapping or list given for an enum as the user wrote it, not [object Object]', async () => {
    const err = await loadError(MINIMAL.replace('format: parquet', 'format: parquet\n    mode: {nested: chunked}'));
    expect(err.message).toContain("invalid value { nested: chunked } for exports[0] (orders).mode");
    expect(err.message).not.toContain('[object Object]');
    const err2 = await loadError(MINIMAL.replace('format: parquet', 'format: [parquet, csv]'));
    expect(err2.message).not.toContain('[object Object]');
    expect(err2.message).toContain('invalid value [ parquet, csv ] for exports[0] (orders).format');
  });

  it('suggests the right case for an enum value', async () => {
    const err = await loadError(MINIMAL.replace('format: parquet', 'format: Parquet'));
    expect(err.message).toContain("invalid value 'Parquet' for exports[0] (orders).format; expected one of: parquet, csv");
    expect(err.message).toContain("did you mean 'parquet'?");
  });
});

describe('loadConfig: full grammar', () => {
  it('parses a config that sets every key', async () => {
    const yaml = `
source:
  type: postgres
  host: db.internal
  port: 5433
  user: app
  password_env: DB_PASSWORD
  database: shop
  environment: production
  tuning:
    profile: safe
    batch_size: 1000
    throttle_ms: 10
    statement_timeout_s: 60
    max_retries: 2
    retry_backoff_ms: 100
    lock_timeout_s: 5
    memory_threshold_mb: 1024
    max_batch_memory_mb: 64
    on_batch_memory_exceeded: auto_shrink
    adaptive: true
    min_parallel: 2
    max_value_mb: 16
  tls:
    mode: verify-ca
    ca_file: ca.pem
    accept_invalid_certs: false
    accept_invalid_hostnames: true
parallel_exports: true
parallel_export_processes: false
notifications:
  slack:
    webhook_url_env: SLACK_URL
    webhook_url: https://hooks.example/x
    on: [failure, schema_change, degraded]
exports:
  - name: orders
    table: public.orders
    mode: chunked
    cursor_column: updated_at
    cursor_fallback_column: created_at
    incremental_cursor_mode: coalesce
    chunk_column: id
    chunk_dense: false
    chunk_size: 5000
    chunk_size_memory_mb: 32
    chunk_count: 4
    chunk_by_key: id
    parallel: 4
    chunk_checkpoint: true
    chunk_max_attempts: 3
    time_column: created_at
    time_column_type: unix
    days_window: 7
    partition_by: created_at
    partition_granularity: month
    format: parquet
    compression: gzip
    compression_level: 9
    compression_profile: compact
    skip_empty: true
    destination:
      type: s3
      bucket: lake
      prefix: raw/{export}/{date}/
      path: unused
      region: eu-west-1
      endpoint: http://localhost:4566
      access_key_env: AWS_KEY
      secret_key_env: AWS_SECRET
      session_token_env: AWS_TOKEN
      aws_profile: dev
      account_name: acct
      account_key_env: AZ_KEY
      sas_token_env: AZ_SAS
      allow_anonymous: false
    verify: content
    meta_columns: { exported_at: true, row_hash: true }
    quality:
      row_count_min: 1
      row_count_max: 100
      null_ratio_max: { email: 0.1 }
      unique_columns: [id]
      unique_max_entries: 1000
    max_file_size: 1.5GB
    tuning: { batch_size: 500 }
    source_group: core
    reconcile_required: true
    columns: { amount: "decimal(10,2)" }
    target: bigquery
    on_schema_drift: fail
    shape_drift_warn_factor: 1.5
    parquet:
      row_group_strategy: fixed_rows
      row_group_rows: 10000
      target_row_group_mb: 64
      max_row_group_mb: 256
`;
    const out = await load(yaml, { env: { DB_PASSWORD: 'pw' } });
    expect(out.error).toBeUndefined();
    const c = out.loaded!.config;
    expect(c.source.tls).toEqual({ mode: 'verify-ca', ca_file: 'ca.pem', accept_invalid_certs: false, accept_invalid_hostnames: true });
    expect(c.notifications?.slack?.on).toEqual(['failure', 'schema_change', 'degraded']);
    expect(c.exports[0].quality?.null_ratio_max).toEqual({ email: 0.1 });
    expect(c.exports[0].parquet?.row_group_strategy).toBe('fixed_rows');
    // The export is chunked, so the incremental and time_window keys draw one warning.
    expect(out.warnings.filter((w) => w.includes('ignored in mode: chunked'))).toHaveLength(1);
    expect(out.warnings[0]).toContain('cursor_column, cursor_fallback_column, incremental_cursor_mode, time_column, time_column_type, days_window');
  });

  it('warns once about keys the mode ignores and Parquet-only keys on CSV', async () => {
    const yaml = MINIMAL.replace('format: parquet', 'format: csv\n    cursor_column: id\n    chunk_size: 10\n    compression: gzip');
    const out = await load(yaml);
    expect(out.loaded).toBeDefined();
    expect(out.warnings).toHaveLength(2);
    expect(out.warnings[0]).toContain('exports[0] (orders): cursor_column, chunk_size are ignored in mode: full');
    expect(out.warnings[1]).toContain('compression only apply to Parquet');
  });
});
