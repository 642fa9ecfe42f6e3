import { connect as netConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Schema, type Field, type RecordBatch } from 'apache-arrow';
import type pg from 'pg';
import { RivetError } from '../../errors/rivet-error.js';
import type { Logger } from '../../log/logger.js';
import { redact } from '../../log/redact.js';
import { parseColumnOverrides } from '../../types/column-override.js';
import { rivetField, type RivetType } from '../../types/rivet-type.js';
import type { OpenSourceOptions, ReadOptions, Source } from '../source.js';
import { CSV_COPY_PREFIX, CSV_TEXT_SETTINGS, csvTextColumns, PgCsvTranscoder, readCsvCopy } from './pg-csv-text.js';
import { PgBatchBuilder } from './pg-batch-builder.js';
import { SizeMemo } from '../column-builders.js';
import type { CsvTextEvent, CsvTextSource } from '../csv-text-source.js';
import { batchBudgetBytes, firstBatchRows, nextBatchRows } from '../batch-sizing.js';
import { COPY_PREFIX, readCopyBatches } from './pg-copy-reader.js';
import { connectPg } from './pg-connect.js';
import { pgDialect } from './pg-dialect.js';
import { pgDecoderFor, type PgColumnSpec } from './pg-decoders.js';
import { pgQueryError } from './pg-errors.js';
import { pgQueryText } from './pg-query-text.js';
import { PgRawQuery, type RawField } from './pg-raw-query.js';
import { arrayElementOid, autodetectPgType, isEnumOid, loadPgTypeCatalog, PgOid, pgTypeName, STRING_OVERRIDE_ONLY, wireOid } from './pg-types.js';

const CURSOR = '_rivet';
const PROBE_PREFIX = 'SELECT * FROM (\n';
const DECLARE_PREFIX = `DECLARE ${CURSOR} BINARY NO SCROLL CURSOR FOR\n`;

/** PostgreSQL's read options: the shared ones plus how the rows travel. */
export interface PgReadOptions extends ReadOptions {
  /**
   * Read through a binary cursor (`FETCH batchSize` per batch) or one binary
   * `COPY (…) TO STDOUT` stream; `auto` picks COPY unless the read is throttled or a
   * statement timeout applies. Unset: the `RIVET_PG_READ_METHOD` environment variable, else
   * `auto`.
   */
  method?: 'auto' | 'cursor' | 'copy';
}

/** A PostgreSQL Source, whose reads also take `PgReadOptions`. */
export interface PgSource extends Source {
  read(sql: string, options: PgReadOptions): AsyncIterable<RecordBatch>;
}

type PgReadMethod = NonNullable<PgReadOptions['method']>;

/**
 * `auto` reads with binary COPY — one statement streaming the whole result, the fastest
 * path (bench/README.md) — unless the read is meant to be gentle: with `throttle_ms` the
 * cursor sleeps between FETCHes with no statement running, where a paused COPY would hold
 * its statement open; with a statement timeout (`statement_timeout_s`, or the server's own
 * setting for the role or database) each FETCH is bounded, where a COPY would have the
 * whole export killed at the limit. The `fast` profile (`environment: local`) sets neither.
 */
const DEFAULT_READ_METHOD: PgReadMethod = 'auto';

/** A query's result columns, resolved to Arrow and to wire decoders. */
interface ReadPlan {
  schema: Schema;
  columns: PgColumnSpec[];
}

interface Unmappable {
  name: string;
  nativeType: string;
  reason: string;
  /** The `columns:` override value that exports it, when one does. */
  fix: string | null;
}

/** `options.method`, else `RIVET_PG_READ_METHOD`, else the default. */
function readMethod(options: PgReadOptions): PgReadMethod {
  const m = options.method ?? process.env.RIVET_PG_READ_METHOD;
  if (m === undefined || m === '') return DEFAULT_READ_METHOD;
  if (m === 'auto' || m === 'cursor' || m === 'copy') return m;
  throw new RivetError('CONFIG_INVALID', `unknown PostgreSQL read method "${m}" (expected auto, cursor or copy)`);
}

