import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { countWithDuckDB, queryWithDuckDB } from '../helpers/readers.js';

/**
 * Tuning keys that act while a run reads (docs/reference/config.md and §7): `max_batch_memory_mb` with
 * `on_batch_memory_exceeded` (warn / fail / auto_shrink), and `adaptive` + `min_parallel`.
 * Observed through the log, never through timing.
 */
let dir: string;
let pgSchema: string;
let myDb: string;
const ROWS = 4000;
/** ~4 KB of text per row: a 500-row first batch holds about 2 MB. */
const WIDTH = 4000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-tuning-'));
  pgSchema = await freshSchema('e2e_tuning');
  await pgExec(`CREATE TABLE ${pgSchema}.wide (id int PRIMARY KEY, body text);
    INSERT INTO ${pgSchema}.wide SELECT g, repeat(chr(97 + g % 26), ${WIDTH}) FROM generate_series(1, ${ROWS}) g;
    CREATE TABLE ${pgSchema}.slow (id int PRIMARY KEY, v int);
    INSERT INTO ${pgSchema}.slow SELECT g, g FROM generate_series(1, 400) g;
    CREATE TABLE ${pgSchema}.narrow (id int PRIMARY KEY, v int);
    INSERT INTO ${pgSchema}.narrow SELECT g, g FROM generate_series(1, 40000) g;`);
  myDb = await freshDatabase('e2e_tuning');
  await mysqlExec(`CREATE TABLE wide (id int PRIMARY KEY, body text)`, [], myDb);
  await mysqlExec(`INSERT INTO wide SELECT seq, REPEAT(CHAR(97 + seq % 26), ${WIDTH}) FROM seq_1_to_${ROWS}`, [], myDb);
  await mysqlExec(`CREATE TABLE slow (id int PRIMARY KEY, v int)`, [], myDb);
  await mysqlExec(`INSERT INTO slow SELECT seq, seq FROM seq_1_to_400`, [], myDb);
});

type Engine = 'postgres' | 'mysql';

async function config(name: string, engine: Engine, body: string): Promise<{ cfg: string; prefix: string }> {
  const prefix = join(dir, name);
  const cfg = join(dir, `${name}.yaml`);
  const url = engine === 'postgres' ? testPgUrl() : testMysqlUrl(myDb);
  await writeFile(
    cfg,
    `source:\n  type: ${engine}\n  url: "${url}"\n  tls: { mode: disable }\nexports:\n  - name: ${name}\n${body}    destination: { type: local, path: "${prefix}" }\n`,
  );
  return { cfg, prefix };
}

function wide(engine: Engine, policy: string): string {
  const table = engine === 'postgres' ? `${pgSchema}.wide` : 'wide';
  return `    query: "SELECT id, body FROM ${table} ORDER BY id"\n    format: parquet\n    tuning: { batch_size: 1000, max_batch_memory_mb: 1, on_batch_memory_exceeded: ${policy} }\n`;
}

const lines = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l));

describe('max_batch_memory_mb and on_batch_memory_exceeded (built CLI)', () => {
  for (const engine of ['postgres', 'mysql'] as const) {
    it(`${engine}: fail stops the run with BATCH_MEMORY_EXCEEDED, its facts and a hint; nothing is committed`, async () => {
      const { cfg, prefix } = await config(`fail_${engine}`, engine, wide(engine, 'fail'));
      const r = await runCli(['run', '-c', cfg]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/a batch of \d+ rows holds \d+\.\d MB of Arrow memory, over max_batch_memory_mb 1 MB/);
      expect(r.stderr).toMatch(/lower tuning\.batch_size to about \d+, or set tuning\.on_batch_memory_exceeded: auto_shrink/);
      expect(existsSync(join(prefix, '_SUCCESS'))).toBe(false);
    });

    it(`${engine}: warn exports everything and warns for each batch over the cap; auto_shrink splits the batch and shrinks the next ones, so it warns only while it adjusts`, async () => {
      const warned = await config(`warn_${engine}`, engine, wide(engine, 'warn'));
      const w = await runCli(['run', '-c', warned.cfg]);
      expect(w.code, w.stderr).toBe(0);
      const overWarn = lines(w.stderr, /over max_batch_memory_mb 1 MB; a batch_size of about \d+ would fit/);
      // Every batch of 1000 wide rows is over the cap: at least the 3 full ones after the probe.
      expect(overWarn.length).toBeGreaterThanOrEqual(4);
      expect(await countWithDuckDB(join(warned.prefix, 'part-*.parquet'))).toBe(ROWS);

      const shrunk = await config(`shrink_${engine}`, engine, wide(engine, 'auto_shrink'));
      const s = await runCli(['run', '-c', shrunk.cfg]);
      expect(s.code, s.stderr).toBe(0);
      const shrinkWarn = lines(s.stderr, /it is written in halves that fit, and later batches take at most (\d+) rows \(auto_shrink\)/);
      expect(shrinkWarn.length).toBeGreaterThanOrEqual(1);
      expect(shrinkWarn.length).toBeLessThan(overWarn.length);
      const ceiling = Number(/at most (\d+) rows/.exec(shrinkWarn.at(-1)!)![1]);
      expect(ceiling).toBeLessThan(500);
      // Every row once, in order, with its text intact.
      const [row] = await queryWithDuckDB(
        `SELECT count(*) AS n, count(DISTINCT id) AS ids, min(length(body)) AS minlen, max(length(body)) AS maxlen FROM read_parquet('${join(shrunk.prefix, 'part-*.parquet')}')`,
      );
      expect(row).toEqual({ n: BigInt(ROWS), ids: BigInt(ROWS), minlen: BigInt(WIDTH), maxlen: BigInt(WIDTH) });
    });
  }
});

