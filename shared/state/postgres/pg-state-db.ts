import type pg from 'pg';
import { RivetError } from '../../errors/rivet-error.js';
import type { Logger } from '../../log/logger.js';
import { registerSecret } from '../../log/redact.js';
import { effectiveTls, pgSslOptions } from '../../source/postgres/pg-connect.js';
import type { TlsOptions } from '../../source/source.js';
import type { SqlQuery, SqlResult, SqlRow, SqlStateDriver, StateSqlDialect } from '../sql/sql-state-driver.js';
import { migratePg, type PgMigration } from './pg-state-migration.js';
import { PG_MIGRATIONS } from './pg-schema.js';

/** Where the PostgreSQL state lives: the server URL (TLS parameters included) and the schema that holds the tables. */
export interface PgStateTarget {
  url: string;
  schema: string;
}

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

function pgDialect(schema: string): StateSqlDialect {
  return {
    // SQLite's rowid has no PostgreSQL twin: `seq` columns stand in; aggregates have none and tie by id.
    insertionOrder: (table) => (table === 'run_aggregate' ? 'run_aggregate_id' : 'seq'),
    // Byte order, the order SQLite and DynamoDB list names in, whatever the database's locale.
    byteOrder: (column) => `${column} COLLATE "C"`,
    skipLocked: ' FOR UPDATE OF t SKIP LOCKED',
    forUpdate: ' FOR UPDATE',
    saveJournal: (t) => `INSERT INTO ${t} (run_id, export_name, finished_at, journal_json) VALUES ($1, $2, $3, $4)
      ON CONFLICT (run_id) DO UPDATE SET export_name = EXCLUDED.export_name, finished_at = EXCLUDED.finished_at,
        journal_json = EXCLUDED.journal_json, seq = nextval('${schema}.run_journal_seq')`,
  };
}

const isUniqueViolation = (e: unknown): boolean => e instanceof RivetError && (e.cause as { code?: string } | undefined)?.code === '23505';

/**
 * The PostgreSQL state database: a pool on the state server, connected on first use. The
 * first use also creates the schema and migrates it (to `migrations`, by default the state
 * schema); until then nothing touches the network, so a command that never reads state never
 * connects. Row locks and conditional updates keep concurrent workers from overwriting each
 * other's records; a transaction runs on one pooled connection.
 */
export function openPgStateDb(target: PgStateTarget, migrations: readonly PgMigration[] = PG_MIGRATIONS, log?: Logger): SqlStateDriver {
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

  const rawQuery = async <R extends SqlRow>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<SqlResult<R>> => {
    try {
      const r = await client.query<R>(sql, params as unknown[] | undefined);
      return { rows: r.rows, changes: r.rowCount ?? 0 };
    } catch (e) {
      throw fail('a query failed', e);
    }
  };

  const connect = async (): Promise<pg.PoolClient> => {
    try {
      return await (await getPool()).connect();
    } catch (e) {
      throw fail('cannot connect to the state database', e);
    }
  };

  const ensureReady = (): Promise<void> => {
    ready ??= (async () => {
      const client = await connect();
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

  const query: SqlQuery = async (sql, params) => {
    await ensureReady();
    return rawQuery(await getPool(), sql, params);
  };

  return {
    kind: 'postgres',
    dialect: pgDialect(schema),
    table: (name) => `${schema}.${name}`,
    query,
    async transaction(f) {
      await ensureReady();
      const client = await connect();
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
    isUniqueViolation,
    async close() {
      const p = pool;
      pool = null;
      ready = null;
      if (p) await (await p).end();
    },
  };
}