function sqlName(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/**
 * Every unmappable column in one error, before any data is written (docs/reference/types.md): each named with
 * its PG type and reason, and a `columns:` block that fixes those an override can fix.
 */
function unsupportedError(bad: Unmappable[]): RivetError {
  const list = bad.map((b) => `"${b.name}" (PG type ${b.nativeType}: ${b.reason})`).join('; ');
  const n = bad.length;
  const fixable = bad.filter((b) => b.fix !== null);
  const other = bad.find((b) => b.fix === null);
  const hints: string[] = [];
  if (fixable.length > 0) {
    const entries = fixable.map((b) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(b.name) ? b.name : JSON.stringify(b.name)}: ${JSON.stringify(b.fix)}`);
    hints.push(`add column overrides to the export in rivet.yaml: \`columns: { ${entries.join(', ')} }\``);
  }
  if (other) {
    const c = sqlName(other.name);
    hints.push(`cast the column in the SQL to a supported type, e.g. \`SELECT ${c}::text AS ${c}\``);
  }
  return new RivetError('TYPE_UNSUPPORTED', redact(`${n} column${n === 1 ? '' : 's'} cannot be mapped safely: ${list}`), {
    hint: hints.join('; '),
  });
}

/** The override that exports a column autodetect rejects: exact decimals for NUMERIC, text for types rendered as text. */
function overrideFix(wire: number, typmod: number, moneyDigits: number | undefined): string | null {
  if (wire === PgOid.numeric) return typmod < 4 ? 'decimal(38,9)' : 'string';
  if (wire === PgOid.money && moneyDigits !== undefined) return `decimal(19,${moneyDigits})`;
  if (STRING_OVERRIDE_ONLY.has(wire)) return 'string';
  return null;
}

class PostgresSource implements PgSource, CsvTextSource {
  readonly engine = 'postgres' as const;
  readonly dialect = pgDialect;
  private readonly warnedOverrides = new Set<string>();
  /** One connection carries one read transaction at a time. */
  private reading = false;

  constructor(
    private readonly client: pg.Client,
    private readonly url: string,
    private readonly overrides: Map<string, RivetType>,
    private readonly log: Logger,
  ) {}

  quoteIdent(name: string): string {
    return pgDialect.quoteIdent(name);
  }

  async tableExists(table: string): Promise<boolean> {
    try {
      const res = await this.client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
      return res.rows[0]?.ok === true;
    } catch (e) {
      throw pgQueryError(e, { action: `checking whether table ${table} exists` });
    }
  }

  async pressure(): Promise<number | null> {
    // Requested checkpoints: WAL filled faster than checkpoint_timeout allows (heavy writes on the source).
    for (const sql of ['SELECT checkpoints_req::text AS n FROM pg_stat_bgwriter', 'SELECT num_requested::text AS n FROM pg_stat_checkpointer']) {
      try {
        await this.client.query('SELECT pg_stat_clear_snapshot()');
        const res = await this.client.query<{ n: string }>(sql);
        const n = Number(res.rows[0]?.n);
        if (Number.isFinite(n)) return n;
      } catch {
        // PostgreSQL 17 moved the counter to pg_stat_checkpointer; try the other view.
      }
    }
    return null;
  }

  async describe(sql: string): Promise<Schema> {
    const body = pgQueryText(sql);
    try {
      return (await this.plan(body)).schema;
    } catch (e) {
      throw pgQueryError(e, { sql: body, sqlOffset: PROBE_PREFIX.length, action: 'describing the query' });
    }
  }

