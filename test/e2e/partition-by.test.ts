import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { queryWithDuckDB } from '../helpers/readers.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { expectOk } from '../helpers/expect-ok.js';
import { manifestOf } from '../helpers/lake.js';
import { storedCursor } from '../helpers/stored-cursor.js';

/**
 * partition_by through the built CLI on PostgreSQL and MariaDB: one child export per bucket
 * (and one for NULL), each at its own `col=value` prefix with its own manifest and _SUCCESS.
 * The bucket every row must land in is computed here from the generated values, not by SQL,
 * and the lake is read back by DuckDB as a Hive-partitioned dataset.
 */

interface Row {
  id: number;
  /** date, YYYY-MM-DD */
  d: string | null;
  /** instant, UTC text with microseconds */
  ts: string | null;
  /** wall-clock timestamp text with microseconds */
  wall: string | null;
}

const N = 1500;

function utcText(ms: number, micros: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}.${String(micros).padStart(6, '0')}`;
}

function generate(seed: number, firstId: number, count: number, tsFrom: string, tsTo: string): Row[] {
  const rnd = seededRandom(seed);
  const [lo, hi] = [Date.parse(tsFrom), Date.parse(tsTo)];
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const day = new Date(Date.parse('2025-03-27T00:00:00Z') + Math.floor(rnd() * 9) * 86_400_000).toISOString().slice(0, 10);
    const at = lo + Math.floor(rnd() * (hi - lo) / 1000) * 1000;
    const wall = Date.parse('2023-05-01T00:00:00Z') + Math.floor(rnd() * 800 * 86_400) * 1000;
    rows.push({
      id: firstId + i,
      d: rnd() < 0.06 ? null : day,
      ts: rnd() < 0.05 ? null : utcText(at, Math.floor(rnd() * 1e6)),
      wall: rnd() < 0.04 ? null : utcText(wall, Math.floor(rnd() * 1e6)),
    });
  }
  return rows;
}

/** Rows on both sides of UTC month and year boundaries: a bucket edge off by one microsecond loses or doubles them. */
function edges(firstId: number): Row[] {
  return [
    { id: firstId, d: '2025-03-31', ts: '2025-02-28 23:59:59.999999', wall: '2024-12-31 23:59:59.999999' },
    { id: firstId + 1, d: '2025-04-01', ts: '2025-03-01 00:00:00.000000', wall: '2025-01-01 00:00:00.000000' },
    { id: firstId + 2, d: null, ts: null, wall: null },
  ];
}

const label = (v: string | null, granularity: 'day' | 'month' | 'year') => (v === null ? null : v.slice(0, { day: 10, month: 7, year: 4 }[granularity]));
const expected = (rows: Row[], pick: (r: Row) => string | null, g: 'day' | 'month' | 'year') => rows.map((r) => `${r.id}|${label(pick(r), g) ?? 'NULL'}`).sort();

/** Every row of the lake with the Hive value of its directory, as DuckDB reads a partitioned dataset. */
async function hiveRows(out: string, column: string): Promise<string[]> {
  const rows = await queryWithDuckDB(
    `SELECT CAST(id AS VARCHAR) || '|' || coalesce(${column}, 'NULL') AS k FROM read_parquet('${out}/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
  );
  return rows.map((r) => String(r.k)).sort();
}



/** Each child prefix is a complete dataset of its own: manifest, _SUCCESS, and `rivet validate` passes. */
async function expectChildrenValid(cfg: string, exportName: string, out: string, dirs: string[]) {
  for (const dir of dirs) {
    expect(existsSync(join(out, dir, '_SUCCESS')), dir).toBe(true);
    expect((await manifestOf(join(out, dir))).status).toBe('success');
    await expectOk(['validate', '-c', cfg, '-e', exportName, '--prefix', join(out, dir)]);
  }
}

const childDirs = async (out: string) => (await readdir(out)).sort();
const dirsFor = (column: string, rows: Row[], pick: (r: Row) => string | null, g: 'day' | 'month' | 'year') => {
  const labels = [...new Set(rows.map((r) => label(pick(r), g)))];
  return labels.map((l) => `${column}=${l ?? '__HIVE_DEFAULT_PARTITION__'}`).sort();
};


