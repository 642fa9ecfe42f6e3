import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordBatch, Schema } from 'apache-arrow';
import { Request, type Connection } from 'tedious';
import { RivetError } from '../../errors/rivet-error.js';
import type { Logger } from '../../log/logger.js';
import { parseColumnOverrides } from '../../types/column-override.js';
import type { RivetType } from '../../types/rivet-type.js';
import type { OpenSource, ReadOptions, Source, SourceConnection } from '../source.js';
import { BatchPump } from '../batch-pump.js';
import { MssqlBatchBuilder, type TediousCell } from './mssql-batch-builder.js';
import { connectMssql, execBatch, queryRows } from './mssql-connect.js';
import { describedColumnMetadata } from './mssql-described-column.js';
import { mssqlDialect, mssqlTextLiteral } from './mssql-dialect.js';
import { mssqlQueryError } from './mssql-errors.js';
import { mssqlQueryText } from './mssql-query-text.js';
import { mssqlReadPlan, type MssqlReadPlan } from './mssql-read-plan.js';
import type { MssqlColumnMetadata } from './mssql-types.js';

/** tedious gives an array with `useColumnNames: false`; be tolerant of the keyed form. */
function metadataList(columns: unknown): MssqlColumnMetadata[] {
  return (Array.isArray(columns) ? columns : Object.values(columns as Record<string, unknown>)) as MssqlColumnMetadata[];
}

/** `schema.name` (bare, as configured under `table:`) as a bracket-quoted two-part name. */
function qualifiedName(table: string): string {
  const dot = table.indexOf('.');
  const parts = dot >= 0 ? [table.slice(0, dot), table.slice(dot + 1)] : [table];
  return parts.map((p) => mssqlDialect.quoteIdent(p)).join('.');
}

/**
 * Errors of a query that is valid on its own but not as a derived table: ORDER BY (1033),
 * unnamed (8155) or duplicate (8156) columns, a CTE or other syntax (102, 156, 319).
 */
const NOT_WRAPPABLE = new Set([1033, 8155, 8156, 102, 156, 319]);

/** Rows of a small result as objects keyed by column name. */
function queryNamedRows(conn: Connection, sql: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const rows: Record<string, unknown>[] = [];
    const req = new Request(sql, (err) => (err ? reject(err) : resolve(rows)));
    req.on('row', (cells: { value: unknown; metadata: { colName: string } }[]) => {
      rows.push(Object.fromEntries(cells.map((c) => [c.metadata.colName, c.value])));
    });
    conn.execSqlBatch(req);
  });
}

/** How long to wait for the server to acknowledge a cancel before dropping the connection. */
const CANCEL_WAIT_MS = 10_000;

class MssqlSource implements Source {
  readonly engine = 'mssql' as const;
  readonly dialect = mssqlDialect;
  private readonly warnedOverrides = new Set<string>();
  /** One connection runs one request at a time. */
  private reading = false;

  constructor(
    /** null after a read was abandoned and the cancel went unanswered: the next call reconnects. */
    private conn: Connection | null,
    private readonly connection: SourceConnection,
    private readonly overrides: Map<string, RivetType>,
    private readonly log: Logger,
  ) {
    if (conn) this.watch(conn);
  }

  /** A connection the server or network closed is replaced on the next call. */
  private watch(conn: Connection): void {
    conn.once('end', () => {
      if (this.conn === conn) this.conn = null;
    });
  }

  quoteIdent(name: string): string {
    return mssqlDialect.quoteIdent(name);
  }

  private async open(): Promise<Connection> {
    if (!this.conn) {
      this.conn = await openSession(this.connection, this.log);
      this.watch(this.conn);
    }
    return this.conn;
  }

  async pressure(): Promise<number | null> {
    // Workfiles and worktables created (spills of hashes, sorts and spools), cumulative since startup (docs/modes.md).
    try {
      const conn = await this.open();
      const rows = await queryRows(
        conn,
        "SELECT SUM(cntr_value) FROM sys.dm_os_performance_counters WHERE counter_name IN ('Workfiles Created/sec', 'Worktables Created/sec') AND object_name LIKE '%Access Methods%'",
      );
      const n = Number(rows[0]?.[0]);
      return Number.isFinite(n) ? n : null;
    } catch {
      return null;
    }
  }

