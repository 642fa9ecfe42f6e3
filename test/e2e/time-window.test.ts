import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB } from '../helpers/readers.js';

let schema: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_tw');
  // Rows spread around "now": some inside a 3-day window, some outside, one exactly on the cutoff.
  await pgExec(`
    CREATE TABLE ${schema}.readings (id int, ts timestamptz, local_ts timestamp, day date, epoch bigint);
    WITH cutoff AS (SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '3 days') AT TIME ZONE 'UTC' AS c),
    src AS (
      SELECT 1 AS id, now() - interval '10 days' AS ts UNION ALL
      SELECT 2, (SELECT c FROM cutoff) - interval '1 microsecond' UNION ALL
      SELECT 3, (SELECT c FROM cutoff) UNION ALL
      SELECT 4, now() - interval '2 days' UNION ALL
      SELECT 5, now() - interval '1 hour' UNION ALL
      SELECT 6, NULL)
    INSERT INTO ${schema}.readings
    SELECT id, ts, ts AT TIME ZONE 'UTC', (ts AT TIME ZONE 'UTC')::date, floor(extract(epoch FROM ts))::bigint FROM src;`);
});

async function setup(exportYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-tw-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n${exportYaml.replaceAll('OUT', out).replaceAll('SCHEMA', schema)}`);
  return { dir, out, cfg };
}

async function exportedIds(out: string): Promise<number[]> {
  const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  if (m.parts.length === 0) return [];
  const files = m.parts.map((p: { path: string }) => `'${join(out, p.path)}'`).join(', ');
  return (await queryWithDuckDB(`SELECT id FROM read_parquet([${files}]) ORDER BY id`)).map((r) => Number(r.id));
}

describe('mode: time_window (built CLI, real PostgreSQL)', () => {
  it.each([
    ['ts', 'timestamp', [3, 4, 5]],
    ['local_ts', 'timestamp', [3, 4, 5]],
    ['day', 'timestamp', [3, 4, 5]],
    ['epoch', 'unix', [3, 4, 5]],
  ])('exports only the rows whose %s (%s) is on or after UTC midnight days_window days ago', async (column, type, expected) => {
    const { out, cfg } = await setup(
      `  - name: recent\n    table: SCHEMA.readings\n    mode: time_window\n    time_column: ${column}\n    time_column_type: ${type}\n    days_window: 3\n    format: parquet\n    destination: { type: local, path: OUT }\n`,
    );
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code, r.stderr).toBe(0);
    expect(await exportedIds(out)).toEqual(expected);
  });

  it('is a snapshot: a second run lists only its own part and moves the previous one aside', async () => {
    const { out, cfg } = await setup(
      `  - name: recent\n    table: SCHEMA.readings\n    mode: time_window\n    time_column: ts\n    days_window: 3\n    format: csv\n    destination: { type: local, path: OUT }\n`,
    );
    expect((await runCli(['run', '-c', cfg])).code).toBe(0);
    expect((await runCli(['run', '-c', cfg])).code).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(m.mode).toBe('time_window');
    expect(m.parts.map((p: { path: string; rows: number }) => [p.path, p.rows])).toEqual([['part-000002.csv', 3]]);
    expect(await readdir(join(out, '_superseded', m.run_id))).toEqual(['part-000001.csv']);
    expect(m.cursor).toBeUndefined();
  });
});
