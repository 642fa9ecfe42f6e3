import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { countWithDuckDB } from '../helpers/readers.js';

/**
 * `rivet init` and `rivet check` against the MariaDB test server: a database-wide scaffold
 * that runs and validates as is, the --discover scope, and the type report's --strict verdict.
 */
let db: string;
let dir: string;
let url: string;

beforeAll(async () => {
  db = await freshDatabase('e2e_init_my');
  url = testMysqlUrl(db);
  await mysqlExec(
    `CREATE TABLE orders (id bigint PRIMARY KEY AUTO_INCREMENT, customer_id int NOT NULL, amount decimal(12,2), created_at datetime NOT NULL, note varchar(20));
     INSERT INTO orders (customer_id, amount, created_at, note) SELECT seq % 10, seq / 100, '2026-01-01 00:00:00' + INTERVAL seq SECOND, 'n' FROM seq_1_to_150000;
     CREATE TABLE shapes (id int PRIMARY KEY, g geometry);
     CREATE VIEW v_notes AS SELECT id, note FROM orders;
     ANALYZE TABLE orders;`,
    [],
    db,
  );
  dir = await mkdtemp(join(tmpdir(), 'rivet-init-my-'));
});

afterAll(async () => {
  await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => {});
});

describe('rivet init / check (MariaDB)', () => {
  it('scaffolds the URL database, and the scaffold runs and validates as is', async () => {
    const out = join(dir, 'rivet.yaml');
    const gen = await runCli(['init', '--source-env', 'MY_URL', '-o', out], { env: { MY_URL: url }, cwd: dir });
    expect(gen.code, gen.stderr).toBe(0);
    const text = await readFile(out, 'utf8');
    const doc = parse(text);
    expect(doc.source).toEqual({ type: 'mysql', url_env: 'MY_URL' });
    expect(doc.exports.map((e: { name: string }) => e.name)).toEqual(['orders', 'shapes', 'v_notes']);
    const orders = doc.exports[0];
    expect(orders).toMatchObject({ mode: 'chunked', chunk_column: 'id', chunk_checkpoint: true, columns: { amount: 'decimal(12,2)' } });
    // MySQL scaffolds always spell the query out, unqualified.
    expect(orders.query.trim()).toBe('SELECT id, customer_id, amount, created_at, note FROM orders');
    expect(doc.exports[1].query.trim()).toBe('SELECT id FROM shapes');
    expect(text).toMatch(/# REVIEW: column g \(geometry\) is left out: spatial types/);

    const run = await runCli(['run', '-c', out, '-e', 'orders'], { env: { MY_URL: url }, cwd: dir, timeoutMs: 180_000 });
    expect(run.code, run.stderr).toBe(0);
    const validate = await runCli(['validate', '-c', out, '-e', 'orders'], { env: { MY_URL: url }, cwd: dir });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(await countWithDuckDB(join(dir, 'output', 'orders', '**', '*.parquet'))).toBe(150000);

    const check = await runCli(['check', '-c', out, '-e', 'orders'], { env: { MY_URL: url }, cwd: dir });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/Scan type: +.*\(indexed\)/);
    expect(check.stdout).toMatch(/Cursor range: +1 \.\. 150000/);

    // The scaffold left the geometry column out, so the whole generated config passes --strict...
    const ok = await runCli(['check', '-c', out, '--type-report', '--strict'], { env: { MY_URL: url }, cwd: dir });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/amount +decimal +decimal\(12,2\) +Decimal128\(12, 2\) +exact/);
    // ...and selecting it again is what --strict rejects.
    const withGeo = join(dir, 'geo.yaml');
    await writeFile(withGeo, 'source:\n  type: mysql\n  url_env: MY_URL\nexports:\n  - name: shapes\n    query: "SELECT id, g FROM shapes"\n    format: parquet\n    destination: { type: local, path: ./geo }\n');
    const strict = await runCli(['check', '-c', withGeo, '--type-report', '--strict'], { env: { MY_URL: url }, cwd: dir });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/g +geometry +unsupported\(geometry\) +- +unsupported/);
    expect(strict.stderr).toContain('--strict rejected unsafe type mappings');
  });

  it('--discover names the MySQL scope; --table narrows it', async () => {
    const all = await runCli(['init', '--source', url, '--discover']);
    expect(all.code, all.stderr).toBe(0);
    const d = JSON.parse(all.stdout);
    expect(d.source_type).toBe('mysql');
    expect(d.scope).toBe(`MySQL database "${db}" (3 object(s))`);
    const orders = d.tables.find((t: { table: string }) => t.table === 'orders');
    expect(orders.chunk_candidates[0]).toEqual({ column: 'id', data_type: 'bigint', is_primary_key: true, score: 60 });
    expect(orders.cursor_candidates[0].column).toBe('created_at');

    const one = await runCli(['init', '--source', url, '--table', 'orders', '--discover']);
    expect(JSON.parse(one.stdout).scope).toBe('table `orders`');

    const noDb = await runCli(['init', '--source', testMysqlUrl().replace(/\/[^/]*$/, '/')]);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('--schema');
  });
});
