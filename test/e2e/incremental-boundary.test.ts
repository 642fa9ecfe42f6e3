import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { queryWithDuckDB } from '../helpers/readers.js';
import { seededRandom } from '../helpers/seeded-random.js';

/**
 * Issue 15: rows at the stored cursor are neither lost nor exported twice. Seeded random
 * interleavings of inserts and runs of the built CLI — rows tying the cursor a run stopped
 * at, rows committed late inside `cursor_lookback`, and transactions that commit after a
 * newer row was exported — on PostgreSQL and MariaDB, with timestamp, integer and text
 * cursors. After every run the dataset the manifest lists (read back by DuckDB) must be
 * exactly the committed rows the runs could have seen: each id once, none missing.
 */

interface OpenTx {
  insert(rows: Row[]): Promise<void>;
  commit(): Promise<void>;
}

interface Engine {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  sourceYaml(): string;
  table(name: string): string;
  createTable(name: string, cursorType: string, key: boolean): Promise<void>;
  insert(table: string, rows: Row[]): Promise<void>;
  ids(table: string): Promise<number[]>;
  begin(table: string): Promise<OpenTx>;
}

interface Row {
  id: number;
  cursor: string;
}

const insertSql = (table: string, rows: Row[]) =>
  `INSERT INTO ${table} (id, c, note) VALUES ${rows.map((r) => `(${r.id}, '${r.cursor}', 'n${r.id}')`).join(', ')}`;

function postgres(): Engine {
  let schema = '';
  return {
    name: 'PostgreSQL',
    async setup() {
      schema = await freshSchema('e2e_bound');
    },
    async teardown() {
      await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
    sourceYaml: () => `source:\n  type: postgres\n  url: ${testPgUrl()}\n`,
    table: (name) => `${schema}.${name}`,
    async createTable(name, cursorType, key) {
      await pgExec(`CREATE TABLE ${schema}.${name} (id bigint ${key ? 'PRIMARY KEY' : 'NOT NULL'}, c ${cursorType} NOT NULL, note text)`);
    },
    async insert(table, rows) {
      if (rows.length) await pgExec(insertSql(table, rows));
    },
    async ids(table) {
      return (await pgExec<{ id: string }>(`SELECT id FROM ${table}`)).map((r) => Number(r.id));
    },
    async begin(table) {
      const client = new pg.Client({ connectionString: testPgUrl() });
      await client.connect();
      await client.query('BEGIN');
      return {
        insert: async (rows) => void (await client.query(insertSql(table, rows))),
        commit: async () => {
          await client.query('COMMIT');
          await client.end();
        },
      };
    },
  };
}

function mariadb(): Engine {
  let db = '';
  return {
    name: 'MariaDB',
    async setup() {
      db = await freshDatabase('e2e_bound');
    },
    async teardown() {
      await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``);
    },
    sourceYaml: () => `source:\n  type: mysql\n  url: ${testMysqlUrl(db)}\n`,
    table: (name) => `\`${db}\`.${name}`,
    async createTable(name, cursorType, key) {
      await mysqlExec(`CREATE TABLE ${name} (id BIGINT NOT NULL${key ? ' PRIMARY KEY' : ''}, c ${cursorType} NOT NULL, note VARCHAR(40)) ENGINE=InnoDB`, [], db);
    },
    async insert(table, rows) {
      if (rows.length) await mysqlExec(insertSql(table, rows));
    },
    async ids(table) {
      return (await mysqlExec<{ id: string | number }>(`SELECT id FROM ${table}`)).map((r) => Number(r.id));
    },
    async begin(table) {
      const conn = await mysql.createConnection({ uri: testMysqlUrl(db) });
      await conn.query('START TRANSACTION');
      return {
        insert: async (rows) => void (await conn.query(insertSql(table, rows))),
        commit: async () => {
          await conn.commit();
          await conn.end();
        },
      };
    },
  };
}

/** A cursor kind: how the k-th cursor value is written, its column type per engine, and the look-back in steps. */
interface CursorKind {
  name: string;
  type: { PostgreSQL: string; MariaDB: string };
  value(k: number): string;
  /** `cursor_lookback` in the config and how many steps of k it spans (0 = none: only ties re-read). */
  lookback: { yaml: string; steps: number } | null;
}

const BASE = Date.UTC(2026, 0, 1);
const KINDS: CursorKind[] = [
  {
    name: 'timestamp',
    type: { PostgreSQL: 'timestamptz', MariaDB: 'DATETIME(6)' },
    value: (k) => new Date(BASE + k * 1000).toISOString().replace('T', ' ').replace('Z', ''),
    lookback: { yaml: '5s', steps: 5 },
  },
  { name: 'integer', type: { PostgreSQL: 'integer', MariaDB: 'INT' }, value: (k) => String(k), lookback: { yaml: '4', steps: 4 } },
  { name: 'text', type: { PostgreSQL: 'text', MariaDB: 'VARCHAR(20)' }, value: (k) => `v${String(k).padStart(6, '0')}`, lookback: null },
];

