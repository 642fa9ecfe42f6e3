import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

/**
 * A FAKE SQL Server for tests: a few hundred lines that speak enough TDS 7.4 (MS-TDS) to let
 * the real tedious driver log in, run batches, stream rows and be cancelled. It is NOT SQL
 * Server: it parses no SQL (it matches the text against a few patterns) and answers with
 * canned result sets. It exists because no SQL Server can run on the CI machines, so that
 * rivet's read loop (batching, pause/resume, cancel, timeouts, error tokens) is exercised
 * against real sockets and the real driver. docs/sources/sqlserver.md says what it proves.
 */

const PKT = { SQL_BATCH: 0x01, TABULAR: 0x04, ATTENTION: 0x06, LOGIN7: 0x10, PRELOGIN: 0x12 } as const;
const TOKEN = { COLMETADATA: 0x81, ROW: 0xd1, DONE: 0xfd, LOGINACK: 0xad, ERROR: 0xaa } as const;
const DONE_COUNT = 0x10;
const DONE_ERROR = 0x02;
const DONE_ATTN = 0x20;
const COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]); // Latin1_General_CI_AS

export interface FakeColumn {
  name: string;
  /** TYPE_INFO bytes (type id + length/precision/scale/collation). */
  typeInfo: Buffer;
  /** Cell bytes of a value as they appear in a ROW token. */
  encode(v: unknown): Buffer;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function le(n: bigint, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  let v = BigInt.asUintN(bytes * 8, n);
  for (let i = 0; i < bytes; i++) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}
const bVarchar = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'utf16le')]);
const usVarchar = (s: string) => Buffer.concat([u16(s.length), Buffer.from(s, 'utf16le')]);

export const col = {
  int: (name: string): FakeColumn => ({
    name,
    typeInfo: Buffer.from([0x26, 4]),
    encode: (v) => (v === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([4]), le(BigInt(v as number), 4)])),
  }),
  bigint: (name: string): FakeColumn => ({
    name,
    typeInfo: Buffer.from([0x26, 8]),
    encode: (v) => (v === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([8]), le(BigInt(v as number | bigint), 8)])),
  }),
  nvarchar: (name: string, chars = 100): FakeColumn => ({
    name,
    typeInfo: Buffer.concat([Buffer.from([0xe7]), u16(chars * 2), COLLATION]),
    encode: (v) => (v === null ? Buffer.from([0xff, 0xff]) : usVarcharBytes(v as string)),
  }),
  /** decimal(p,s) with the unscaled value given as a bigint. */
  decimal: (name: string, precision: number, scale: number): FakeColumn => ({
    name,
    typeInfo: Buffer.from([0x6a, 17, precision, scale]),
    encode: (v) => {
      if (v === null) return Buffer.from([0]);
      const n = v as bigint;
      return Buffer.concat([Buffer.from([17, n >= 0n ? 1 : 0]), le(n >= 0n ? n : -n, 16)]);
    },
  }),
};

function usVarcharBytes(s: string): Buffer {
  const body = Buffer.from(s, 'utf16le');
  return Buffer.concat([u16(body.length), body]);
}

export interface FakeResult {
  columns: FakeColumn[];
  rows: unknown[][];
  /** Wait this long before answering (statement-timeout tests). */
  delayMs?: number;
}

export type FakeAnswer = FakeResult | { error: { number: number; message: string } } | 'done';

export interface FakeTdsServer {
  port: number;
  /** The self-signed certificate (PEM) of a TLS server, to trust as `tls.ca_file`. */
  caFile?: string;
  /** Every SQL batch received, in order. */
  batches: string[];
  /** Attention (cancel) packets received. */
  attentions: number;
  /** Rows actually written to the socket per result, for backpressure checks. */
  rowsSent: number[];
  close(): Promise<void>;
}

let certCache: { key: Buffer; cert: Buffer; certFile: string } | undefined;
function selfSignedCert(): { key: Buffer; cert: Buffer; certFile: string } {
  if (certCache) return certCache;
  const dir = mkdtempSync(path.join(tmpdir(), 'rivet-fake-tds-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  certCache = { key: readFileSync(key), cert: readFileSync(cert), certFile: cert };
  return certCache;
}

function packet(type: number, payload: Buffer, last = true): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = last ? 0x01 : 0x00;
  h.writeUInt16BE(payload.length + 8, 2);
  h[6] = 1;
  return Buffer.concat([h, payload]);
}

/** A TDS message split into packets of at most 4096 bytes. */
function message(payload: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < payload.length || i === 0; i += 4088) out.push(packet(PKT.TABULAR, payload.subarray(i, i + 4088), i + 4088 >= payload.length));
  return out;
}

function done(status: number, rowCount = 0): Buffer {
  return Buffer.concat([Buffer.from([TOKEN.DONE]), u16(status), u16(0xc1), le(BigInt(rowCount), 8)]);
}

function preloginResponse(encryption: number): Buffer {
  // option tokens: VERSION(0), ENCRYPTION(1), INSTOPT(2), THREADID(3), MARS(4), then 0xFF
  const data = [Buffer.from([16, 0, 0x07, 0xd0, 0, 0]), Buffer.from([encryption]), Buffer.from([0]), Buffer.alloc(4), Buffer.from([0])];
  const headerLen = data.length * 5 + 1;
  const heads: Buffer[] = [];
  let off = headerLen;
  data.forEach((d, i) => {
    const h = Buffer.alloc(5);
    h[0] = i;
    h.writeUInt16BE(off, 1);
    h.writeUInt16BE(d.length, 3);
    heads.push(h);
    off += d.length;
  });
  return Buffer.concat([...heads, Buffer.from([0xff]), ...data]);
}