describe('partition_by on PostgreSQL', () => {
  let schema: string;
  let rows: Row[];

  async function insertPg(batch: Row[]) {
    await pgExec(`INSERT INTO ${schema}.ev SELECT * FROM unnest($1::bigint[], $2::date[], $3::timestamptz[], $4::timestamp[])`, [
      batch.map((r) => r.id),
      batch.map((r) => r.d),
      batch.map((r) => (r.ts === null ? null : `${r.ts}+00`)),
      batch.map((r) => r.wall),
    ]);
  }

  beforeAll(async () => {
    schema = await freshSchema('e2e_partition');
    await pgExec(`CREATE TABLE ${schema}.ev (id bigint PRIMARY KEY, d date, ts timestamptz, wall timestamp)`);
    rows = [...generate(16, 1, N, '2024-11-20T00:00:00Z', '2026-02-10T00:00:00Z'), ...edges(N + 1)];
    await insertPg(rows);
  }, 60_000);

  afterAll(async () => {
    await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  async function setup(exportYaml: string) {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-partition-'));
    const out = join(dir, 'out');
    const cfg = join(dir, 'rivet.yaml');
    await writeFile(cfg, `source:\n  type: postgres\n  url_env: RIVET_PT_URL\nexports:\n${exportYaml.replaceAll('OUT', out).replaceAll('SCHEMA', schema)}`);
    process.env.RIVET_PT_URL = testPgUrl();
    return { dir, out, cfg };
  }

  it('full, by day of a date column: one prefix per day plus the NULL bucket, every row exactly once', async () => {
    const { out, cfg } = await setup(`  - name: ev
    table: SCHEMA.ev
    format: parquet
    partition_by: d
    destination:
      type: local
      path: "OUT/{partition}"
`);
    const r = await expectOk(['run', '-c', cfg, '--json']);
    const summary = JSON.parse(r.stdout) as { per_export: { export_name: string; status: string; rows: number }[] };
    const wantDirs = dirsFor('d', rows, (x) => x.d, 'day');
    expect(await childDirs(out)).toEqual(wantDirs);
    // The summary shows each child as an export of its own, named <parent>__<day> and <parent>__null.
    expect(summary.per_export.map((e) => e.export_name).sort()).toEqual(wantDirs.map((d) => `ev__${d === 'd=__HIVE_DEFAULT_PARTITION__' ? 'null' : d.slice(2)}`).sort());
    expect(summary.per_export.every((e) => e.status === 'success')).toBe(true);
    expect(summary.per_export.reduce((n, e) => n + e.rows, 0)).toBe(rows.length);
    expect(await hiveRows(out, 'd')).toEqual(expected(rows, (x) => x.d, 'day'));
    await expectChildrenValid(cfg, 'ev', out, wantDirs);

    // One child can be rerun by its name (after a failure, say); it supersedes only its own prefix.
    const before = await manifestOf(join(out, 'd=__HIVE_DEFAULT_PARTITION__'));
    const again = await expectOk(['run', '-c', cfg, '-e', 'ev__null', '--json']);
    expect((JSON.parse(again.stdout) as { per_export: { export_name: string }[] }).per_export.map((e) => e.export_name)).toEqual(['ev__null']);
    const after = await manifestOf(join(out, 'd=__HIVE_DEFAULT_PARTITION__'));
    expect(after.parts.map((p) => p.path)).not.toEqual(before.parts.map((p) => p.path));
    expect(after.row_count).toBe(rows.filter((x) => x.d === null).length);
    expect(await hiveRows(out, 'd')).toEqual(expected(rows, (x) => x.d, 'day'));
    expect((await runCli(['run', '-c', cfg, '-e', 'ev__2025-02-30'])).code).toBe(2);
  });

  it('incremental, by month of a timestamptz (UTC): each child keeps its own cursor; run 2 appends only new rows, a new month gets a new child', async () => {
    const { dir, out, cfg } = await setup(`  - name: evm
    table: SCHEMA.ev
    mode: incremental
    cursor_column: id
    format: parquet
    partition_by: ts
    partition_granularity: month
    destination:
      type: local
      path: "OUT/{partition}"
`);
    await expectOk(['run', '-c', cfg]);
    expect(await hiveRows(out, 'ts')).toEqual(expected(rows, (x) => x.ts, 'month'));
    const feb = rows.filter((x) => label(x.ts, 'month') === '2025-02');
    expect(storedCursor(dir, 'evm__2025-02')).toBe(String(Math.max(...feb.map((x) => x.id))));
    expect(storedCursor(dir, 'evm')).toBeNull();

    // New rows in old months, in a month never seen (2026-03) and with a NULL ts.
    const more = [...generate(17, N + 10, 200, '2025-06-01T00:00:00Z', '2026-03-20T00:00:00Z'), { id: N + 500, d: null, ts: null, wall: null }];
    await insertPg(more);
    const all = [...rows, ...more];
    try {
      await expectOk(['run', '-c', cfg]);
      expect(await hiveRows(out, 'ts')).toEqual(expected(all, (x) => x.ts, 'month'));
      expect(await childDirs(out)).toEqual(dirsFor('ts', all, (x) => x.ts, 'month'));
      // A child with new rows appended a part; one without kept its single part.
      const nullChild = await manifestOf(join(out, 'ts=__HIVE_DEFAULT_PARTITION__'));
      expect(nullChild.parts).toHaveLength(2);
      expect(nullChild.row_count).toBe(all.filter((x) => x.ts === null).length);
      const untouched = await manifestOf(join(out, 'ts=2024-12'));
      expect(untouched.parts).toHaveLength(1);
      await expectChildrenValid(cfg, 'evm', out, await childDirs(out));
    } finally {
      await pgExec(`DELETE FROM ${schema}.ev WHERE id > ${N + 3}`);
    }
  }, 180_000);

  it('chunked, by year of a zone-less timestamp: each child is chunked on its own', async () => {
    const { out, cfg } = await setup(`  - name: evy
    table: SCHEMA.ev
    mode: chunked
    chunk_column: id
    chunk_size: 300
    parallel: 2
    format: parquet
    partition_by: wall
    partition_granularity: year
    destination:
      type: local
      path: "OUT/{partition}"
`);
    await expectOk(['run', '-c', cfg]);
    const dirs = dirsFor('wall', rows, (x) => x.wall, 'year');
    expect(await childDirs(out)).toEqual(dirs);
    expect(await hiveRows(out, 'wall')).toEqual(expected(rows, (x) => x.wall, 'year'));
    const y2024 = await manifestOf(join(out, 'wall=2024'));
    expect(y2024.parts.length).toBeGreaterThan(1);
    await expectChildrenValid(cfg, 'evy', out, dirs);
  });

  it('config errors exit 2 before anything runs: no {partition}, time_window, a column that is not a date', async () => {
    const cases: [string, RegExp][] = [
      [`  - name: e1\n    table: SCHEMA.ev\n    format: parquet\n    partition_by: d\n    destination: { type: local, path: OUT/e1 }\n`, /needs the \{partition\} placeholder/],
      [`  - name: e2\n    table: SCHEMA.ev\n    mode: time_window\n    time_column: ts\n    days_window: 3\n    format: parquet\n    partition_by: d\n    destination: { type: local, path: "OUT/{partition}" }\n`, /cannot be combined with mode: time_window/],
      [`  - name: e3\n    table: SCHEMA.ev\n    format: parquet\n    partition_by: id\n    destination: { type: local, path: "OUT/{partition}" }\n`, /'id' is .*not a date or timestamp/],
    ];
    for (const [yaml, message] of cases) {
      const { out, cfg } = await setup(yaml);
      const r = await runCli(['run', '-c', cfg]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/hint:/);
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('partition_by on MariaDB', () => {
  let db: string;
  let rows: Row[];

  beforeAll(async () => {
    db = await freshDatabase('e2e_partition');
    rows = [...generate(23, 1, N, '2024-11-20T00:00:00Z', '2026-02-10T00:00:00Z'), ...edges(N + 1)];
    const lit = (v: string | null) => (v === null ? 'NULL' : `'${v}'`);
    // TIMESTAMP values are read in the session zone: UTC here, as rivet's sessions are.
    await mysqlExec(
      `SET time_zone = '+00:00';
       CREATE TABLE ev (id BIGINT PRIMARY KEY, d DATE NULL, ts TIMESTAMP(6) NULL DEFAULT NULL, wall DATETIME(6) NULL);
       INSERT INTO ev VALUES ${rows.map((r) => `(${r.id}, ${lit(r.d)}, ${lit(r.ts)}, ${lit(r.wall)})`).join(', ')};`,
      [],
      db,
    );
  }, 60_000);

  afterAll(async () => {
    await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``);
  });

  it('day (DATE), month (TIMESTAMP, UTC) and year (DATETIME): every row exactly once in its bucket, NULLs in their own, each prefix valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-partition-my-'));
    const out = join(dir, 'out');
    const cfg = join(dir, 'rivet.yaml');
    const exp = (name: string, column: string, g: string) =>
      `  - name: ${name}\n    table: ${db}.ev\n    format: parquet\n    partition_by: ${column}\n    partition_granularity: ${g}\n    destination:\n      type: local\n      path: "${out}/${name}/{partition}"\n`;
    await writeFile(cfg, `source:\n  type: mysql\n  url_env: RIVET_PT_MY_URL\nexports:\n${exp('by_day', 'd', 'day')}${exp('by_month', 'ts', 'month')}${exp('by_year', 'wall', 'year')}`);
    process.env.RIVET_PT_MY_URL = testMysqlUrl(db);
    await expectOk(['run', '-c', cfg]);

    const checks: [string, string, (r: Row) => string | null, 'day' | 'month' | 'year'][] = [
      ['by_day', 'd', (x) => x.d, 'day'],
      ['by_month', 'ts', (x) => x.ts, 'month'],
      ['by_year', 'wall', (x) => x.wall, 'year'],
    ];
    for (const [name, column, pick, g] of checks) {
      const base = join(out, name);
      const dirs = dirsFor(column, rows, pick, g);
      expect(await childDirs(base)).toEqual(dirs);
      expect(await hiveRows(base, column)).toEqual(expected(rows, pick, g));
      await expectChildrenValid(cfg, name, base, dirs);
    }
  }, 240_000);
});
