import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { queryWithDuckDB } from '../helpers/readers.js';
import { expectOk } from '../helpers/expect-ok.js';
import { manifestOf, planOf, readParts, type LakeManifest } from '../helpers/lake.js';
import { storedCursor } from '../helpers/stored-cursor.js';

/** Every export mode on MariaDB through the built CLI, checked against the table with DuckDB. */

let db: string;

beforeAll(async () => {
  db = await freshDatabase('e2e_mymodes');
  // Gaps: multiples of 7, 200..260 and 301..400; three NULL keys; one far day.
  await mysqlExec(
    `CREATE TABLE gappy (id BIGINT NULL, val VARCHAR(20), day DATE NULL);
     INSERT INTO gappy SELECT seq, CONCAT('v', seq), DATE_ADD('2024-01-01', INTERVAL seq % 40 DAY) FROM seq_1_to_500
       WHERE seq % 7 <> 0 AND seq NOT BETWEEN 200 AND 260 AND seq NOT BETWEEN 301 AND 400;
     INSERT INTO gappy VALUES (NULL, 'null-a', NULL), (NULL, 'null-b', '2030-06-01'), (NULL, 'null-c', NULL), (490, 'far', '2030-06-01');
     CREATE TABLE sparse (id BIGINT UNSIGNED PRIMARY KEY, val VARCHAR(20));
     INSERT INTO sparse SELECT seq, CONCAT('v', seq) FROM seq_1_to_1000;
     INSERT INTO sparse VALUES (1000000000000, 'far');`,
    [],
    db,
  );
}, 60_000);

afterAll(async () => {
  await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``);
});