  /** Column names and types via a zero-row probe: the server plans the query but returns no rows. */
  private async plan(body: string): Promise<ReadPlan> {
    const res = await this.client.query({ text: `${PROBE_PREFIX}${body}\n) AS _rivet_probe LIMIT 0`, rowMode: 'array' });
    const fields = res.fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID, typmod: f.dataTypeModifier }));
    const catalog = await loadPgTypeCatalog(this.client, fields.map((f) => f.typeOid));
    const moneyDigits = fields.some((f) => wireOid(f.typeOid, catalog) === PgOid.money) ? await this.moneyDigits() : undefined;
    const columns: PgColumnSpec[] = [];
    const arrowFields: Field[] = [];
    const bad: Unmappable[] = [];
    for (const f of fields) {
      const wire = wireOid(f.typeOid, catalog);
      const nativeType = pgTypeName(f.typeOid, catalog);
      const override = this.overrides.get(f.name);
      const rivetType = override ?? autodetectPgType(wire, f.typmod, catalog);
      if (rivetType.kind === 'unsupported') {
        bad.push({ name: f.name, nativeType, reason: rivetType.reason, fix: overrideFix(wire, f.typmod, moneyDigits) });
        continue;
      }
      const spec: PgColumnSpec = { name: f.name, wireOid: wire, nativeType, rivetType, isEnum: isEnumOid(wire, catalog) };
      if (wire === PgOid.money) spec.moneyDigits = moneyDigits;
      const elem = arrayElementOid(wire, catalog);
      if (elem !== undefined) {
        const elemWire = wireOid(elem, catalog);
        spec.element = { wireOid: elemWire, nativeType: pgTypeName(elem, catalog), isEnum: isEnumOid(elemWire, catalog) };
      }
      const check = pgDecoderFor(spec, 1);
      if (typeof check === 'string') {
        bad.push({ name: f.name, nativeType, reason: override ? `override not applicable: ${check}` : check, fix: override ? null : overrideFix(wire, f.typmod, moneyDigits) });
        continue;
      }
      columns.push(spec);
      arrowFields.push(rivetField(f.name, rivetType, nativeType));
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

  /** The statement timeout in force for this transaction, as the server prints it ('0' = none). */
  private async statementTimeout(): Promise<string> {
    const res = await this.client.query<{ statement_timeout: string }>('SHOW statement_timeout');
    return String(res.rows[0].statement_timeout);
  }

  /** Fraction digits of `money` under this session's lc_monetary (the money → numeric cast keeps them as its scale). */
  private async moneyDigits(): Promise<number> {
    const res = await this.client.query<{ digits: number }>('SELECT scale((1::money)::numeric) AS digits');
    return Number(res.rows[0].digits);
  }

  read(sql: string, options: PgReadOptions): AsyncIterable<RecordBatch> {
    return this.readBatches(sql, options);
  }

  private async *readBatches(sql: string, options: PgReadOptions): AsyncGenerator<RecordBatch> {
    const batchSize = Math.floor(options.batchSize);
    if (!(batchSize >= 1)) throw new RivetError('CONFIG_INVALID', `batch size must be at least 1 (got ${options.batchSize})`);
    const { signal } = options;
    signal?.throwIfAborted();
    const method = readMethod(options);
    if (this.reading) throw new RivetError('INTERNAL', 'a PostgreSQL source can run only one read at a time');
    this.reading = true;
    const body = pgQueryText(sql);
    let sqlOffset = 0;
    let action = 'starting the read transaction';
    let inTransaction = false;
    let inFlight = false;
    const onAbort = () => {
      // A FETCH can run for long (the first one pays for sorts and joins): ask the server to stop it.
      if (inFlight) void this.cancelBackend();
    };
    signal?.addEventListener('abort', onAbort);
    try {
      // One read-only transaction, so every batch comes from the same snapshot.
      await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      inTransaction = true;
      if (options.statementTimeoutS && options.statementTimeoutS > 0) {
        await this.client.query(`SET LOCAL statement_timeout = ${Math.round(options.statementTimeoutS * 1000)}`);
      }
      if (options.lockTimeoutS && options.lockTimeoutS > 0) {
        await this.client.query(`SET LOCAL lock_timeout = ${Math.round(options.lockTimeoutS * 1000)}`);
      }
      await this.client.query("SET LOCAL TimeZone = 'UTC'");

      const useCopy = method === 'copy' || (method === 'auto' && !(options.throttleMs && options.throttleMs > 0) && (await this.statementTimeout()) === '0');
      this.log.debug(`PostgreSQL read method: ${useCopy ? 'binary COPY' : 'binary cursor'}${method === 'auto' ? ' (auto)' : ''}`);

      action = 'describing the query';
      sqlOffset = PROBE_PREFIX.length;
      const plan = await this.plan(body);

      action = 'reading the query';
      if (useCopy) {
        sqlOffset = COPY_PREFIX.length;
        yield* readCopyBatches(this.client, body, {
          schema: plan.schema,
          columns: plan.columns,
          batchSize,
          batchBytes: batchBudgetBytes(options.batchMemoryMb),
          maxValueMb: options.maxValueMb ?? 0,
          throttleMs: options.throttleMs,
          signal,
          cancel: () => this.cancelBackend(),
          bufferPool: options.bufferPool,
          rowCeiling: options.rowCeiling,
        });
        action = 'finishing the read';
        await this.client.query('COMMIT');
        inTransaction = false;
        return;
      }
      sqlOffset = DECLARE_PREFIX.length;
      await this.client.query(`${DECLARE_PREFIX}${body}`);

      const budget = batchBudgetBytes(options.batchMemoryMb);
      let previous: PgBatchBuilder | null = null;
      for (let want = firstBatchRows(batchSize); ; ) {
        signal?.throwIfAborted();
        const builder: PgBatchBuilder = previous
          ? previous.successor(want)
          : new PgBatchBuilder(plan.schema, plan.columns, want, options.maxValueMb ?? 0, plan.columns.map(() => new SizeMemo(options.bufferPool ?? null)));
        previous = builder;
        const fetch = new PgRawQuery(`FETCH ${want} FROM ${CURSOR}`, {
          onRowDescription: (raw) => this.checkDescription(raw, plan),
          onDataRow: (buf, start, end) => void builder.addRow(buf, start, end),
        });
        inFlight = true;
        this.client.query(fetch);
        try {
          await fetch.done;
        } finally {
          inFlight = false;
        }
        const got = { rows: builder.rows, bytes: builder.bytes };
        if (got.rows > 0) yield builder.finish();
        if (got.rows < want) break;
        want = Math.max(1, Math.min(nextBatchRows(got, batchSize, budget), options.rowCeiling?.() ?? batchSize));
        if (options.throttleMs && options.throttleMs > 0) await sleep(options.throttleMs, undefined, { signal });
      }

      action = 'finishing the read';
      await this.client.query(`CLOSE ${CURSOR}`);
      await this.client.query('COMMIT');
      inTransaction = false;
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw pgQueryError(e, { sql: body, sqlOffset, action });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Also reached when the consumer stops early: ending the transaction drops the cursor.
      if (inTransaction) await this.rollback();
      this.reading = false;
    }
  }

  readCsv(sql: string, options: PgReadOptions): AsyncIterable<CsvTextEvent> {
    return this.readCsvText(sql, options);
  }

  /**
   * The read as rivet CSV rendered from `COPY … (FORMAT csv)` (pg-csv-text.ts), in the same
   * kind of transaction as `readBatches`; `unfit` where the binary read would be a cursor or
   * a column's text cannot be taken over.
   */
  private async *readCsvText(sql: string, options: PgReadOptions): AsyncGenerator<CsvTextEvent> {
    const { signal } = options;
    signal?.throwIfAborted();
    const method = readMethod(options);
    if (method === 'cursor' || (options.throttleMs && options.throttleMs > 0)) {
      yield { kind: 'unfit', reason: 'the read goes through a cursor' };
      return;
    }
    if (this.reading) throw new RivetError('INTERNAL', 'a PostgreSQL source can run only one read at a time');
    this.reading = true;
    const body = pgQueryText(sql);
    let sqlOffset = 0;
    let action = 'starting the read transaction';
    let inTransaction = false;
    try {
      await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      inTransaction = true;
      if (options.statementTimeoutS && options.statementTimeoutS > 0) {
        await this.client.query(`SET LOCAL statement_timeout = ${Math.round(options.statementTimeoutS * 1000)}`);
      }
      if (options.lockTimeoutS && options.lockTimeoutS > 0) {
        await this.client.query(`SET LOCAL lock_timeout = ${Math.round(options.lockTimeoutS * 1000)}`);
      }
      for (const s of CSV_TEXT_SETTINGS) await this.client.query(s);
      if (method === 'auto' && (await this.statementTimeout()) !== '0') {
        yield { kind: 'unfit', reason: 'a statement timeout applies, so the read goes through a cursor' };
        return;
      }
      action = 'describing the query';
      sqlOffset = PROBE_PREFIX.length;
      const plan = await this.plan(body);
      const columns = csvTextColumns(plan.columns, (name) => this.overrides.has(name));
      if (typeof columns === 'string') {
        yield { kind: 'unfit', reason: columns };
        return;
      }
      this.log.debug('PostgreSQL read method: CSV COPY, rendered from the server text');
      const transcoder = new PgCsvTranscoder(columns, options.maxValueMb ?? 0);
      const textMax: Record<string, number> = {};
      yield { kind: 'start', schema: plan.schema, textMax };
      action = 'reading the query';
      sqlOffset = CSV_COPY_PREFIX.length;
      for await (const piece of readCsvCopy(this.client, body, { columns, maxValueMb: options.maxValueMb ?? 0, signal, cancel: () => this.cancelBackend() }, transcoder)) {
        yield { kind: 'rows', bytes: piece.bytes, rows: piece.rows };
      }
      columns.forEach((c, i) => {
        if (c.tracked && !c.name.startsWith('_rivet_')) textMax[c.name] = transcoder.textMax[i];
      });
      action = 'finishing the read';
      await this.client.query('COMMIT');
      inTransaction = false;
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw pgQueryError(e, { sql: body, sqlOffset, action });
    } finally {
      if (inTransaction) await this.rollback();
      this.reading = false;
    }
  }

  /**
   * A cancel request sent on abort can land after the FETCH it aimed at has finished and
   * cancel the ROLLBACK instead; a second attempt then ends the transaction.
   */
  private async rollback(): Promise<void> {
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        await this.client.query('ROLLBACK');
        return;
      } catch (e) {
        this.log.debug(`ROLLBACK attempt ${attempt} failed: ${(e as Error).message}`);
      }
    }
  }

  private checkDescription(raw: RawField[], plan: ReadPlan): void {
    const mismatch =
      raw.length !== plan.columns.length || raw.some((f, i) => f.format !== 1 || f.name !== plan.columns[i].name);
    if (mismatch) {
      throw new RivetError('SOURCE_QUERY', 'the cursor returned different columns than the query description (did the schema change mid-read?)', {
        hint: 'rerun the export',
      });
    }
  }

  /** Best-effort CancelRequest on a side connection (the protocol's only way to stop a running statement). */
  private cancelBackend(): Promise<void> {
    const { processID, secretKey } = this.client as unknown as { processID?: number; secretKey?: number };
    if (processID == null || secretKey == null) return Promise.resolve();
    let host = 'localhost';
    let port = 5432;
    try {
      const u = new URL(this.url);
      host = u.hostname || host;
      port = u.port ? Number(u.port) : port;
    } catch {
      return Promise.resolve();
    }
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(processID, 8);
    packet.writeInt32BE(secretKey, 12);
    return new Promise((resolve) => {
      const socket = netConnect({ host, port }, () => socket.end(packet));
      socket.setTimeout(5_000, () => socket.destroy());
      socket.on('error', (e) => this.log.debug(`PostgreSQL cancel request failed: ${e.message}`));
      // The server closes the connection once it has signalled the backend.
      socket.on('close', () => resolve());
    });
  }

  async close(): Promise<void> {
    await this.client.end().catch((e: Error) => this.log.debug(`closing the PostgreSQL connection: ${e.message}`));
  }
}

/** Connect to PostgreSQL. Column overrides are validated before any connection is made. */
export const openPostgresSource = async (options: OpenSourceOptions): Promise<PgSource> => {
  const overrides = parseColumnOverrides(options.columnOverrides);
  const client = await connectPg(options.connection, options.log);
  return new PostgresSource(client, options.connection.url, overrides, options.log);
};
