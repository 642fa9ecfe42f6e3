import Database from 'better-sqlite3';
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RivetError } from '../../errors/rivet-error.js';
import type { SqlQuery, SqlResult, SqlRow, SqlStateDriver, StateSqlDialect } from '../sql/sql-state-driver.js';
import { fileTurns } from './sqlite-file-turns.js';
import { migrate } from './sqlite-migration.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';

/** How long a statement waits for another process's write lock before failing with "database is locked". */
const BUSY_TIMEOUT_MS = 10_000;
/** Prepared statements kept; the store's texts are a few dozen, batch inserts add one per batch size. */
const STATEMENT_CACHE = 256;

const SQLITE_DIALECT: StateSqlDialect = {
  insertionOrder: () => 'rowid',
  // SQLite's default collation (BINARY) already compares bytes.
  byteOrder: (column) => column,
  // A transaction holds the whole database (BEGIN IMMEDIATE): nothing to lock row by row.
  skipLocked: '',
  forUpdate: '',
  // REPLACE deletes the old row and inserts a new one, which gets the next rowid.
  saveJournal: (t) => `INSERT OR REPLACE INTO ${t} (run_id, export_name, finished_at, journal_json) VALUES ($1, $2, $3, $4)`,
};

interface Prepared {
  stmt: Database.Statement;
  /** For each `?` in the prepared text, which parameter (0-based) it takes. */
  order: number[];
}

/** Booleans as 0/1 and bytes as a Buffer: what better-sqlite3 binds. */
function bindable(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

/** The file's path with its directory's links resolved, so two spellings of one file take turns together. */
function realFile(path: string): string {
  const abs = resolve(path);
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

const isUniqueViolation = (e: unknown): boolean => {
  const code = (e instanceof RivetError ? (e.cause as { code?: unknown } | undefined)?.code : (e as { code?: unknown } | undefined)?.code) ?? '';
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/**
 * The SQLite state database: one file, WAL mode, a 10 s busy timeout (several processes may
 * share it), migrated to the latest schema on open. better-sqlite3 runs statements
 * synchronously, but a transaction here awaits between its statements, where another call
 * could run a statement inside it (same connection) or wait for its lock and block the event
 * loop (another connection in this process): so every transaction and statement on the file
 * takes its turn (sqlite-file-turns.ts).
 */
export async function openSqliteDriver(path: string): Promise<SqlStateDriver> {
  const turns = fileTurns(realFile(path));
  let db: Database.Database;
  try {
    // Opening may migrate, which writes: it waits for its turn like any statement.
    db = await turns.take(() => {
      const opened = new Database(path);
      try {
        opened.pragma('journal_mode = WAL');
        opened.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
        migrate(opened, SQLITE_MIGRATIONS);
        return opened;
      } catch (e) {
        opened.close();
        throw e;
      }
    });
  } catch (e) {
    turns.leave();
    throw new RivetError('STATE', `cannot open the state database ${path}: ${(e as Error).message}`, {
      hint: 'check that the directory of the config file is writable, or delete a corrupt .rivet_state.db',
      cause: e,
    });
  }

  const cache = new Map<string, Prepared>();
  const prepare = (sql: string): Prepared => {
    let p = cache.get(sql);
    if (!p) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
        order.push(Number(n) - 1);
        return '?';
      });
      if (cache.size >= STATEMENT_CACHE) cache.clear();
      p = { stmt: db.prepare(text), order };
      cache.set(sql, p);
    }
    return p;
  };

  const run = <R extends SqlRow>(sql: string, params: readonly unknown[] = []): SqlResult<R> => {
    try {
      const { stmt, order } = prepare(sql);
      const values = order.map((i) => bindable(params[i]));
      if (stmt.reader) {
        const rows = stmt.all(...values) as R[];
        return { rows, changes: rows.length };
      }
      return { rows: [], changes: stmt.run(...values).changes };
    } catch (e) {
      throw new RivetError('STATE', `state(sqlite): a statement failed on ${path}: ${(e as Error).message}`, {
        hint: '"database is locked" means another process held the state file for more than 10 s; otherwise check that the file is writable and not damaged',
        cause: e,
      });
    }
  };

  const inside: SqlQuery = async (sql, params) => run(sql, params);

  return {
    kind: 'sqlite',
    dialect: SQLITE_DIALECT,
    table: (name) => name,
    query: (sql, params) => turns.take(() => run(sql, params)),
    transaction: (f) =>
      turns.take(async () => {
        // IMMEDIATE: the write lock is taken before the first read, so a check inside the
        // transaction and the write it allows cannot be split by another process's write.
        run('BEGIN IMMEDIATE');
        try {
          const out = await f(inside);
          run('COMMIT');
          return out;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
      }),
    isUniqueViolation,
    async close() {
      try {
        await turns.take(() => db.close());
      } finally {
        turns.leave();
      }
    },
  };
}