/** Raise the engine's pressure counter over and over until `stop` resolves. */
async function pressure(engine: Engine, stop: Promise<unknown>): Promise<void> {
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    if (engine === 'postgres') await pgExec('CHECKPOINT');
    else await mysqlExec("SELECT COUNT(*) FROM (SELECT REPEAT('a', 70000) AS t UNION ALL SELECT 'b') x GROUP BY t", [], myDb);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('adaptive parallelism (built CLI)', () => {
  for (const engine of ['postgres', 'mysql'] as const) {
    it(`${engine}: rising source pressure lowers the parallelism step by step, never below min_parallel; every row is exported once`, async () => {
      const table = engine === 'postgres' ? `${pgSchema}.slow` : 'slow';
      // Each chunk query sleeps ~0.4 s once (an uncorrelated subquery, a derived table on MariaDB), so the run lasts long enough to be governed.
      const query =
        engine === 'postgres' ? `SELECT id, v FROM ${table} WHERE (SELECT pg_sleep(0.4)::text) IS NOT NULL` : `SELECT id, v FROM ${table}, (SELECT SLEEP(0.4) AS z) AS s`;
      const { cfg, prefix } = await config(
        `adaptive_${engine}`,
        engine,
        `    query: "${query}"\n    mode: chunked\n    chunk_column: id\n    chunk_size: 20\n    parallel: 4\n    format: parquet\n    tuning: { adaptive: true, min_parallel: 2 }\n`,
      );
      const run = runCli(['run', '-c', cfg], { env: { RIVET_LOG: 'info', RIVET_GOVERNOR_INTERVAL_MS: '150' } });
      await pressure(engine, run);
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      const changes = lines(r.stderr, /parallelism \d+ → \d+: /);
      const down = changes.filter((l) => l.includes('source pressure rose, backing off'));
      expect(down.length, r.stderr).toBeGreaterThanOrEqual(2);
      expect(changes.some((l) => /parallelism 4 → 3: source pressure rose/.test(l))).toBe(true);
      expect(changes.some((l) => /parallelism 3 → 2: source pressure rose/.test(l))).toBe(true);
      expect(changes.some((l) => /→ 1:/.test(l))).toBe(false);
      expect(await countWithDuckDB(join(prefix, 'part-*.parquet'))).toBe(400);
      // The same changes are in the run's journal (ParallelismAdjusted), in order.
      const j = await runCli(['journal', '-c', cfg, '-e', `adaptive_${engine}`, '--last', '1']);
      expect(j.code).toBe(0);
      const journaled = lines(j.stdout, /^\s+parallelism: \d+ → \d+ \(/).map((l) => l.trim());
      expect(journaled).toEqual(changes.map((l) => /parallelism (\d+ → \d+): (.*)$/.exec(l)!).map((m) => `parallelism: ${m[1]} (${m[2]})`));
      expect((await readdir(prefix)).filter((f) => f.startsWith('part-')).length).toBe(20);
    });
  }

  it('postgres: adaptive batch sizing shrinks batches to 3/4 while the source pressure rises (sampled every 10 batches), never below 500 rows', async () => {
    const { cfg, prefix } = await config(
      'adaptive_batches',
      'postgres',
      `    query: "SELECT id, v FROM ${pgSchema}.narrow ORDER BY id"\n    format: parquet\n    tuning: { batch_size: 1000, throttle_ms: 25, adaptive: true }\n`,
    );
    const run = runCli(['run', '-c', cfg], { env: { RIVET_LOG: 'info' } });
    await pressure('postgres', run);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const changes = lines(r.stderr, /adaptive batch size \d+ → \d+ rows/);
    expect(changes.some((l) => l.includes('adaptive batch size 1000 → 750 rows: source pressure rose, backing off')), r.stderr).toBe(true);
    for (const l of changes) expect(Number(/→ (\d+) rows/.exec(l)![1])).toBeGreaterThanOrEqual(500);
    expect(await countWithDuckDB(join(prefix, 'part-*.parquet'))).toBe(40000);
  });

  it('without adaptive the parallelism never changes, under the same pressure', async () => {
    const { cfg } = await config(
      'static_pg',
      'postgres',
      `    query: "SELECT id, v FROM ${pgSchema}.slow WHERE (SELECT pg_sleep(0.4)::text) IS NOT NULL"\n    mode: chunked\n    chunk_column: id\n    chunk_size: 100\n    parallel: 4\n    format: parquet\n`,
    );
    const run = runCli(['run', '-c', cfg], { env: { RIVET_LOG: 'info', RIVET_GOVERNOR_INTERVAL_MS: '150' } });
    await pressure('postgres', run);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stderr, /parallelism \d+ → \d+/)).toEqual([]);
  });
});