async function setup(exportYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-mymodes-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: mysql\n  url: ${testMysqlUrl(db)}\n  tuning: { batch_size: 1000, throttle_ms: 0 }\nexports:\n${exportYaml.replaceAll('OUT', out).replaceAll('DB', db)}`,
  );
  return { dir, out, cfg };
}


async function exported(out: string, m: LakeManifest, cols = 'id, val'): Promise<string[]> {
  const rows = await readParts(out, m, `concat_ws('|', ${cols.split(', ').map((c) => `coalesce(CAST(${c} AS VARCHAR), 'NULL')`).join(', ')}) AS k`);
  return rows.map((r) => String(r.k)).sort();
}

async function sourceRows(sql: string): Promise<string[]> {
  const rows = await mysqlExec<{ k: string }>(sql, [], db);
  return rows.map((r) => r.k).sort();
}



describe('MySQL source: every mode through the built CLI (MariaDB)', () => {
  it('full: the whole table in one part', async () => {
    const { out, cfg } = await setup(`  - name: all\n    table: DB.gappy\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    await expectOk(['run', '-c', cfg]);
    const m = await manifestOf(out);
    expect(m.status).toBe('success');
    expect(m.row_count).toBe(await mysqlExec<{ n: number }>('SELECT COUNT(*) AS n FROM gappy', [], db).then((r) => Number(r[0].n)));
    expect(await exported(out, m)).toEqual(await sourceRows("SELECT CONCAT_WS('|', COALESCE(id, 'NULL'), val) AS k FROM gappy"));
  });

  it('incremental: run 1 takes every row, run 2 only the new ones; the cursor advances and is exact for BIGINT and DATETIME(6)', async () => {
    await mysqlExec(
      `CREATE TABLE orders (id BIGINT PRIMARY KEY, note VARCHAR(20), updated DATETIME(6));
       INSERT INTO orders SELECT seq, CONCAT('n', seq), TIMESTAMPADD(MICROSECOND, seq, '2024-05-01 10:00:00') FROM seq_1_to_40;`,
      [],
      db,
    );
    const { dir, out, cfg } = await setup(
      `  - name: by_id\n    table: DB.orders\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: OUT/id }\n` +
        `  - name: by_time\n    query: "SELECT id, note, updated FROM orders -- trailing comment"\n    mode: incremental\n    cursor_column: updated\n    format: parquet\n    destination: { type: local, path: OUT/time }\n`,
    );
    await expectOk(['run', '-c', cfg]);
    const first = await manifestOf(join(out, 'id'));
    expect(first.cursor).toEqual({ column: 'id', from: null, to: '40' });
    expect(storedCursor(dir, 'by_id')).toBe('40');
    expect(storedCursor(dir, 'by_time')).toBe('2024-05-01 10:00:00.000040');

    // 9007199254740993 = 2^53 + 1: a cursor compared through a double would miss or repeat it.
    await mysqlExec(
      `INSERT INTO orders SELECT seq, CONCAT('n', seq), TIMESTAMPADD(MICROSECOND, seq, '2024-05-01 10:00:00') FROM seq_41_to_55;
       INSERT INTO orders VALUES (9007199254740993, 'big', '2024-05-01 10:00:00.000041');`,
      [],
      db,
    );
    await expectOk(['run', '-c', cfg]);
    const second = await manifestOf(join(out, 'id'));
    expect(second.parts.map((p) => [p.part_id, p.rows])).toEqual([[1, 40], [2, 16]]);
    expect(second.cursor).toEqual({ column: 'id', from: '40', to: '9007199254740993' });
    const time = await manifestOf(join(out, 'time'));
    expect(time.parts.map((p) => p.rows)).toEqual([40, 16]);
    expect(storedCursor(dir, 'by_time')).toBe('2024-05-01 10:00:00.000055');
    const all = await sourceRows("SELECT CONCAT_WS('|', id, note) AS k FROM orders");
    expect(await exported(join(out, 'id'), second, 'id, note')).toEqual(all);
    expect(await exported(join(out, 'time'), time, 'id, note')).toEqual(all);

    // Nothing new: no part, cursor unchanged.
    await expectOk(['run', '-c', cfg]);
    expect((await manifestOf(join(out, 'id'))).parts).toHaveLength(2);
    expect(storedCursor(dir, 'by_id')).toBe('9007199254740993');
  });

  it('chunked: range chunks with a NULL chunk, a sparse key planned from the distribution, days and dense chunks', async () => {
    const { out, cfg } = await setup(`  - name: gappy
    table: DB.gappy
    mode: chunked
    chunk_column: id
    chunk_size: 100
    parallel: 3
    format: parquet
    destination: { type: local, path: OUT/range }
  - name: sparse
    table: DB.sparse
    mode: chunked
    chunk_size: 100
    format: parquet
    destination: { type: local, path: OUT/sparse }
  - name: by_days
    query: SELECT id, val, day FROM gappy
    mode: chunked
    chunk_column: day
    chunk_by_days: 7
    format: parquet
    destination: { type: local, path: OUT/days }
  - name: dense
    query: "SELECT id, val FROM sparse; # trailing comment"
    mode: chunked
    chunk_column: id
    chunk_dense: true
    chunk_size: 300
    format: parquet
    destination: { type: local, path: OUT/dense }
`);
    const r = await expectOk(['run', '-c', cfg], { RIVET_LOG: 'info' });
    const gappy = await sourceRows("SELECT CONCAT_WS('|', COALESCE(id, 'NULL'), val) AS k FROM gappy");
    const sparse = await sourceRows("SELECT CONCAT_WS('|', id, val) AS k FROM sparse");

    const range = await manifestOf(join(out, 'range'));
    const rangePlan = await planOf(join(out, 'range'), range.run_id);
    expect(rangePlan.taskCount).toBe(6);
    expect(rangePlan.tasks.at(-1)?.sql).toMatch(/`id` IS NULL$/);
    expect(rangePlan.tasks[0].sql).toMatch(/WHERE `id` BETWEEN 1 AND 100$/);
    expect(range.part_count).toBe(5);
    expect(await exported(join(out, 'range'), range)).toEqual(gappy);

    expect(r.stderr).toMatch(/`chunk_column` was omitted, so 'id' was picked because it is the one-column integer primary key/);
    expect(r.stderr).toMatch(/is sparse/);
    const sp = await manifestOf(join(out, 'sparse'));
    expect(sp.parts.map((p) => p.rows)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 1]);
    expect(await exported(join(out, 'sparse'), sp)).toEqual(sparse);

    const days = await manifestOf(join(out, 'days'));
    const dayPlan = await planOf(join(out, 'days'), days.run_id);
    expect(dayPlan.taskCount).toBe(7 + 1 + 1);
    expect(dayPlan.tasks[0].sql).toMatch(/`day` >= '\d{4}-\d{2}-\d{2}' AND `day` < '\d{4}-\d{2}-\d{2}'/);
    expect(await exported(join(out, 'days'), days)).toEqual(gappy);

    const dense = await manifestOf(join(out, 'dense'));
    expect(dense.parts.map((p) => p.rows)).toEqual([300, 300, 300, 101]);
    const cols = await queryWithDuckDB(`DESCRIBE SELECT * FROM read_parquet('${join(out, 'dense', dense.parts[0].path)}')`);
    expect(cols.map((c) => c.column_name)).toEqual(['id', 'val']);
    expect(await exported(join(out, 'dense'), dense)).toEqual(sparse);
  });

  it('chunked with chunk_checkpoint: every chunk is recorded completed with its rows and part', async () => {
    const { dir, out, cfg } = await setup(`  - name: ck
    table: DB.sparse
    mode: chunked
    chunk_column: id
    chunk_size: 250
    chunk_checkpoint: true
    format: parquet
    destination: { type: local, path: OUT }
`);
    await expectOk(['run', '-c', cfg]);
    const sqlite = new Database(join(dir, '.rivet_state.db'), { readonly: true });
    const tasks = sqlite.prepare('SELECT start_key, end_key, status, rows_written FROM chunk_task ORDER BY chunk_index').all() as Record<string, unknown>[];
    sqlite.close();
    expect(tasks.map((t) => [t.start_key, t.end_key])).toEqual([['1', '250'], ['251', '500'], ['501', '750'], ['751', '999999999999'], ['1000000000000', '1000000000000']]);
    expect(tasks.every((t) => t.status === 'completed')).toBe(true);
    expect(tasks.map((t) => t.rows_written)).toEqual([250, 250, 250, 250, 1]);
    expect(await exported(out, await manifestOf(out))).toEqual(await sourceRows("SELECT CONCAT_WS('|', id, val) AS k FROM sparse"));
  });

  it('chunk_checkpoint + --resume: a run that failed on one chunk resumes, skipping the done chunks', async () => {
    await mysqlExec('CREATE TABLE ctl (fail BOOL); INSERT INTO ctl VALUES (1); CREATE TABLE t600 (id INT PRIMARY KEY, val VARCHAR(10)); INSERT INTO t600 SELECT seq, CONCAT(\'v\', seq) FROM seq_1_to_600;', [], db);
    // A server-side error on row 350 while ctl.fail is set (SIGNAL is permanent: not retried).
    await mysqlExec(
      "CREATE FUNCTION boom(i INT) RETURNS INT READS SQL DATA BEGIN IF i = 350 AND (SELECT fail FROM ctl) THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom at 350'; END IF; RETURN 0; END",
      [],
      db,
    );
    const { dir, out, cfg } = await setup(`  - name: t
    query: SELECT id, val, boom(id) AS b FROM t600
    mode: chunked
    chunk_column: id
    chunk_size: 100
    chunk_checkpoint: true
    chunk_max_attempts: 2
    format: parquet
    destination: { type: local, path: OUT }
`);
    const first = await runCli(['run', '-c', cfg]);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/boom at 350/);
    expect(first.stderr).toMatch(/--resume/);
    const tasks = () => {
      const sqlite = new Database(join(dir, '.rivet_state.db'), { readonly: true });
      try {
        return (sqlite.prepare('SELECT status, attempts FROM chunk_task ORDER BY chunk_index').all() as { status: string; attempts: number }[]).map((t) => [t.status, t.attempts]);
      } finally {
        sqlite.close();
      }
    };
    expect(tasks()).toEqual([['completed', 1], ['completed', 1], ['completed', 1], ['failed', 1], ['pending', 0], ['pending', 0]]);

    await mysqlExec('UPDATE ctl SET fail = 0', [], db);
    const resumed = await runCli(['run', '-c', cfg, '--resume'], { env: { RIVET_LOG: 'info' } });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/3 chunk\(s\) skipped, 3 to rewrite/);
    expect(tasks().every(([status]) => status === 'completed')).toBe(true);
    const m = await manifestOf(out);
    expect(m.status).toBe('success');
    expect(m.row_count).toBe(600);
    expect(await exported(out, m)).toEqual(await sourceRows("SELECT CONCAT_WS('|', id, val) AS k FROM t600"));
  });

  it('time_window: DATETIME by wall clock, TIMESTAMP in UTC, unix seconds; cut at UTC midnight days_window days ago', async () => {
    const now = Date.now();
    const day = 86_400_000;
    const midnight = Math.floor(now / day) * day;
    const cutoff = midnight - 3 * day;
    const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    // Just before and just after the cutoff, plus older and newer rows.
    const points = [cutoff - 1, cutoff, cutoff + 1000, cutoff - 10 * day, now - 1000];
    await mysqlExec(
      `SET time_zone = '+09:00';
       CREATE TABLE readings (id INT, wall DATETIME(3), ts TIMESTAMP(3) NULL, epoch BIGINT);
       INSERT INTO readings VALUES ${points
         .map((p, i) => `(${i + 1}, '${fmt(p)}', CONVERT_TZ('${fmt(p)}', '+00:00', '+09:00'), ${Math.floor(p / 1000)})`)
         .join(', ')};`,
      [],
      db,
    );
    const expectedIds = points.map((p, i) => (p >= cutoff ? String(i + 1) : null)).filter((x) => x !== null).sort();
    for (const [column, type] of [['wall', 'timestamp'], ['ts', 'timestamp'], ['epoch', 'unix']] as const) {
      const { out, cfg } = await setup(
        `  - name: recent\n    table: DB.readings\n    mode: time_window\n    time_column: ${column}\n    time_column_type: ${type}\n    days_window: 3\n    format: parquet\n    destination: { type: local, path: OUT }\n`,
      );
      await expectOk(['run', '-c', cfg]);
      const m = await manifestOf(out);
      const ids = (await exported(out, m, 'id')).sort();
      expect(ids, `${column} (${type})`).toEqual(expectedIds);
    }
  });
});
