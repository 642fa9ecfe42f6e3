import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log/logger.js';
import { openCatalog } from '../../shared/source/registry.js';
import type { SourceCatalog } from '../../shared/source/source-catalog.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';

/**
 * The read-only catalog seam behind `rivet check` / `rivet init`, on both real engines: the
 * same table, the same questions, answers in the same shape.
 */
const DDL_ROWS = 3000;

describe.each([
  {
    engine: 'postgres' as const,
    setup: async () => {
      const s = await freshSchema('e2e_catalog');
      await pgExec(`CREATE TABLE ${s}.items (id int PRIMARY KEY, sku text NOT NULL, price numeric(10,2), bucket int, note text, created_at timestamptz);
        CREATE INDEX items_bucket_sku ON ${s}.items (bucket, sku);
        CREATE INDEX items_lower_sku ON ${s}.items (lower(sku));
        CREATE VIEW ${s}.v_items AS SELECT id FROM ${s}.items;
        INSERT INTO ${s}.items SELECT g, 's' || g, g / 10.0, g % 7, CASE WHEN g % 2 = 0 THEN NULL ELSE 'x' END, now() FROM generate_series(1, ${DDL_ROWS}) g;
        ANALYZE ${s}.items;`);
      return { schema: s, url: testPgUrl(), cleanup: () => pgExec(`DROP SCHEMA ${s} CASCADE`) };
    },
  },
  {
    engine: 'mysql' as const,
    setup: async () => {
      const db = await freshDatabase('e2e_catalog');
      await mysqlExec(
        `CREATE TABLE items (id int PRIMARY KEY, sku varchar(20) NOT NULL, price decimal(10,2), bucket int, note text, created_at datetime, KEY items_bucket_sku (bucket, sku));
         CREATE VIEW v_items AS SELECT id FROM items;
         INSERT INTO items SELECT seq, CONCAT('s', seq), seq / 10, seq % 7, IF(seq % 2 = 0, NULL, 'x'), NOW() FROM seq_1_to_${DDL_ROWS};
         ANALYZE TABLE items;`,
        [],
        db,
      );
      return { schema: db, url: testMysqlUrl(db), cleanup: () => mysqlExec(`DROP DATABASE \`${db}\``) };
    },
  },
])('$engine catalog', ({ engine, setup }) => {
  let catalog: SourceCatalog;
  let schema: string;
  let cleanup: () => Promise<unknown>;

  beforeAll(async () => {
    const s = await setup();
    schema = s.schema;
    cleanup = s.cleanup;
    catalog = await openCatalog({ connection: { engine, url: s.url }, log: silentLogger, statementTimeoutMs: 5000 });
  });
  afterAll(async () => {
    await catalog?.close();
    await cleanup?.().catch(() => {});
  });

  it('lists tables and views with estimates and sizes', async () => {
    const tables = await catalog.listTables(schema);
    expect(tables.map((t) => [t.name, t.kind])).toEqual([
      ['items', 'table'],
      ['v_items', 'view'],
    ]);
    // Statistics are estimates (InnoDB samples): close, not exact.
    expect(tables[0].rowEstimate).toBeGreaterThan(DDL_ROWS * 0.5);
    expect(tables[0].rowEstimate).toBeLessThan(DDL_ROWS * 1.5);
    expect(tables[0].totalBytes).toBeGreaterThan(0);
    expect(tables[1].totalBytes).toBeUndefined();
  });

  it('describes columns, primary key and index leading columns', async () => {
    const d = await catalog.describeTable(schema, 'items');
    expect(d).not.toBeNull();
    expect(d!.columns.map((c) => c.name)).toEqual(['id', 'sku', 'price', 'bucket', 'note', 'created_at']);
    expect(d!.columns.find((c) => c.name === 'sku')!.nullable).toBe(false);
    expect(d!.columns.find((c) => c.name === 'note')!.nullable).toBe(true);
    expect(d!.columns.find((c) => c.name === 'price')).toMatchObject({ numericPrecision: 10, numericScale: 2 });
    expect(d!.primaryKey).toEqual(['id']);
    const idx = d!.indexes.find((i) => i.name === 'items_bucket_sku');
    expect(idx).toMatchObject({ columns: ['bucket', 'sku'], unique: false, primary: false, ordered: true });
    expect(d!.indexes[0]).toMatchObject({ primary: true, columns: ['id'], unique: true });
    if (engine === 'postgres') {
      // An expression key never passes for the column it mentions.
      expect(d!.indexes.find((i) => i.name === 'items_lower_sku')!.columns).toEqual(['(expression)']);
    }
    expect(await catalog.describeTable(schema, 'nope')).toBeNull();
  });

  it('reads column stats, query ranges, plans and result column types', async () => {
    const s = await catalog.columnStats(schema, 'items', 'id');
    expect(s).toMatchObject({ min: '1', max: String(DDL_ROWS) });
    if (engine === 'postgres') {
      const n = await catalog.columnStats(schema, 'items', 'note');
      expect(n.nullEstimate).toBeGreaterThan(DDL_ROWS * 0.3);
      expect(n.distinctEstimate).toBe(1);
    }
    const q = catalog.dialect.quoteIdent;
    const sql = `SELECT * FROM ${q(schema)}.${q('items')} WHERE bucket = 3`;
    expect(await catalog.queryRange(sql, 'id')).toEqual({ min: '3', max: String(DDL_ROWS - ((DDL_ROWS - 3) % 7)) });
    const plan = await catalog.explain(`SELECT * FROM ${q(schema)}.${q('items')} WHERE id = 5`);
    expect(plan.indexed).toBe(true);
    expect(plan.rows).toBe(1);
    const cols = await catalog.resultColumns(`SELECT id, sku, price FROM ${q(schema)}.${q('items')}`);
    expect(cols.map((c) => c.name)).toEqual(['id', 'sku', 'price']);
    expect(cols[0].nativeType).toMatch(/^(int4|int)$/);
    expect(await catalog.maxConnections()).toBeGreaterThan(0);
    expect(await catalog.defaultSchema()).toBe(engine === 'mysql' ? schema : 'public');
  });

  it('bounds every statement with the timeout', async () => {
    const url = engine === 'postgres' ? testPgUrl() : testMysqlUrl(schema);
    const quick = await openCatalog({ connection: { engine, url }, log: silentLogger, statementTimeoutMs: 300 });
    try {
      const slow = engine === 'postgres' ? "SELECT CAST(pg_sleep(3) AS text) || 'x' AS x" : 'SELECT SLEEP(3) AS x FROM items';
      const t0 = Date.now();
      const r = await quick.queryRange(slow, 'x');
      expect(Date.now() - t0).toBeLessThan(2500);
      if (engine === 'postgres') expect(r).toEqual({ min: null, max: null });
    } finally {
      await quick.close();
    }
  });
});
