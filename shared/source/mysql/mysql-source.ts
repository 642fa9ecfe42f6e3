import { Schema, type Field, type RecordBatch } from 'apache-arrow';
import mysql from 'mysql2';
import { RivetError } from '../../errors/rivet-error.js';
import type { Logger } from '../../log/logger.js';
import { redact } from '../../log/redact.js';
import { parseColumnOverrides } from '../../types/column-override.js';
import { rivetField, type RivetType } from '../../types/rivet-type.js';
import type { OpenSource, ReadOptions, Source, SourceConnection } from '../source.js';
import { connectMysql, mysqlConnectionOptions, queryAsync, type MysqlSession } from './mysql-connect.js';
import { BatchPump } from '../batch-pump.js';
import { SizeMemo } from '../column-builders.js';
import { MysqlBatchBuilder } from './mysql-batch-builder.js';
import { mysqlDecoderFor, type MyColumnSpec } from './mysql-decoders.js';
import { mysqlDialect } from './mysql-dialect.js';
import { mysqlQueryError } from './mysql-errors.js';
import { mysqlQueryText } from './mysql-query-text.js';
import { routeRawRows } from './mysql-raw-rows.js';
import { batchBudgetBytes, firstBatchRows, nextBatchRows } from '../batch-sizing.js';
import { autodetectMysqlType, type MyField } from './mysql-types.js';

interface ReadPlan {
  schema: Schema;
  columns: MyColumnSpec[];
}

interface Unmappable {
  name: string;
  nativeType: string;
  reason: string;
}

function unsupportedError(bad: Unmappable[]): RivetError {
  const list = bad.map((b) => `\`${b.name}\` (MySQL type ${b.nativeType}: ${b.reason})`).join('; ');
  const n = bad.length;
  const first = bad[0].name;
  return new RivetError('TYPE_UNSUPPORTED', redact(`${n} column${n === 1 ? '' : 's'} cannot be mapped safely: ${list}`), {
    hint: `add a \`columns:\` override to the export in rivet.yaml (e.g. \`columns: { ${first}: string }\`), or convert the column in SQL`,
  });
}

function queryFields(conn: mysql.Connection, sql: string): Promise<MyField[]> {
  return new Promise((resolve, reject) => {
    conn.query({ sql, rowsAsArray: true, typeCast: false }, (err, _rows, fields) => (err ? reject(err) : resolve((fields ?? []) as unknown as MyField[])));
  });
}

/**
 * Close the socket for good. mysql2's destroy() only half-closes it (FIN), and a paused
 * socket is never read again, so the server would stay blocked writing the rest of the
 * result into it; destroying the socket makes that write fail at once.
 */
function dropConnection(conn: mysql.Connection): void {
  conn.destroy();
  (conn as unknown as { stream?: { destroy(): void } }).stream?.destroy();
}

/** How rows are decoded: from the row packets (default) or from mysql2's per-value Buffers (`driver`, A/B runs). */
function mysqlRowDecode(): 'packet' | 'driver' {
  const v = process.env.RIVET_MYSQL_ROW_DECODE || 'packet';
  if (v !== 'packet' && v !== 'driver') {
    throw new RivetError('USAGE', `unknown RIVET_MYSQL_ROW_DECODE "${v}" (expected packet or driver)`, { hint: 'unset RIVET_MYSQL_ROW_DECODE' });
  }
  return v;
}

class MysqlSource implements Source {
  readonly engine = 'mysql' as const;
  readonly dialect = mysqlDialect;
  private readonly warnedOverrides = new Set<string>();
  private readonly warnedZeroDates = new Set<string>();
  /** One connection carries one read transaction at a time. */
  private reading = false;

  constructor(
    /** null after a read was abandoned mid-stream: the next call reconnects. */
    private session: MysqlSession | null,
    private readonly connection: SourceConnection,
    private readonly overrides: Map<string, RivetType>,
    private readonly log: Logger,
  ) {}

  quoteIdent(name: string): string {
    return mysqlDialect.quoteIdent(name);
  }

  private async open(): Promise<MysqlSession> {
    if (!this.session) this.session = await connectMysql(this.connection, this.log);
    return this.session;
  }

  async pressure(): Promise<number | null> {
    // Temporary tables spilled to disk plus waits for a free buffer-pool page (docs/modes.md).
    try {
      const { conn } = await this.open();
      const rows = await new Promise<unknown[]>((resolve, reject) =>
        conn.query(
          "SHOW GLOBAL STATUS WHERE Variable_name IN ('Created_tmp_disk_tables', 'Innodb_buffer_pool_wait_free')",
          (err, r) => (err ? reject(err) : resolve(r as unknown[])),
        ),
      );
      let n = 0;
      for (const r of rows as { Value?: unknown }[]) n += Number(r.Value ?? 0);
      return Number.isFinite(n) && rows.length > 0 ? n : null;
    } catch {
      return null;
    }
  }

