import { u32 } from './big-endian.js';
import pg from 'pg';
import type { Duplex } from 'node:stream';

/** One column of a RowDescription message. */
export interface RawField {
  name: string;
  tableOid: number;
  columnAttr: number;
  typeOid: number;
  typeSize: number;
  typmod: number;
  /** 0 text, 1 binary. */
  format: number;
}

/** Handlers must not keep `buf` past their call: it may be a scratch buffer reused for the next message. */
export interface RawQueryHandlers {
  onRowDescription?(fields: RawField[]): void;
  /** Body of one DataRow message: `buf[start..end)` (starts with the int16 field count). */
  onDataRow?(buf: Buffer, start: number, end: number): void;
  /** Payload of one CopyData message (for `COPY … TO STDOUT`). */
  onCopyData?(buf: Buffer, start: number, end: number): void;
  /**
   * Optional fast path for `COPY … TO STDOUT`, where the server sends one CopyData message
   * per row: a message starts at `buf[start]` with code `d`. Handle the whole messages
   * (headers included) from `start` on that lie below `end`, stopping at the first that is
   * not CopyData or not complete, and return the offset just past the last one handled.
   * Returning `start` hands that one message to the ordinary path (`onCopyData`). After a
   * throw, the messages from `start` on are skipped like any message after a handler error.
   */
  onCopyRun?(buf: Buffer, start: number, end: number): number;
}

export interface RawQueryResult {
  /** CommandComplete tag, e.g. `FETCH 10000`. */
  command: string;
  rows: number;
}

type DataListener = (chunk: Buffer) => void;

/** A scratch buffer beyond this size is dropped after its message, not kept for the next one. */
const KEEP_SCRATCH_BYTES = 1024 * 1024;

/**
 * Runs one simple-protocol statement on a `pg` client while reading the server's reply
 * ourselves. node-postgres turns every field into a JS string (even binary ones, which the
 * UTF-8 decoding then corrupts) and every row into an object; for bulk reads we want the raw
 * DataRow bytes instead. Submitted through `client.query(rawQuery)`, it waits its turn in
 * pg's queue, borrows the socket's `data` listeners until ReadyForQuery, then hands the
 * connection back, so pg's own state machine never notices.
 *
 * A handler that throws does not desynchronise the connection: the rest of the reply is
 * drained and the error is reported once the server is ready again.
 */
export class PgRawQuery implements pg.Submittable {
  readonly done: Promise<RawQueryResult>;
  private resolve!: (r: RawQueryResult) => void;
  private reject!: (e: unknown) => void;
  private stream: Duplex | null = null;
  private connection: pg.Connection | null = null;
  private saved: DataListener[] = [];
  /** The first bytes of a message whose 5-byte header straddles two socket chunks. */
  private readonly head = Buffer.alloc(5);
  private headLen = 0;
  /** Scratch buffer assembling one message that straddles socket chunks; reused across messages. */
  private scratch: Buffer = Buffer.alloc(0);
  /** Size of the message being assembled in `scratch` (0: none), and how much of it arrived. */
  private partTotal = 0;
  private partFilled = 0;
  private error: unknown = null;
  private command = '';
  private rows = 0;
  private settled = false;
  private paused = false;

