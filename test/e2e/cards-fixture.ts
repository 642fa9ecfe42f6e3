import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';

/** Shared by the cards tests: three exports on real PostgreSQL, `slow` paced by throttle_ms so a person (or tmux) can watch it. */
export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export async function cardsSchema(prefix: string): Promise<string> {
  const schema = await freshSchema(prefix);
  await pgExec(`
    CREATE TABLE ${schema}.customers (id int PRIMARY KEY, name text);
    INSERT INTO ${schema}.customers SELECT g, 'c' || g FROM generate_series(1, 500) g;
    CREATE TABLE ${schema}.orders (id int PRIMARY KEY, amount numeric(10,2));
    INSERT INTO ${schema}.orders SELECT g, g * 1.5 FROM generate_series(1, 3000) g;
    CREATE TABLE ${schema}.events (id int PRIMARY KEY, kind text);
    INSERT INTO ${schema}.events SELECT g, 'k' || (g % 7) FROM generate_series(1, 1200) g;`);
  return schema;
}

export interface CardsConfig {
  dir: string;
  cfg: string;
  out: (name: string) => string;
}

/**
 * `orders` is chunked (6 chunks of 500) and throttled: 5 batches of 100 rows per chunk,
 * 150 ms apart, so it runs for about 5 s. `extra` adds export blocks (e.g. a failing one).
 */
export async function cardsConfig(schema: string, extra = ''): Promise<CardsConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-cards-'));
  const out = (name: string) => join(dir, 'out', name);
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:
  type: postgres
  url_env: RIVET_CARDS_PG_URL
exports:
  - name: customers
    query: SELECT * FROM ${schema}.customers
    format: parquet
    destination: { type: local, path: ${out('customers')} }
  - name: orders
    query: SELECT * FROM ${schema}.orders
    mode: chunked
    chunk_column: id
    chunk_size: 500
    format: parquet
    tuning: { batch_size: 100, throttle_ms: 150 }
    destination: { type: local, path: ${out('orders')} }
  - name: events
    query: SELECT * FROM ${schema}.events
    format: csv
    destination: { type: local, path: ${out('events')} }
${extra}`,
  );
  return { dir, cfg, out };
}

export const cardsEnv = (): NodeJS.ProcessEnv => ({ RIVET_CARDS_PG_URL: testPgUrl(), RIVET_LOG: 'warn' });
