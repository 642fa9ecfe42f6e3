import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB } from '../helpers/readers.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { manifestOf, planOf, readParts, type LakeManifest } from '../helpers/lake.js';
import { expectOk } from '../helpers/expect-ok.js';

/**
 * `chunk_by_key` (keyset chunking) and `chunk_size_memory_mb` through the built CLI, on real
 * PostgreSQL and MariaDB. Keys are seeded random text (quotes, backslashes, case, accents,
 * spaces), uuids and sparse integers up to ±2^62; every test reads the parts back with DuckDB
 * and compares them row by row with the source, so a row exported twice or lost fails it.
 */

const SEED = 20261207;
const ALPHABET = ['a', 'b', 'Z', 'é', 'ß', "'", '\\', ' ', '"', '-', '0', '9', '%', '_', '日'];

function randomText(rnd: () => number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}

/** `n` distinct strings (distinct under case- and accent-insensitive collations too: each carries a unique number). */
function distinctTexts(rnd: () => number, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${randomText(rnd, Math.floor(rnd() * 6))}${i}${randomText(rnd, Math.floor(rnd() * 4))}`);
  return out;
}

/** `n` distinct sparse integers in ±2^62, as text. */
function sparseInts(rnd: () => number, n: number): string[] {
  const seen = new Set<string>();
  while (seen.size < n) {
    const mag = rnd() < 0.3 ? BigInt(Math.floor(rnd() * 1000)) : BigInt(Math.floor(rnd() * 2 ** 31)) * BigInt(Math.floor(rnd() * 2 ** 31));
    seen.add(String(rnd() < 0.3 ? -mag : mag));
  }
  return [...seen];
}


async function setup(sourceYaml: string, exportYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-keyset-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, `source:\n${sourceYaml}  tuning: { batch_size: 500, throttle_ms: 0 }\nexports:\n${exportYaml.replaceAll('OUT', out)}`);
  return { dir, out, cfg };
}

/** `k|v` of every exported row (key and value as text), sorted. */
async function exported(out: string, m: LakeManifest): Promise<string[]> {
  const rows = await readParts(out, m, 'CAST(k AS VARCHAR) AS k, v');
  return rows.map((r) => `${String(r.k)}|${String(r.v)}`).sort();
}

const sorted = (pairs: [string, string][]) => pairs.map(([k, v]) => `${k}|${v}`).sort();

/** Each part holds exactly chunk_size rows but the last: boundaries are exact key positions, with no duplicate boundary. */
function expectFullChunks(m: LakeManifest, total: number, size: number): void {
  const rows = m.parts.map((p) => p.rows);
  expect(rows.reduce((a, b) => a + b, 0)).toBe(total);
  expect(rows.slice(0, -1).every((r) => r === size)).toBe(true);
  expect(rows.at(-1)).toBeLessThanOrEqual(size);
  expect(rows.length).toBe(Math.ceil(total / size));
}

describe('chunk_by_key on PostgreSQL (built CLI)', () => {
  let schema: string;
  const rnd = seededRandom(SEED);
  const texts = distinctTexts(rnd, 1234).map((k, i): [string, string] => [k, `t${i}`]);
  const ints = sparseInts(rnd, 777).map((k, i): [string, string] => [k, `i${i}`]);
  const pgSource = `  type: postgres\n  url: ${testPgUrl()}\n`;

  beforeAll(async () => {
    schema = await freshSchema('e2e_keyset');
    await pgExec(`
      CREATE TABLE ${schema}.texts (k text COLLATE "C" PRIMARY KEY, v text NOT NULL);
      CREATE TABLE ${schema}.uuids (k uuid PRIMARY KEY, v text);
      CREATE TABLE ${schema}.ints (k bigint NOT NULL UNIQUE, v text);
      CREATE TABLE ${schema}.nullable (k text UNIQUE, v text);
      INSERT INTO ${schema}.nullable VALUES ('a', '1'), (NULL, '2'), ('b', '3'), (NULL, '4');
      CREATE TABLE ${schema}.dup (k text NOT NULL, v text);
      INSERT INTO ${schema}.dup VALUES ('a', '1'), ('a', '2');
      CREATE TABLE ${schema}.wide (k integer PRIMARY KEY, v text NOT NULL);
      INSERT INTO ${schema}.wide SELECT g, repeat('x', 60 + g % 40) FROM generate_series(1, 25000) g;
      ANALYZE ${schema}.wide;
      CREATE TABLE ${schema}.unanalyzed (k integer PRIMARY KEY, v text NOT NULL) WITH (autovacuum_enabled = false);
      INSERT INTO ${schema}.unanalyzed SELECT g, 'v' || g FROM generate_series(1, 12000) g;`);
    await pgExec(`INSERT INTO ${schema}.texts SELECT * FROM unnest($1::text[], $2::text[])`, [texts.map((t) => t[0]), texts.map((t) => t[1])]);
    await pgExec(`INSERT INTO ${schema}.ints SELECT * FROM unnest($1::bigint[], $2::text[])`, [ints.map((t) => t[0]), ints.map((t) => t[1])]);
    await pgExec(`INSERT INTO ${schema}.uuids SELECT gen_random_uuid(), 'u' || g FROM generate_series(1, 1000) g`);
  });

  it('text keys (quotes, backslashes, accents, mixed case): every row exactly once, chunk_size rows per chunk, 3 at a time', async () => {
    const { out, cfg } = await setup(pgSource, `  - name: texts
    table: ${schema}.texts
    mode: chunked
    chunk_by_key: k
    chunk_size: 100
    parallel: 3
    format: parquet
    destination: { type: local, path: OUT }
`);
    await expectOk(['run', '-c', cfg]);
    const m = await manifestOf(out);
    const plan = await planOf(out, m.run_id);
    expect(plan.parallel).toBe(3);
    expect(plan.taskCount).toBe(13);
    // Chunks are key-range predicates, never LIMIT/OFFSET windows.
    expect(plan.tasks.every((t) => !/OFFSET|LIMIT/i.test(t.sql))).toBe(true);
    expect(plan.tasks[0].sql).toMatch(/WHERE "k" < CAST\(E'.*' AS text\)$/);
    expect(plan.tasks.at(-1)?.sql).toMatch(/WHERE "k" >= CAST\(E'.*' AS text\)$/);
    expectFullChunks(m, texts.length, 100);
    expect(await exported(out, m)).toEqual(sorted(texts));
  });

  it('uuid keys and sparse integers up to ±2^62 export the source exactly', async () => {
    const { out, cfg } = await setup(pgSource, `  - name: uuids
    table: ${schema}.uuids
    mode: chunked
    chunk_by_key: k
    chunk_size: 64
    parallel: 2
    format: parquet
    destination: { type: local, path: OUT/uuids }
  - name: ints
    table: ${schema}.ints
    mode: chunked
    chunk_by_key: k
    chunk_size: 50
    format: csv
    destination: { type: local, path: OUT/ints }
`);
    await expectOk(['run', '-c', cfg]);
    const mu = await manifestOf(join(out, 'uuids'));
    expectFullChunks(mu, 1000, 64);
    const source = await pgExec<{ k: string; v: string }>(`SELECT k::text AS k, v FROM ${schema}.uuids`);
    expect(await exported(join(out, 'uuids'), mu)).toEqual(source.map((s) => `${s.k}|${s.v}`).sort());

    const mi = await manifestOf(join(out, 'ints'));
    expectFullChunks(mi, ints.length, 50);
    const files = mi.parts.map((p) => `'${join(out, 'ints', p.path)}'`).join(', ');
    const rows = await queryWithDuckDB(`SELECT CAST(k AS VARCHAR) AS k, v FROM read_csv([${files}], header = true, columns = {'k': 'HUGEINT', 'v': 'VARCHAR'})`);
    expect(rows.map((x) => `${String(x.k)}|${String(x.v)}`).sort()).toEqual(sorted(ints));
  });

  it('checkpointed: the stored bounds are the half-open key ranges, and reconcile rebuilds the same predicates (all match)', async () => {
    const { dir, out, cfg } = await setup(pgSource, `  - name: texts
    table: ${schema}.texts
    mode: chunked
    chunk_by_key: k
    chunk_size: 500
    chunk_checkpoint: true
    parallel: 2
    format: parquet
    destination: { type: local, path: OUT }
`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(0);
    const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
    const tasks = db.prepare('SELECT chunk_index, start_key, end_key, status FROM chunk_task ORDER BY chunk_index').all() as { start_key: string; end_key: string; status: string }[];
    db.close();
    expect(tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    const keys = texts.map((t) => t[0]).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(tasks.map((t) => [t.start_key, t.end_key])).toEqual([
      ['-inf', JSON.stringify(keys[500])],
      [JSON.stringify(keys[500]), JSON.stringify(keys[1000])],
      [JSON.stringify(keys[1000]), '+inf'],
    ]);
    const rec = await runCli(['reconcile', '-c', cfg, '-e', 'texts', '--format', 'json', '-o', join(dir, 'rec.json')]);
    expect(rec.stderr).not.toMatch(/\n\s+at /);
    const report = JSON.parse(await readFile(join(dir, 'rec.json'), 'utf8')) as { summary: { matches: number; mismatches: number; total_source_rows: number } };
    expect(report.summary).toMatchObject({ matches: 3, mismatches: 0, total_source_rows: texts.length });
    expect(await exported(out, await manifestOf(out))).toEqual(sorted(texts));
  });

  it('rivet plan keeps the key ranges (JSON-quoted bounds) and rivet apply exports exactly them', async () => {
    // url_env: a plan artifact never carries a clear-text password, so apply must find it in the environment.
    const env = { RIVET_KEYSET_PG_URL: testPgUrl() };
    const { dir, out, cfg } = await setup('  type: postgres\n  url_env: RIVET_KEYSET_PG_URL\n', `  - name: texts
    table: ${schema}.texts
    mode: chunked
    chunk_by_key: k
    chunk_size: 400
    format: parquet
    destination: { type: local, path: OUT }
`);
    const file = join(dir, 'plan.json');
    const p = await runCli(['plan', '-c', cfg, '-e', 'texts', '--format', 'json', '-o', file], { env });
    expect(p.code).toBe(0);
    const artifact = JSON.parse(await readFile(file, 'utf8')) as { computed: { chunk_ranges: [string, string][]; chunk_count: number } };
    const keys = texts.map((t) => t[0]).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(artifact.computed.chunk_ranges).toEqual([
      ['-inf', JSON.stringify(keys[400])],
      [JSON.stringify(keys[400]), JSON.stringify(keys[800])],
      [JSON.stringify(keys[800]), JSON.stringify(keys[1200])],
      [JSON.stringify(keys[1200]), '+inf'],
    ]);
    const a = await runCli(['apply', file], { env });
    expect(a.stderr).not.toMatch(/\n\s+at /);
    expect(a.code).toBe(0);
    const m = await manifestOf(out);
    expect(m.parts.map((x) => x.rows)).toEqual([400, 400, 400, texts.length - 1200]);
    expect(await exported(out, m)).toEqual(sorted(texts));
  });

  it('a nullable unique key is refused before anything is written (its NULL rows would match no range); so is a key without a unique constraint', async () => {
    for (const [table, message] of [
      ['nullable', /chunk_by_key 'k' of table .*nullable is unique but nullable: rows whose key is NULL match no key range/],
      ['dup', /chunk_by_key 'k' cannot chunk table .*dup: the key must be one column, NOT NULL, backed by a PRIMARY KEY or UNIQUE constraint/],
    ] as const) {
      const { out, cfg } = await setup(pgSource, `  - name: ${table}
    table: ${schema}.${table}
    mode: chunked
    chunk_by_key: k
    format: parquet
    destination: { type: local, path: OUT }
`);
      const r = await runCli(['run', '-c', cfg]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      await expect(readFile(join(out, 'manifest.json'))).rejects.toThrow();
    }
  });

  it('chunk_by_key with another chunking option, or without table:, is a config error (exit 2)', async () => {
    for (const extra of ['chunk_column: k', 'chunk_dense: true', 'chunk_count: 4']) {
      const { cfg } = await setup(pgSource, `  - name: texts\n    table: ${schema}.texts\n    mode: chunked\n    chunk_by_key: k\n    ${extra}\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
      const r = await runCli(['run', '-c', cfg]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`\`${extra.split(':')[0]}\` and \`chunk_by_key\` are mutually exclusive`);
    }
    const { cfg } = await setup(pgSource, `  - name: q\n    query: SELECT * FROM ${schema}.texts\n    mode: chunked\n    chunk_by_key: k\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('`chunk_by_key` needs the `table:` shortcut');
  });

  it('chunk_size_memory_mb: rows per chunk = budget / the catalog average row size (clamped to ≥ 10 000), replacing chunk_size', async () => {
    const [stat] = await pgExec<{ avg: string }>(`SELECT CEIL(pg_table_size(c.oid) / c.reltuples)::bigint::text AS avg FROM pg_class c WHERE c.oid = '${schema}.wide'::regclass`);
    const avg = Number(stat.avg);
    const size = Math.min(5_000_000, Math.max(10_000, Math.floor((2 * 1024 * 1024) / avg)));
    expect(size).toBeLessThan(25_000);
    const { out, cfg } = await setup(pgSource, `  - name: wide
    table: ${schema}.wide
    mode: chunked
    chunk_by_key: k
    chunk_size: 7
    chunk_size_memory_mb: 2
    format: parquet
    destination: { type: local, path: OUT/wide }
  - name: ranged
    table: ${schema}.unanalyzed
    mode: chunked
    chunk_column: k
    chunk_size_memory_mb: 1
    format: parquet
    destination: { type: local, path: OUT/ranged }
`);
    const r = await expectOk(['run', '-c', cfg], { RIVET_LOG: 'info' });
    expect(r.stderr).toContain(`chunk_size_memory_mb 2 over ${avg} bytes per row of ${schema}.wide → chunk_size ${size}`);
    const mw = await manifestOf(join(out, 'wide'));
    expectFullChunks(mw, 25_000, size);
    const ws = await pgExec<{ k: string; v: string }>(`SELECT k::text AS k, v FROM ${schema}.wide`);
    expect(await exported(join(out, 'wide'), mw)).toEqual(ws.map((s) => `${s.k}|${s.v}`).sort());

    // Never analyzed: no statistics, so 512 bytes per row are assumed (1 MiB → 2048 rows, clamped to 10 000), with a WARN.
    expect(r.stderr).toMatch(/no row-size statistics for .*unanalyzed .*assumes 512 bytes per row/);
    const mr = await manifestOf(join(out, 'ranged'));
    expect(mr.parts.map((p) => p.rows)).toEqual([10_000, 2_000]);
  });
});

describe('chunk_by_key on MariaDB (built CLI)', () => {
  let db: string;
  const rnd = seededRandom(SEED + 1);
  const texts = distinctTexts(rnd, 999).map((k, i): [string, string] => [k, `t${i}`]);
  const ints = sparseInts(rnd, 555).map((k, i): [string, string] => [k, `i${i}`]);
  const source = () => `  type: mysql\n  url: ${testMysqlUrl(db)}\n`;

  beforeAll(async () => {
    db = await freshDatabase('e2e_keyset');
    await mysqlExec(
      `CREATE TABLE texts (k varchar(64) COLLATE utf8mb4_general_ci NOT NULL, v text NOT NULL, UNIQUE KEY uk (k));
       CREATE TABLE ints (k bigint PRIMARY KEY, v text);
       CREATE TABLE nullable (k varchar(10) UNIQUE, v text);
       INSERT INTO nullable VALUES ('a', '1'), (NULL, '2'), ('b', '3');`,
      [],
      db,
    );
    await mysqlExec('INSERT INTO texts (k, v) VALUES ?', [texts], db);
    await mysqlExec('INSERT INTO ints (k, v) VALUES ?', [ints], db);
  });

  it('text keys under a case-insensitive collation and sparse bigint keys: every row exactly once, in parallel', async () => {
    const { out, cfg } = await setup(source(), `  - name: texts
    table: texts
    mode: chunked
    chunk_by_key: k
    chunk_size: 100
    parallel: 3
    format: parquet
    destination: { type: local, path: OUT/texts }
  - name: ints
    table: ints
    mode: chunked
    chunk_by_key: k
    chunk_size: 40
    parallel: 2
    format: parquet
    destination: { type: local, path: OUT/ints }
`);
    await expectOk(['run', '-c', cfg]);
    const mt = await manifestOf(join(out, 'texts'));
    expect((await planOf(join(out, 'texts'), mt.run_id)).tasks.every((t) => !/OFFSET|LIMIT/i.test(t.sql))).toBe(true);
    expectFullChunks(mt, texts.length, 100);
    expect(await exported(join(out, 'texts'), mt)).toEqual(sorted(texts));
    const mi = await manifestOf(join(out, 'ints'));
    expectFullChunks(mi, ints.length, 40);
    expect(await exported(join(out, 'ints'), mi)).toEqual(sorted(ints));
  });

  it('chunk_size_memory_mb reads AVG_ROW_LENGTH from information_schema', async () => {
    await mysqlExec(
      `CREATE TABLE wide (k int PRIMARY KEY, v varchar(300) NOT NULL);
       INSERT INTO wide SELECT seq, REPEAT('x', 100 + seq % 150) FROM seq_1_to_30000;
       ANALYZE TABLE wide;`,
      [],
      db,
    );
    const [stat] = await mysqlExec<{ avg: string }>(`SELECT CAST(AVG_ROW_LENGTH AS CHAR) AS avg FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'wide'`, [], db);
    const size = Math.min(5_000_000, Math.max(10_000, Math.floor((2 * 1024 * 1024) / Number(stat.avg))));
    expect(size).toBeLessThan(30_000);
    const { out, cfg } = await setup(source(), `  - name: wide\n    table: wide\n    mode: chunked\n    chunk_by_key: k\n    chunk_size_memory_mb: 2\n    parallel: 2\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    await expectOk(['run', '-c', cfg]);
    const m = await manifestOf(out);
    expectFullChunks(m, 30_000, size);
    const rows = await mysqlExec<{ k: string; v: string }>('SELECT CAST(k AS CHAR) AS k, v FROM wide', [], db);
    expect(await exported(out, m)).toEqual(rows.map((x) => `${x.k}|${x.v}`).sort());
  });

  it('a nullable unique key is refused with exit 2 and nothing written', async () => {
    const { out, cfg } = await setup(source(), `  - name: nullable\n    table: nullable\n    mode: chunked\n    chunk_by_key: k\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/chunk_by_key 'k' of table nullable is unique but nullable/);
    await expect(readFile(join(out, 'manifest.json'))).rejects.toThrow();
  });
});
