/**
 * What the one SQL state store (sql-state-store.ts) needs from a database: statements with
 * `$1`-style placeholders, transactions, and the few spellings in which SQLite and
 * PostgreSQL differ. A driver also owns its schema: it creates and migrates the tables
 * before the first statement runs, so the store only reads and writes rows.
 */
export type SqlRow = Record<string, unknown>;

export interface SqlResult<R extends SqlRow = SqlRow> {
  rows: R[];
  /** Rows inserted, updated or deleted (for a statement with RETURNING: the rows returned). */
  changes: number;
}

/**
 * One statement. Placeholders are `$1`, `$2`, … (a number may repeat); values are strings,
 * numbers, booleans, null or bytes (Uint8Array), bound as the database spells them.
 */
export type SqlQuery = <R extends SqlRow = SqlRow>(sql: string, params?: readonly unknown[]) => Promise<SqlResult<R>>;

/** The tables of the state schema (v7); `table()` qualifies them. */
export type StateTable =
  | 'export_state'
  | 'export_metrics'
  | 'file_log'
  | 'run_journal'
  | 'run_aggregate'
  | 'export_progression'
  | 'export_cursor_boundary'
  | 'chunk_run'
  | 'chunk_task'
  | 'run_lease';

/** SQL fragments that differ between the databases; everything else is one text. */
export interface StateSqlDialect {
  /**
   * The column that breaks ties among rows written in the same millisecond, newest last:
   * SQLite's rowid; PostgreSQL's `seq` columns (and the aggregate id, which has none).
   */
  insertionOrder(table: 'chunk_run' | 'run_journal' | 'run_aggregate'): string;
  /** `column` ordered byte by byte, the order the other backends list export names in. */
  byteOrder(column: string): string;
  /**
   * Appended to the claim's pick of a chunk task (alias `t`): lets a concurrent claimer pass
   * over a row another holds. Empty where a transaction holds the whole database.
   */
  skipLocked: string;
  /** Appended to a read that must keep its row until commit; empty where a transaction holds the whole database. */
  forUpdate: string;
  /**
   * Store a journal ($1 run_id, $2 export_name, $3 finished_at, $4 journal_json): a re-save
   * replaces the row and moves it behind every other in insertion order.
   */
  saveJournal(runJournal: string): string;
}

export interface SqlStateDriver {
  readonly kind: 'sqlite' | 'postgres';
  readonly dialect: StateSqlDialect;
  /** A state table's name as the SQL text spells it (schema-qualified on PostgreSQL). */
  table(name: StateTable): string;
  query: SqlQuery;
  /**
   * Run `f` in one transaction: COMMIT when it returns, ROLLBACK when it throws (the error is
   * rethrown as is). Statements inside must go through the `q` it is given. On SQLite the
   * transaction holds the write lock from its start (BEGIN IMMEDIATE), so a read inside it
   * sees what no other writer can change before the commit.
   */
  transaction<T>(f: (q: SqlQuery) => Promise<T>): Promise<T>;
  /** Whether `e`, thrown by a statement, is a PRIMARY KEY / UNIQUE violation. */
  isUniqueViolation(e: unknown): boolean;
  close(): Promise<void>;
}