function loginAck(): Buffer {
  const body = Buffer.concat([Buffer.from([1]), Buffer.from([0x74, 0x00, 0x00, 0x04]), bVarchar('fake-tds'), Buffer.from([16, 0, 0x07, 0xd0])]);
  return Buffer.concat([Buffer.from([TOKEN.LOGINACK]), u16(body.length), body]);
}

function errorToken(number: number, msg: string): Buffer {
  const body = Buffer.concat([u32(number), Buffer.from([1, 16]), usVarchar(msg), bVarchar('fake-tds'), bVarchar(''), u32(1)]);
  return Buffer.concat([Buffer.from([TOKEN.ERROR]), u16(body.length), body]);
}

function colMetadata(columns: FakeColumn[]): Buffer {
  return Buffer.concat([
    Buffer.from([TOKEN.COLMETADATA]),
    u16(columns.length),
    ...columns.flatMap((c) => [u32(0), u16(0x0001), c.typeInfo, bVarchar(c.name)]),
  ]);
}

/**
 * Start a fake server. `answer` maps a batch's SQL text to a result; `tls: 'strict'` speaks
 * TLS from the first byte (TDS 8.0, what `?encrypt=strict` asks for), `tls: 'none'`
 * answers the prelogin with "encryption not supported" and never starts TLS.
 */
export async function startFakeTds(answer: (sql: string) => FakeAnswer, options: { tls: 'strict' | 'none' } = { tls: 'strict' }): Promise<FakeTdsServer> {
  const state: FakeTdsServer = { port: 0, batches: [], attentions: 0, rowsSent: [], close: async () => undefined };
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let msgType = -1;
    let msgParts: Buffer[] = [];
    let attention = false;
    let streaming: Promise<void> = Promise.resolve();

    const write = (bufs: Buffer[]): Promise<void> =>
      new Promise((resolve) => {
        let ok = true;
        for (const b of bufs) ok = socket.write(b) && ok;
        if (ok) setImmediate(resolve);
        else socket.once('drain', () => resolve());
      });

    const respond = async (sql: string) => {
      state.batches.push(sql);
      const a = answer(sql);
      if (a === 'done') return write(message(done(0)));
      if ('error' in a) return write(message(Buffer.concat([errorToken(a.error.number, a.error.message), done(DONE_ERROR)])));
      if (a.delayMs) {
        const until = Date.now() + a.delayMs;
        while (Date.now() < until && !attention) await new Promise((r) => setTimeout(r, 10));
      }
      const head = sql.trimStart().toUpperCase().startsWith('SELECT TOP 0') ? [] : a.rows;
      let sent = 0;
      state.rowsSent.push(0);
      const slot = state.rowsSent.length - 1;
      let chunk: Buffer[] = [colMetadata(a.columns)];
      for (const row of head) {
        if (attention) break;
        chunk.push(Buffer.from([TOKEN.ROW]), ...row.map((v, i) => a.columns[i].encode(v)));
        sent++;
        if (chunk.length > 400) {
          // One message, many packets: write what we have and let the socket drain (backpressure).
          const payload = Buffer.concat(chunk);
          for (let i = 0; i < payload.length; i += 4088) await write([packet(PKT.TABULAR, payload.subarray(i, i + 4088), false)]);
          state.rowsSent[slot] = sent;
          chunk = [];
        }
      }
      state.rowsSent[slot] = sent;
      if (attention) {
        // End the cut-short response, then acknowledge the attention in a message of its own (MS-TDS 3.2.5.7).
        attention = false;
        await write(message(Buffer.concat([...chunk, done(0)])));
        return write(message(done(DONE_ATTN)));
      }
      return write(message(Buffer.concat([...chunk, done(DONE_COUNT, sent)])));
    };

    const onMessage = (type: number, payload: Buffer) => {
      switch (type) {
        case PKT.PRELOGIN:
          void write([packet(PKT.TABULAR, preloginResponse(options.tls === 'none' ? 0x02 : 0x00))]);
          break;
        case PKT.LOGIN7:
          void write(message(Buffer.concat([loginAck(), done(0)])));
          break;
        case PKT.SQL_BATCH: {
          const headers = payload.readUInt32LE(0);
          const sql = payload.subarray(headers).toString('utf16le');
          streaming = streaming.then(() => respond(sql));
          break;
        }
        case PKT.ATTENTION:
          state.attentions++;
          attention = true;
          // Acknowledge after the current response (or at once when idle).
          streaming = streaming.then(async () => {
            if (attention) {
              attention = false;
              await write(message(done(DONE_ATTN)));
            }
          });
          break;
      }
    };

    socket.on('data', (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      while (buffered.length >= 8) {
        const len = buffered.readUInt16BE(2);
        if (buffered.length < len) break;
        const type = buffered[0];
        const last = (buffered[1] & 0x01) === 1;
        if (type === PKT.ATTENTION) {
          onMessage(type, Buffer.alloc(0));
        } else {
          if (msgType !== type) msgParts = [];
          msgType = type;
          msgParts.push(buffered.subarray(8, len));
          if (last) {
            onMessage(type, Buffer.concat(msgParts));
            msgParts = [];
            msgType = -1;
          }
        }
        buffered = buffered.subarray(len);
      }
    });
  };

  let server: Server;
  if (options.tls === 'strict') {
    const { key, cert, certFile } = selfSignedCert();
    state.caFile = certFile;
    server = createTlsServer({ key, cert, ALPNProtocols: ['tds/8.0'] }, onSocket);
  } else {
    server = createTcpServer(onSocket);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