  async tableExists(table: string): Promise<boolean> {
    const conn = await this.open();
    const name = mssqlTextLiteral(qualifiedName(table));
    try {
      const rows = await queryRows(conn, `SELECT CASE WHEN OBJECT_ID(${name}, N'U') IS NOT NULL OR OBJECT_ID(${name}, N'V') IS NOT NULL THEN 1 ELSE 0 END`);
      return rows[0]?.[0] === 1;
    } catch (e) {
      throw mssqlQueryError(e, { action: `checking whether table ${table} exists` });
    }
  }

  /**
   * Column names and types from the result metadata of a TOP 0 probe: the server compiles
   * the query but returns no rows. T-SQL refuses some queries as a derived table (ORDER BY,
   * a CTE, unnamed or duplicate columns) that run fine as written (mode `full`); those are
   * described with `sp_describe_first_result_set` instead.
   */
  async describe(sql: string): Promise<Schema> {
    const conn = await this.open();
    const body = mssqlQueryText(sql);
    try {
      const columns = await new Promise<MssqlColumnMetadata[]>((resolve, reject) => {
        let meta: MssqlColumnMetadata[] = [];
        const req = new Request(`SELECT TOP 0 * FROM (\n${body}\n) AS _rivet_probe`, (err) => (err ? reject(err) : resolve(meta)));
        req.on('columnMetadata', (cols) => {
          meta = metadataList(cols);
        });
        conn.execSqlBatch(req);
      });
      return this.planFor(columns).schema;
    } catch (e) {
      const n = (e as { number?: unknown }).number;
      if (typeof n === 'number' && NOT_WRAPPABLE.has(n)) return this.describeUnwrapped(conn, body, e);
      throw mssqlQueryError(e, { action: 'describing the query' });
    }
  }

  private async describeUnwrapped(conn: Connection, body: string, wrapError: unknown): Promise<Schema> {
    let rows: Record<string, unknown>[];
    try {
      rows = await queryNamedRows(conn, `EXEC sp_describe_first_result_set @tsql = ${mssqlTextLiteral(body)}`);
    } catch {
      throw mssqlQueryError(wrapError, { action: 'describing the query' });
    }
    const columns = rows
      .filter((r) => !r.is_hidden)
      .sort((a, b) => Number(a.column_ordinal) - Number(b.column_ordinal))
      .map((r) =>
        describedColumnMetadata({ name: String(r.name ?? ''), systemTypeName: String(r.system_type_name ?? ''), precision: Number(r.precision ?? 0), scale: Number(r.scale ?? 0) }),
      );
    return this.planFor(columns).schema;
  }

  /** Arrow schema and decoders for a result's column metadata (autodetect, then `columns:` overrides). */
  private planFor(meta: MssqlColumnMetadata[]): MssqlReadPlan {
    return mssqlReadPlan(meta, this.overrides, (name) => {
      if (this.warnedOverrides.has(name)) return;
      this.warnedOverrides.add(name);
      this.log.warn(`column override for "${name}" matches no column of the query result; it is ignored`);
    });
  }

  read(sql: string, options: ReadOptions): AsyncIterable<RecordBatch> {
    return this.readBatches(sql, options);
  }

