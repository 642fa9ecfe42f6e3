import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load.js';
import { isRivetError, type RivetError } from '../../../shared/errors/rivet-error.js';
import { silentLogger } from '../../../shared/log/logger.js';

/** The reference's negative config matrix (docs/reference/config.md, g01–g17): each must be refused with exit 2 and a message naming the culprit. */

async function refuse(yaml: string): Promise<RivetError> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rivet-neg-'));
  const file = path.join(dir, 'rivet.yaml');
  writeFileSync(file, yaml);
  try {
    await loadConfig(file, { log: silentLogger, env: { DATABASE_URL: 'postgresql://u@db/x', DB_PASSWORD: 'pw' } });
  } catch (e) {
    if (!isRivetError(e)) throw e;
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(file);
    return e;
  }
  throw new Error('config was accepted');
}

const EXPORT = `
exports:
  - name: pa_audit
    query: SELECT * FROM audit
    format: parquet
    destination: { type: local, path: ./out }
`;

const exportWith = (extra: string, query = 'query: SELECT * FROM audit') => `
source: { type: postgres, url_env: DATABASE_URL }
exports:
  - name: pa_audit
    ${query}
    format: parquet
    destination: { type: local, path: ./out }
${extra
  .split('\n')
  .filter(Boolean)
  .map((l) => '    ' + l)
  .join('\n')}
`;

describe('negative config matrix', () => {
  it('g01 url + url_env', async () => {
    const e = await refuse(`source:\n  type: postgres\n  url: postgresql://u@h/d\n  url_env: DATABASE_URL\n${EXPORT}`);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/source: exactly one of url, url_env, url_file may be set, but 2 are set/);
  });

  it('g02 url + structured fields', async () => {
    const e = await refuse(`source:\n  type: postgres\n  url: postgresql://u@h/d\n  host: h\n  user: u\n  database: d\n${EXPORT}`);
    expect(e.message).toMatch(/source: choose either URL-based config .* or structured fields .* not both/);
  });

  it('g03 password + password_env', async () => {
    const e = await refuse(`source:\n  type: postgres\n  host: h\n  user: u\n  database: d\n  password: x\n  password_env: DB_PASSWORD\n${EXPORT}`);
    expect(e.message).toMatch(/source: only one of `password` and `password_env` may be set/);
  });

  it('g04 query + query_file: count check precedes path check', async () => {
    const e = await refuse(exportWith('query_file: ../../../etc/passwd'));
    expect(e.message).toMatch(/exports\[0\] \(pa_audit\): only one of `query`, `query_file`, `table` may be set, but 2 are set/);
  });

  it('g05 query + table', async () => {
    const e = await refuse(exportWith('table: public.audit'));
    expect(e.message).toMatch(/exports\[0\] \(pa_audit\): only one of .* but 2 are set \(query, table\)/);
  });

  it('g06 no source', async () => {
    const e = await refuse(EXPORT);
    expect(e.message).toMatch(/missing required key 'source' at the top level/);
    expect(e.hint).toContain('source:');
  });

  it('g07 empty exports', async () => {
    const e = await refuse('source: { type: postgres, url_env: DATABASE_URL }\nexports: []\n');
    expect(e.message).toMatch(/the `exports` list is empty; at least one export is required/);
  });

  it('g08 structured without host', async () => {
    const e = await refuse(`source:\n  type: postgres\n  user: u\n  database: d\n  password_env: DB_PASSWORD\n${EXPORT}`);
    expect(e.message).toMatch(/source: the structured connection config is missing `host`/);
  });

  it('g09 structured without user', async () => {
    const e = await refuse(`source:\n  type: postgres\n  host: h\n  database: d\n${EXPORT}`);
    expect(e.message).toMatch(/missing `user`/);
  });

  it('g10 unknown root key lists the allowed root keys', async () => {
    const e = await refuse(`source: { type: postgres, url_env: DATABASE_URL }\nmystery_key: 1\n${EXPORT}`);
    expect(e.message).toContain("unknown key 'mystery_key' at the top level; allowed keys: source, exports, notifications, parallel_exports, parallel_export_processes");
  });

  it('g11 unknown export key lists the export keys', async () => {
    const e = await refuse(exportWith('nonsense_export_field: true'));
    expect(e.message).toContain("unknown key 'nonsense_export_field' in exports[0] (pa_audit); allowed keys: name, query, query_file, table, mode,");
    expect(e.message).toContain('shape_drift_warn_factor, parquet');
  });

  it('g12 unknown mode', async () => {
    const e = await refuse(exportWith('mode: gibberish'));
    expect(e.message).toContain("invalid value 'gibberish' for exports[0] (pa_audit).mode; expected one of: full, incremental, chunked, time_window");
  });

  it('g13 unknown format', async () => {
    const yaml = exportWith('').replace('format: parquet', 'format: avro');
    const e = await refuse(yaml);
    expect(e.message).toContain("invalid value 'avro' for exports[0] (pa_audit).format; expected one of: parquet, csv");
  });

  it('g14 batch_size directly on an export', async () => {
    const e = await refuse(exportWith('batch_size: 5000'));
    expect(e.message).toContain('exports[0] (pa_audit): [batch_size] belong under exports[].tuning:');
    expect(e.message).toMatch(/exports:\n\s+- name: pa_audit\n\s+tuning:\n\s+batch_size: <value>/);
  });

  it('g15 malformed YAML reports line and column', async () => {
    const e = await refuse('source:\n  type: postgres\n  url_env: [DATABASE_URL\nexports: []\n');
    expect(e.message).toMatch(/YAML syntax error at line \d+, column \d+/);
  });

  it('g16 query_file with ..', async () => {
    const e = await refuse(exportWith('', 'query_file: ../../../../etc/passwd'));
    expect(e.message).toContain("exports[0] (pa_audit): '..' components are not allowed in query_file ('../../../../etc/passwd')");
  });

  it('g17 incremental without cursor_column', async () => {
    const e = await refuse(exportWith('mode: incremental'));
    expect(e.message).toMatch(/exports\[0\] \(pa_audit\): `cursor_column` is missing but mode: incremental needs one/);
  });

  it('g18 chunked + table without chunk_column is accepted at load time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-neg-'));
    const file = path.join(dir, 'rivet.yaml');
    writeFileSync(file, exportWith('mode: chunked', 'table: pa_audit'));
    const loaded = await loadConfig(file, { log: silentLogger, env: { DATABASE_URL: 'x' } });
    expect(loaded.config.exports[0].mode).toBe('chunked');
  });
});