  constructor(
    readonly text: string,
    private readonly handlers: RawQueryHandlers = {},
  ) {
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  /** Called by pg when this query reaches the front of its queue. */
  submit(connection: pg.Connection): void {
    this.connection = connection;
    const stream = connection.stream;
    this.stream = stream;
    this.saved = stream.listeners('data') as DataListener[];
    for (const l of this.saved) stream.removeListener('data', l);
    stream.on('data', this.onData);
    connection.query(this.text);
  }

  /**
   * Stop reading the socket (backpressure for a long `COPY … TO STDOUT`): the server blocks
   * once the kernel buffers fill. Messages already received in the current chunk are still
   * handled. A no-op once the reply is complete.
   */
  pause(): void {
    if (this.stream && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
  }

  resume(): void {
    if (this.stream && this.paused) {
      this.paused = false;
      this.stream.resume();
    }
  }

  /** pg calls this when the connection fails under us (socket closed, client ended). */
  handleError(err: unknown): void {
    this.restore(null);
    this.settle(err);
  }

  /** pg calls this after we replay ReadyForQuery to it. */
  handleReadyForQuery(): void {
    this.settle(this.error);
  }

  private settle(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (err) this.reject(err);
    else this.resolve({ command: this.command, rows: this.rows });
  }

  private restore(leftover: Buffer | null): void {
    const stream = this.stream;
    if (!stream) return;
    this.stream = null;
    if (this.paused) {
      // Never hand pg a paused socket.
      this.paused = false;
      stream.resume();
    }
    stream.removeListener('data', this.onData);
    for (const l of this.saved) stream.on('data', l);
    if (leftover && leftover.length > 0) for (const l of this.saved) l(leftover);
  }

  /**
   * Messages that lie wholly inside a socket chunk are handled in place. Only a message that
   * straddles chunks is copied, once, into `scratch`: re-concatenating the unconsumed tail with
   * each next chunk would copy every byte of a wide-row read again and churn a fresh buffer per
   * chunk. Handlers therefore see `buf` only for the duration of their call.
   */
  private readonly onData = (chunk: Buffer): void => {
    let pos = 0;
    if (this.headLen > 0) {
      const take = Math.min(5 - this.headLen, chunk.length);
      chunk.copy(this.head, this.headLen, 0, take);
      this.headLen += take;
      pos = take;
      if (this.headLen < 5) return;
      this.headLen = 0;
      this.startPart(this.head, 0, 5);
    }
    if (this.partTotal > 0) {
      const take = Math.min(this.partTotal - this.partFilled, chunk.length - pos);
      chunk.copy(this.scratch, this.partFilled, pos, pos + take);
      this.partFilled += take;
      pos += take;
      if (this.partFilled < this.partTotal) return;
      const total = this.partTotal;
      this.partTotal = 0;
      const done = this.handle(this.scratch, 0, total);
      // Do not keep a multi-MB scratch buffer alive once the big message is through.
      if (this.scratch.length > KEEP_SCRATCH_BYTES) this.scratch = Buffer.alloc(0);
      if (done) return this.finish(chunk.subarray(pos));
    }
    const run = this.handlers.onCopyRun;
    while (chunk.length - pos >= 5) {
      // One call per run of CopyData messages rather than several per row.
      if (run !== undefined && chunk[pos] === 0x64 && this.error === null) {
        const p = this.copyRun(run, chunk, pos);
        if (p !== pos) {
          pos = p;
          continue;
        }
      }
      const total = 1 + u32(chunk, pos + 1);
      const end = pos + total;
      if (end > chunk.length) {
        this.startPart(chunk, pos, chunk.length);
        return;
      }
      if (this.handle(chunk, pos, end)) return this.finish(chunk.subarray(end));
      pos = end;
    }
    if (pos < chunk.length) this.headLen = chunk.copy(this.head, 0, pos);
  };

  private copyRun(run: NonNullable<RawQueryHandlers['onCopyRun']>, chunk: Buffer, pos: number): number {
    try {
      return run(chunk, pos, chunk.length);
    } catch (e) {
      this.error = e;
      return pos;
    }
  }

  /** Begin assembling a straddling message from its first bytes `buf[start..end)` (at least its header). */
  private startPart(buf: Buffer, start: number, end: number): void {
    const total = 1 + buf.readUInt32BE(start + 1);
    if (this.scratch.length < total) this.scratch = Buffer.allocUnsafeSlow(Math.max(total, 16 * 1024));
    this.partTotal = total;
    this.partFilled = buf.copy(this.scratch, 0, start, end);
  }

  private finish(leftover: Buffer): void {
    const status = this.lastStatus;
    this.restore(leftover);
    // Let pg see the ReadyForQuery it missed: it settles us and moves on to its next query.
    this.connection?.emit('readyForQuery', { name: 'readyForQuery', length: 5, status });
  }

  private lastStatus = 'I';

  /** Handle the message at buf[start..end); true on ReadyForQuery. */
  private handle(buf: Buffer, start: number, end: number): boolean {
    const code = buf[start];
    const body = start + 5;
    switch (code) {
      case 0x44 /* D DataRow */:
        this.rows++;
        if (this.error === null && this.handlers.onDataRow) {
          try {
            this.handlers.onDataRow(buf, body, end);
          } catch (e) {
            this.error = e;
          }
        }
        return false;
      case 0x64 /* d CopyData */:
        if (this.error === null && this.handlers.onCopyData) {
          try {
            this.handlers.onCopyData(buf, body, end);
          } catch (e) {
            this.error = e;
          }
        }
        return false;
      case 0x54 /* T RowDescription */:
        if (this.error === null && this.handlers.onRowDescription) {
          try {
            this.handlers.onRowDescription(parseRowDescription(buf, body));
          } catch (e) {
            this.error = e;
          }
        }
        return false;
      case 0x43 /* C CommandComplete */: {
        this.command = buf.toString('utf8', body, end - 1);
        return false;
      }
      case 0x45 /* E ErrorResponse */:
        // The server error wins over a handler error: it is the root cause.
        this.error = parseErrorResponse(buf, body, end);
        return false;
      case 0x5a /* Z ReadyForQuery */:
        this.lastStatus = String.fromCharCode(buf[body]);
        return true;
      default:
        // NoticeResponse, ParameterStatus, NotificationResponse, EmptyQueryResponse,
        // CopyOutResponse/CopyDone: nothing to do for a read.
        return false;
    }
  }
}

function parseRowDescription(buf: Buffer, off: number): RawField[] {
  const n = buf.readInt16BE(off);
  let p = off + 2;
  const fields: RawField[] = [];
  for (let i = 0; i < n; i++) {
    const nul = buf.indexOf(0, p);
    const name = buf.toString('utf8', p, nul);
    p = nul + 1;
    fields.push({
      name,
      tableOid: buf.readUInt32BE(p),
      columnAttr: buf.readInt16BE(p + 4),
      typeOid: buf.readUInt32BE(p + 6),
      typeSize: buf.readInt16BE(p + 10),
      typmod: buf.readInt32BE(p + 12),
      format: buf.readInt16BE(p + 16),
    });
    p += 18;
  }
  return fields;
}

/** An ErrorResponse as pg's own DatabaseError, so error handling does not care who parsed it. */
function parseErrorResponse(buf: Buffer, start: number, end: number): pg.DatabaseError {
  const f: Record<string, string> = {};
  let p = start;
  while (p < end && buf[p] !== 0) {
    const key = String.fromCharCode(buf[p]);
    const nul = buf.indexOf(0, p + 1);
    f[key] = buf.toString('utf8', p + 1, nul);
    p = nul + 1;
  }
  const err = new pg.DatabaseError(f.M ?? 'unknown server error', end - start + 4, 'error');
  Object.assign(err, {
    severity: f.V ?? f.S,
    code: f.C,
    detail: f.D,
    hint: f.H,
    position: f.P,
    internalPosition: f.p,
    internalQuery: f.q,
    where: f.W,
    schema: f.s,
    table: f.t,
    column: f.c,
    dataType: f.d,
    constraint: f.n,
    file: f.F,
    line: f.L,
    routine: f.R,
  });
  return err;
}
