import type pg from 'pg';
import { RivetError } from '../../errors/rivet-error.js';
import type { Logger } from '../../log/logger.js';
import { registerSecret } from '../../log/redact.js';
import { effectiveTls, pgSslOptions } from '../../source/postgres/pg-connect.js';
import type { TlsOptions } from '../../source/source.js';
import { migratePg, type PgMigration } from './pg-state-migration.js';

/** Where the PostgreSQL state lives: the server URL (TLS parameters included) and the schema that holds the tables. */
export interface PgStateTarget {
  url: string;
  schema: string;
}

/** The one handle the state modules use: queries and transactions against tables qualified by `t(name)`. */
export interface PgStateDb {
  /** `"<schema>".<table>`, for the SQL text. */
  t(table: string): string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Run `f` inside BEGIN … COMMIT on one connection (ROLLBACK when it throws). */
  tx<T>(f: (q: PgStateDb['query']) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type PgQuery = PgStateDb['query'];

/** Parameters of the state URL that are ours or libpq's TLS settings, never passed to the driver as such. */
const NOT_FOR_DRIVER = ['schema', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'uselibpqcompat', 'sslnegotiation'];
const CONNECT_TIMEOUT_MS = 10_000;

/** `host:port/db` of a state URL: what errors and warnings show instead of the URL (which carries the password). */
export function pgStateWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** The URL's TLS settings with the same mapping as a PostgreSQL source: `sslmode`, plus `sslrootcert` as an extra trusted CA. */
function stateTls(url: URL): TlsOptions {
  const tls = effectiveTls({ engine: 'postgres', url: url.toString() });
  const ca = url.searchParams.get('sslrootcert');
  return ca && tls.mode !== 'disable' ? { ...tls, ca_file: ca } : tls;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);

/**
 * A pool on the state server, connected on first use. The first use also creates the
 * schema and migrates it; until then nothing touches the network, so opening the store
 * stays synchronous and a command that never reads state never connects.
 */
export function openPgStateDb(target: PgStateTarget, migrations: PgMigration[], log?: Logger): PgStateDb {
  const url = new URL(target.url);
  if (url.password) registerSecret(decodeURIComponent(url.password));
  const tls = stateTls(url);
  for (const p of NOT_FOR_DRIVER) url.searchParams.delete(p);
  const where = pgStateWhere(target.url);
  if (tls.mode === 'disable' && !LOCAL_HOSTS.has(url.hostname)) {
    log?.warn(`state(pg): the state database ${where} is not on this machine and the connection is not encrypted; add sslmode=require (or verify-full) to RIVET_STATE_URL`);
  }
  const schema = `"${target.schema}"`;
  let pool: Promise<pg.Pool> | null = null;
  let ready: Promise<void> | null = null;

  const fail = (what: string, e: unknown): RivetError =>
    e instanceof RivetError
      ? e
      : new RivetError('STATE', `state(pg): ${what} on ${where}: ${(e as Error).message}`, {
          hint: 'check RIVET_STATE_URL (host, credentials, sslmode) and that the server accepts connections from here',
          cause: e,
        });

  // The driver is imported on first use: a process whose state is elsewhere never loads it.
  const getPool = (): Promise<pg.Pool> => {
    pool ??= import('pg').then(({ default: { Pool } }) => {
      const p = new Pool({
        connectionString: url.toString(),
        ssl: pgSslOptions(tls),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        application_name: 'rivet-state',
        max: 4,
      });
      // An idle client losing its socket must not crash the process; the next query reconnects.
      p.on('error', (e) => log?.debug(`state(pg): idle connection error: ${e.message}`));
      return p;
    });
    return pool;
  };

  const rawQuery = async <R extends pg.QueryResultRow>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]) => {
    try {
      return await client.query<R>(sql, params);
    } catch (e) {
      throw fail('a query failed', e);
    }
  };

  const ensureReady = (): Promise<void> => {
    ready ??= (async () => {
      let client: pg.PoolClient;
      try {
        client = await (await getPool()).connect();
      } catch (e) {
        throw fail('cannot connect to the state database', e);
      }
      try {
        await migratePg(client, target.schema, migrations, (sql) => sql.replaceAll('{{s}}', schema));
      } catch (e) {
        throw fail('cannot prepare the state schema', e);
      } finally {
        client.release();
      }
    })().catch((e) => {
      ready = null; // a later call may succeed (server restarted, network back)
      throw e;
    });
    return ready;
  };

  const db: PgStateDb = {
    t: (table) => `${schema}.${table}`,
    async query(sql, params) {
      await ensureReady();
      return rawQuery(await getPool(), sql, params);
    },
    async tx(f) {
      await ensureReady();
      let client: pg.PoolClient;
      try {
        client = await (await getPool()).connect();
      } catch (e) {
        throw fail('cannot connect to the state database', e);
      }
      try {
        await client.query('BEGIN');
        const out = await f((sql, params) => rawQuery(client, sql, params));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    async close() {
      const p = pool;
      pool = null;
      ready = null;
      if (p) await (await p).end();
    },
  };
  return db;
}