  async tableExists(table: string): Promise<boolean> {
    const [schema, name] = table.includes('.') ? [table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1)] : [null, table];
    const { conn } = await this.open();
    try {
      const rows = await new Promise<unknown[]>((resolve, reject) =>
        conn.query(
          'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? LIMIT 1',
          [schema, name],
          (err, r) => (err ? reject(err) : resolve(r as unknown[])),
        ),
      );
      return rows.length > 0;
    } catch (e) {
      throw mysqlQueryError(e, { action: `checking whether table ${table} exists` });
    }
  }

  async describe(sql: string): Promise<Schema> {
    const { conn } = await this.open();
    try {
      return (await this.plan(conn, mysqlQueryText(sql))).schema;
    } catch (e) {
      throw mysqlQueryError(e, { action: 'describing the query' });
    }
  }

  /**
   * Column names and types from the result metadata of a zero-row probe. The server plans
   * the query but does not run it (LIMIT 0 on a derived table materialises nothing).
   */
  private async plan(conn: mysql.Connection, body: string): Promise<ReadPlan> {
    return this.planFor(await queryFields(conn, `SELECT * FROM (\n${body}\n) AS _rivet_probe LIMIT 0`));
  }

  /** Arrow schema and decoders for a result's column definitions (autodetect, then `columns:` overrides). */
  private planFor(fields: MyField[]): ReadPlan {
    const columns: MyColumnSpec[] = [];
    const arrowFields: Field[] = [];
    const bad: Unmappable[] = [];
    for (const f of fields) {
      const auto = autodetectMysqlType(f);
      const override = this.overrides.get(f.name);
      const rivetType = override ?? auto.rivetType;
      if (rivetType.kind === 'unsupported') {
        bad.push({ name: f.name, nativeType: auto.nativeType, reason: rivetType.reason });
        continue;
      }
      const spec: MyColumnSpec = { name: f.name, nativeType: auto.nativeType, rivetType, wire: auto.wire };
      const check = mysqlDecoderFor(spec, 1, () => undefined);
      if (typeof check === 'string') {
        bad.push({ name: f.name, nativeType: auto.nativeType, reason: override ? `override not applicable: ${check}` : check });
        continue;
      }
      columns.push(spec);
      arrowFields.push(rivetField(f.name, rivetType, auto.nativeType));
    }
    for (const name of this.overrides.keys()) {
      if (!fields.some((f) => f.name === name) && !this.warnedOverrides.has(name)) {
        this.warnedOverrides.add(name);
        this.log.warn(`column override for "${name}" matches no column of the query result; it is ignored`);
      }
    }
    if (bad.length > 0) throw unsupportedError(bad);
    return { schema: new Schema(arrowFields), columns };
  }

  read(sql: string, options: ReadOptions): AsyncIterable<RecordBatch> {
    return this.readBatches(sql, options);
  }

  /** Session limits for this read; DEFAULT puts back what an earlier read on this connection changed. */
  private async limits(s: MysqlSession, options: ReadOptions): Promise<void> {
    const st = options.statementTimeoutS && options.statementTimeoutS > 0 ? options.statementTimeoutS : 0;
    // MariaDB counts seconds for every statement; MySQL counts milliseconds for SELECTs only.
    await queryAsync(s.conn, s.mariadb ? `SET SESSION max_statement_time = ${st}` : `SET SESSION max_execution_time = ${Math.round(st * 1000)}`);
    const lt = options.lockTimeoutS && options.lockTimeoutS > 0 ? Math.max(1, Math.round(options.lockTimeoutS)) : 'DEFAULT';
    await queryAsync(s.conn, `SET SESSION innodb_lock_wait_timeout = ${lt}, lock_wait_timeout = ${lt}`);
  }

  private async *readBatches(sql: string, options: ReadOptions): AsyncGenerator<RecordBatch> {
    const rowDecode = mysqlRowDecode();
    const batchSize = Math.floor(options.batchSize);
    if (!(batchSize >= 1)) throw new RivetError('CONFIG_INVALID', `batch size must be at least 1 (got ${options.batchSize})`);
    const { signal } = options;
    signal?.throwIfAborted();
    if (this.reading) throw new RivetError('INTERNAL', 'a MySQL source can run only one read at a time');
    this.reading = true;
    const body = mysqlQueryText(sql);
    let action = 'starting the read transaction';
    let inTransaction = false;
    let streaming = false;
    let session: MysqlSession | null = null;
    const pump = new BatchPump<RecordBatch>(() => session?.conn.resume());
    const onAbort = () => {
      // Whatever statement is running (the first rows of a sort or join can take long): ask the server to stop it.
      if (session && !pump.ended) void this.killQuery(session.conn.threadId);
      pump.notify();
    };
    signal?.addEventListener('abort', onAbort);
    try {
      session = await this.open();
      const conn = session.conn;
      await this.limits(session, options);
      // One read-only transaction on a consistent snapshot, so every row comes from the same point in time.
      await queryAsync(conn, 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await queryAsync(conn, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      inTransaction = true;

      action = 'reading the query';
      const onZeroDate = (col: MyColumnSpec) => {
        if (this.warnedZeroDates.has(col.name)) return;
        this.warnedZeroDates.add(col.name);
        this.log.warn(`column "${col.name}" (MySQL ${col.nativeType}) holds zero or invalid dates such as 0000-00-00; they are exported as NULL`);
      };
      let newBuilder: (() => MysqlBatchBuilder) | null = null;
      let builder: MysqlBatchBuilder | null = null;
      const fail = (e: unknown) => {
        conn.pause();
        pump.fail(e);
      };
      // Batches are bounded by rows and by bytes, as on PostgreSQL (batch-sizing.ts): a 500-row
      // probe, then as many rows as fit the budget at the last batch's bytes per row — 10,000
      // rows of 10 KB would otherwise be 100 MB per batch, and more preallocated after it.
      const budget = batchBudgetBytes(options.batchMemoryMb);
      let want = firstBatchRows(batchSize);
      const query = conn.query({ sql: body, rowsAsArray: true, typeCast: false });
      streaming = true;
      // The schema comes from the statement's own column definitions (no second probe, and
      // describe() reports the same types: both read the server's metadata for the same query).
      query.on('fields', (fields: MyField[]) => {
        try {
          const plan = this.planFor(fields);
          const memos = plan.columns.map(() => new SizeMemo(options.bufferPool ?? null));
          newBuilder = () => new MysqlBatchBuilder(plan.schema, plan.columns, want, options.maxValueMb ?? 0, onZeroDate, memos);
          builder = newBuilder();
        } catch (e) {
          fail(e);
        }
      });
      const afterRow = (b: MysqlBatchBuilder, next: () => MysqlBatchBuilder) => {
        if (b.rows >= Math.max(1, Math.min(want, options.rowCeiling?.() ?? batchSize))) {
          want = nextBatchRows({ rows: b.rows, bytes: b.bytes }, batchSize, budget);
          const batch = b.finish();
          builder = next();
          // Backpressure: stop reading the socket until the consumer has taken the batch.
          conn.pause();
          pump.push(batch);
        }
      };
      const onPacketRow = (buf: Buffer, start: number, end: number) => {
        const b = builder as MysqlBatchBuilder | null;
        if (pump.failed || !b || !newBuilder) return;
        try {
          b.addPacket(buf, start, end);
        } catch (e) {
          return fail(e);
        }
        afterRow(b, newBuilder);
      };
      // Rows are decoded straight from the row packets; RIVET_MYSQL_ROW_DECODE=driver lets
      // mysql2 split them into one Buffer per value first (the earlier path, for A/B runs).
      if (!(rowDecode === 'packet' && routeRawRows(query, onPacketRow))) {
        query.on('result', (row: unknown) => {
          const b = builder as MysqlBatchBuilder | null;
          if (pump.failed || !b || !newBuilder) return;
          try {
            b.addRow(row as (Buffer | null)[]);
          } catch (e) {
            return fail(e);
          }
          afterRow(b, newBuilder);
        });
      }
      query.on('error', (e: Error) => pump.end(e));
      query.on('end', () => pump.end());

      yield* pump.batches(signal, options.throttleMs);
      streaming = false;
      const last = builder as MysqlBatchBuilder | null;
      if (last && last.rows > 0) yield last.finish();

      action = 'finishing the read';
      await queryAsync(conn, 'COMMIT');
      inTransaction = false;
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw mysqlQueryError(e, { action });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (session && streaming && !pump.ended) {
        // Stopped mid-stream (consumer gave up, error, abort): the rest of the result is still
        // on the wire, so the connection is dropped rather than drained; the next call reconnects.
        void this.killQuery(session.conn.threadId);
        dropConnection(session.conn);
        this.session = null;
      } else if (session && inTransaction) {
        await queryAsync(session.conn, 'ROLLBACK').catch((e: Error) => this.log.debug(`ROLLBACK failed: ${e.message}`));
      }
      this.reading = false;
    }
  }

  /** Best-effort KILL QUERY on a side connection (the protocol's way to stop a running statement). */
  private async killQuery(threadId: number | null): Promise<void> {
    if (threadId == null) return;
    try {
      const side = mysql.createConnection({ ...mysqlConnectionOptions(this.connection), connectTimeout: 5_000 });
      side.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        side.query(`KILL QUERY ${Number(threadId)}`, () => {
          side.end(() => resolve());
        });
      });
    } catch (e) {
      this.log.debug(`MySQL KILL QUERY failed: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.conn.end((err) => {
        if (err) {
          this.log.debug(`closing the MySQL connection: ${err.message}`);
          dropConnection(s.conn);
        }
        resolve();
      });
    });
  }
}

/** Connect to MySQL or MariaDB. Column overrides are validated before any connection is made. */
export const openMysqlSource: OpenSource = async (options) => {
  const overrides = parseColumnOverrides(options.columnOverrides);
  const session = await connectMysql(options.connection, options.log);
  return new MysqlSource(session, options.connection, overrides, options.log);
};