  private async *readBatches(sql: string, options: ReadOptions): AsyncGenerator<RecordBatch> {
    const batchSize = Math.floor(options.batchSize);
    if (!(batchSize >= 1)) throw new RivetError('CONFIG_INVALID', `batch size must be at least 1 (got ${options.batchSize})`);
    const { signal } = options;
    signal?.throwIfAborted();
    if (this.reading) throw new RivetError('INTERNAL', 'a SQL Server source can run only one read at a time');
    this.reading = true;
    const body = mssqlQueryText(sql);
    let action = 'preparing the read';
    let conn: Connection | null = null;
    let streaming = false;
    /** Set once the read is being abandoned: rows still in flight are dropped, not buffered. */
    let stopping = false;
    let completed: Promise<void> = Promise.resolve();
    let request: Request | null = null;
    const pump = new BatchPump<RecordBatch>(() => request?.resume());
    const onAbort = () => {
      stopping = true;
      if (conn && streaming && !pump.ended) conn.cancel();
      pump.notify();
    };
    signal?.addEventListener('abort', onAbort);
    try {
      conn = await this.open();
      // docs/modes.md: SET LOCK_TIMEOUT when lock_timeout_s > 0; -1 (wait forever, the default) otherwise.
      const lockMs = options.lockTimeoutS && options.lockTimeoutS > 0 ? Math.round(options.lockTimeoutS * 1000) : -1;
      await execBatch(conn, `SET LOCK_TIMEOUT ${lockMs}`);

      action = 'reading the query';
      let plan: MssqlReadPlan | null = null;
      let builder: MssqlBatchBuilder | null = null;
      let resultSets = 0;
      const fail = (e: unknown) => {
        request?.pause();
        pump.fail(e);
      };
      let finish: () => void = () => undefined;
      completed = new Promise<void>((resolve) => {
        finish = resolve;
      });
      request = new Request(body, (err) => {
        finish();
        pump.end(err);
      });
      if (options.statementTimeoutS && options.statementTimeoutS > 0) request.setTimeout(Math.round(options.statementTimeoutS * 1000));
      request.on('columnMetadata', (cols) => {
        if (++resultSets > 1) {
          return fail(new RivetError('SOURCE_QUERY', 'the query returned more than one result set; rivet exports exactly one', { hint: 'keep a single SELECT in the export query' }));
        }
        try {
          const p = this.planFor(metadataList(cols));
          plan = p;
          builder = new MssqlBatchBuilder(p.schema, p.columns, batchSize, options.maxValueMb ?? 0);
        } catch (e) {
          fail(e);
        }
      });
      request.on('row', (cells: TediousCell[]) => {
        if (stopping || pump.failed || !builder || !plan) return;
        try {
          builder.addRow(cells);
        } catch (e) {
          return fail(e);
        }
        if (builder.rows >= Math.max(1, Math.min(batchSize, options.rowCeiling?.() ?? batchSize))) {
          const batch = builder.finish();
          builder = new MssqlBatchBuilder(plan.schema, plan.columns, batchSize, options.maxValueMb ?? 0);
          // Backpressure: stop parsing the response until the consumer has taken the batch.
          request?.pause();
          pump.push(batch);
        }
      });
      streaming = true;
      conn.execSqlBatch(request);

      yield* pump.batches(signal, options.throttleMs);
      streaming = false;
      const last = builder as MssqlBatchBuilder | null;
      if (last && last.rows > 0) yield last.finish();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw mssqlQueryError(e, { action });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (conn && streaming && !pump.ended) {
        stopping = true;
        await this.abandon(conn, completed);
      }
      this.reading = false;
    }
  }

  /**
   * Stop a request mid-stream (consumer gave up, error, abort): send an attention (cancel)
   * and wait for the server's acknowledgement so the connection can serve the next
   * request; if none comes in time, drop the connection and reconnect on the next call.
   */
  private async abandon(conn: Connection, completed: Promise<void>): Promise<void> {
    conn.cancel();
    const timer = sleep(CANCEL_WAIT_MS).then(() => 'timeout' as const);
    const outcome = await Promise.race([completed.then(() => 'done' as const), timer]);
    if (outcome === 'timeout') {
      this.log.debug('SQL Server did not acknowledge the cancel in time; closing the connection');
      conn.close();
      if (this.conn === conn) this.conn = null;
    }
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (!c) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      c.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
      c.close();
    });
  }
}

/**
 * Connect and fix the session: SNAPSHOT isolation when the database allows it (every read
 * sees one consistent point in time without taking shared locks), else READ COMMITTED.
 */
async function openSession(connection: SourceConnection, log: Logger): Promise<Connection> {
  const conn = await connectMssql(connection, log);
  try {
    const rows = await queryRows(conn, 'SELECT CAST(snapshot_isolation_state AS INT), CAST(is_read_committed_snapshot_on AS INT) FROM sys.databases WHERE name = DB_NAME()');
    const snapshot = rows[0]?.[0] === 1;
    await execBatch(conn, `SET TRANSACTION ISOLATION LEVEL ${snapshot ? 'SNAPSHOT' : 'READ COMMITTED'}`);
    log.debug(`SQL Server session: isolation ${snapshot ? 'SNAPSHOT' : rows[0]?.[1] === 1 ? 'READ COMMITTED (row versioning)' : 'READ COMMITTED (locking)'}`);
  } catch (e) {
    conn.close();
    throw mssqlQueryError(e, { action: 'setting up the session' });
  }
  return conn;
}

/** Connect to SQL Server. Column overrides are validated before any connection is made. */
export const openMssqlSource: OpenSource = async (options) => {
  const overrides = parseColumnOverrides(options.columnOverrides);
  const conn = await openSession(options.connection, options.log);
  return new MssqlSource(conn, options.connection, overrides, options.log);
};