async function datasetIds(out: string): Promise<number[]> {
  const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { status: string; parts: { path: string }[] };
  expect(m.status).toBe('success');
  if (m.parts.length === 0) return [];
  const files = m.parts.map((p) => `'${join(out, p.path)}'`).join(', ');
  return (await queryWithDuckDB(`SELECT id FROM read_parquet([${files}])`)).map((r) => Number(r.id));
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

for (const engine of [postgres(), mariadb()]) {
  describe(`incremental boundary on ${engine.name} (built CLI): every row exactly once`, () => {
    beforeAll(() => engine.setup(), 60_000);
    afterAll(() => engine.teardown());

    for (const kind of KINDS) {
      // The text cursor goes through `query:` (no key known: whole-row identities); the others use the table's primary key.
      const byQuery = kind.name === 'text';
      it(`${kind.name} cursor${kind.lookback ? `, cursor_lookback ${kind.lookback.yaml}` : ''}${byQuery ? ', row identity' : ', primary key'}: seeded interleavings of ties, late rows and late-committing transactions`, async () => {
        const seed = 1500 + KINDS.indexOf(kind) * 7 + (engine.name === 'MariaDB' ? 100 : 0);
        const rnd = seededRandom(seed);
        const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
        const name = `ev_${kind.name}`;
        const table = engine.table(name);
        await engine.createTable(name, kind.type[engine.name as 'PostgreSQL' | 'MariaDB'], !byQuery);

        const dir = await mkdtemp(join(tmpdir(), 'rivet-bound-'));
        const out = join(dir, 'out');
        const cfg = join(dir, 'rivet.yaml');
        await writeFile(
          cfg,
          engine.sourceYaml() +
            `exports:\n  - name: ev\n    ${byQuery ? `query: "SELECT * FROM ${table}"` : `table: ${table.replaceAll('`', '')}`}\n    mode: incremental\n    cursor_column: c\n` +
            (kind.lookback ? `    cursor_lookback: ${kind.lookback.yaml}\n` : '') +
            `    format: parquet\n    destination: { type: local, path: ${out} }\n`,
        );

        let nextId = 1;
        let maxK = 10;
        const row = (k: number): Row => ({ id: nextId++, cursor: kind.value(Math.max(0, k)) });
        const commit = async (rows: Row[], ks: number[]) => {
          await engine.insert(table, rows);
          maxK = Math.max(maxK, ...ks);
        };
        const reach = kind.lookback?.steps ?? 0;
        let lateCommitted = 0;

        const firstKs = Array.from({ length: 6 }, () => int(0, maxK));
        await commit(firstKs.map(row), firstKs);
        for (let step = 0; step < 9; step++) {
          // Rows tying the highest cursor so far (where the last run stopped), rows inside the
          // look-back, and new rows, several sharing one value.
          const ks: number[] = [];
          for (let n = int(0, 3); n > 0; n--) ks.push(maxK);
          for (let n = reach ? int(0, 3) : 0; n > 0; n--) ks.push(maxK - int(0, reach));
          const top = maxK + int(0, 3);
          for (let n = int(0, 5); n > 0; n--) ks.push(int(maxK, top));
          await commit(ks.map(row), ks);

          // A transaction holding a row that the next run will have passed by the time it commits:
          // a newer row commits meanwhile and is exported first.
          let tx: OpenTx | null = null;
          if (rnd() < 0.5) {
            const newK = maxK + 1;
            tx = await engine.begin(table);
            await tx.insert([row(newK - (reach ? int(0, reach - 1) : 0))]);
            await commit([row(newK)], [newK]);
          }

          const visible = sorted(await engine.ids(table));
          const r = await runCli(['run', '-c', cfg]);
          expect(r.code, r.stderr).toBe(0);
          expect(r.stderr).not.toMatch(/cursor boundary/);
          // Exactly the rows committed when the run started: none twice, none missing.
          expect(sorted(await datasetIds(out)), `seed ${seed} step ${step}`).toEqual(visible);

          // It commits now, behind the cursor this run stored: the next run must still export it.
          if (tx) {
            await tx.commit();
            lateCommitted++;
          }
        }
        // Two more runs: the first catches what committed last, the second must add nothing.
        for (let i = 0; i < 2; i++) {
          const r = await runCli(['run', '-c', cfg]);
          expect(r.code, r.stderr).toBe(0);
          expect(sorted(await datasetIds(out)), `seed ${seed} final run ${i}`).toEqual(sorted(await engine.ids(table)));
        }
        expect(lateCommitted, `seed ${seed}: the interleaving should include late-committing transactions`).toBeGreaterThan(0);
      }, 240_000);
    }
  });
}
