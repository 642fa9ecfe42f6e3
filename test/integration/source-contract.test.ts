import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log/logger.js';
import { probeRows } from '../../shared/run/source-probe.js';
import { openSource } from '../../shared/source/registry.js';
import type { Source } from '../../shared/source/source.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { collect } from './postgres/arrow-values.js';

/**
 * The Source/SqlDialect contract, checked the same way against every engine that runs here
 * (PostgreSQL and MariaDB): what the export modes rely on, through the engine's own SQL.
 * Each engine gets `contract_t` with ids 1..1000, every 10th `day` NULL, and a column whose
 * name needs quoting.
 */
interface Engine {
  name: string;
  setup(): Promise<{ table: string; open: () => Promise<Source>; cleanup: () => Promise<void> }>;
}

const ENGINES: Engine[] = [
  {
    name: 'postgres',
    async setup() {
      const schema = await freshSchema('contract');
      await pgExec(`CREATE TABLE ${schema}.contract_t (id bigint PRIMARY KEY, label varchar(20), day date, "we""ir\`d" int);
        INSERT INTO ${schema}.contract_t SELECT g, 'l' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE date '2024-01-01' + (g % 30) END, g FROM generate_series(1, 1000) g`);
      return {
        table: `${schema}.contract_t`,
        open: () => openSource({ connection: { engine: 'postgres', url: testPgUrl() }, log: silentLogger }),
        cleanup: async () => void (await pgExec(`DROP SCHEMA ${schema} CASCADE`)),
      };
    },
  },
  {
    name: 'mysql (MariaDB)',
    async setup() {
      const db = await freshDatabase('contract');
      await mysqlExec(
        `CREATE TABLE contract_t (id BIGINT PRIMARY KEY, label VARCHAR(20), day DATE NULL, \`we"ir\`\`d\` INT);
         INSERT INTO contract_t SELECT seq, CONCAT('l', seq), IF(seq % 10 = 0, NULL, DATE_ADD('2024-01-01', INTERVAL seq % 30 DAY)), seq FROM seq_1_to_1000`,
        [],
        db,
      );
      return {
        table: `${db}.contract_t`,
        open: () => openSource({ connection: { engine: 'mysql', url: testMysqlUrl(db) }, log: silentLogger }),
        cleanup: async () => void (await mysqlExec(`DROP DATABASE \`${db}\``)),
      };
    },
  },
];

for (const engine of ENGINES) {
  describe(`Source contract: ${engine.name}`, () => {
    let source: Source;
    let table: string;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const s = await engine.setup();
      table = s.table;
      cleanup = s.cleanup;
      source = await s.open();
    });
    afterAll(async () => {
      await source?.close();
      await cleanup?.();
    });

    const base = () => `SELECT * FROM ${table}; -- trailing comment`;

    it('exposes a dialect for its own engine; quoteIdent survives quote characters', async () => {
      expect(source.dialect.engine).toBe(source.engine);
      const weird = source.quoteIdent('we"ir`d');
      const [b] = await collect(source.read(`SELECT ${weird} FROM ${table} WHERE id = 7`, { batchSize: 10 }));
      expect(b.schema.fields[0].name).toBe('we"ir`d');
      expect(Number(b.getChildAt(0)?.get(0))).toBe(7);
    });

    it('describe names the columns with native types; read batches never exceed batchSize', async () => {
      const schema = await source.describe(base());
      expect(schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
        ['id', 'Int64'],
        ['label', 'Utf8'],
        ['day', 'Date32<DAY>'],
        ['we"ir`d', 'Int32'],
      ]);
      expect(schema.fields.every((f) => f.metadata.has('rivet.native_type') && f.metadata.has('rivet.fidelity'))).toBe(true);
      const batches = await collect(source.read(`SELECT id FROM ${table} ORDER BY id`, { batchSize: 300 }));
      expect(batches.map((b) => b.numRows)).toEqual([300, 300, 300, 100]);
      expect(await source.tableExists(table)).toBe(true);
      expect(await source.tableExists(`${table}_missing`)).toBe(false);
    });

    it('count, key stats and the chunk predicates cover every row exactly once', async () => {
      const d = source.dialect;
      expect(await probeRows(source, d.countSql(base()))).toEqual([['1000']]);
      const col = d.quoteIdent('id');
      expect(await probeRows(source, d.keyStatsSql(base(), col))).toEqual([['1', '1000', '1000', '1000']]);
      let total = 0;
      for (const [start, end] of [[1n, 333n], [334n, 666n], [667n, 1000n]] as const) {
        const n = await collect(source.read(d.chunkSql({ baseSql: base(), column: col }, { kind: 'range', start, end }), { batchSize: 1000 }));
        total += n.reduce((s, b) => s + b.numRows, 0);
      }
      expect(total).toBe(1000);
      const starts = await probeRows(source, d.sparseStartsSql(base(), col, 300n));
      expect(starts).toEqual([['1'], ['301'], ['601'], ['901']]);

      const dayCol = d.quoteIdent('day');
      const [stats] = await probeRows(source, d.dayStatsSql(base(), dayCol));
      expect(stats[0]?.slice(0, 10)).toBe('2024-01-02');
      expect(stats.slice(1)).toEqual(['1000', '900']);
      const buckets = (await probeRows(source, d.dayBucketsSql(base(), dayCol, 7))).map((r) => Number(r[0]));
      expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
      expect(buckets[0]).toBe(Math.floor(19724 / 7)); // 2024-01-02 is day 19724
      const nulls = await collect(source.read(d.chunkSql({ baseSql: base(), column: dayCol }, { kind: 'null' }), { batchSize: 1000 }));
      expect(nulls.reduce((s, b) => s + b.numRows, 0)).toBe(100);
      const dense = await collect(
        source.read(d.chunkSql({ baseSql: base(), column: col, columns: ['id', 'label'].map((c) => d.quoteIdent(c)) }, { kind: 'dense', start: 11n, end: 20n }), { batchSize: 100 }),
      );
      expect(dense[0].schema.fields.map((f) => f.name)).toEqual(['id', 'label']);
      expect(dense[0].numRows).toBe(10);
    });

    it('incremental SQL: cursor type, typed literal, upper bound and window', async () => {
      const d = source.dialect;
      const c = d.cursorSql(base(), 'id');
      const type = await d.cursorType(c, { rows: (q) => probeRows(source, q), describe: (q) => source.describe(q) });
      const lower = d.typedLiteral('500', type);
      expect(await probeRows(source, d.upperBoundSql(c, lower))).toEqual([['1000']]);
      expect(await probeRows(source, d.upperBoundSql(c, d.typedLiteral('1000', type)))).toEqual([]);
      const rows = await collect(source.read(d.windowSql(c, lower, d.typedLiteral('750', type)), { batchSize: 1000 }));
      expect(rows[0].numRows).toBe(250);
      expect(Number(rows[0].getChildAt(0)?.get(0))).toBe(501);

      const dc = d.cursorSql(base(), 'day');
      expect(await probeRows(source, d.nullCursorCountSql(dc))).toEqual([['100']]);
      const dayType = await d.cursorType(dc, { rows: (q) => probeRows(source, q), describe: (q) => source.describe(q) });
      const [[hi]] = await probeRows(source, d.upperBoundSql(dc, d.typedLiteral('2024-01-29', dayType)));
      expect(hi).toBe('2024-01-30');
    });
  });
}
