import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgRawQuery } from '../../../shared/source/postgres/pg-raw-query.js';

/**
 * Message framing of PgRawQuery over a socket whose chunk boundaries fall anywhere. The
 * server side is a plain stream here because the boundaries are what is under test; the
 * integration tests read the same code over a real PostgreSQL socket.
 */

function message(code: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = code.charCodeAt(0);
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** A fake pg.Connection: the raw query only needs its stream, `query` and `emit`. */
function fakeConnection(): { connection: pg.Connection; stream: PassThrough; ready: string[]; leftover: Buffer[] } {
  const stream = new PassThrough();
  const ready: string[] = [];
  const leftover: Buffer[] = [];
  // pg's own listener: gets whatever follows ReadyForQuery.
  stream.on('data', (chunk: Buffer) => leftover.push(Buffer.from(chunk)));
  const emitter = new EventEmitter();
  emitter.on('readyForQuery', (m: { status: string }) => ready.push(m.status));
  const connection = Object.assign(emitter, { stream, query: () => undefined }) as unknown as pg.Connection;
  return { connection, stream, ready, leftover };
}

describe('PgRawQuery framing', () => {
  // Sizes chosen so messages straddle chunks at every offset, including inside the 5-byte
  // header, and one is larger than any chunk.
  const small = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(3, 1), Buffer.alloc(700, 2), Buffer.from('hello world'), Buffer.alloc(300, 3)];
  const large = [...small.slice(0, 3), Buffer.alloc(20_000, 4), ...small.slice(3)];
  const filled = (bs: Buffer[]) => bs.map((b, i) => Buffer.from(b.map((x, k) => (x + i + k) & 0xff)));
  const wireOf = (payloads: Buffer[]) =>
    Buffer.concat([
      ...payloads.map((p) => message('d', p)),
      message('C', Buffer.from(`COPY ${payloads.length}\0`)),
      message('Z', Buffer.from('T')),
    ]);
  const trailing = Buffer.from([0x4e, 0, 0, 0, 4]);

  function run(pieces: Buffer[]): { seen: Buffer[]; ready: string[]; leftover: Buffer; result: Promise<unknown> } {
    const { connection, stream, ready, leftover } = fakeConnection();
    const seen: Buffer[] = [];
    const q = new PgRawQuery('COPY x TO STDOUT', {
      // Copy out: the handler's buffer is only valid during the call.
      onCopyData: (buf, start, end) => void seen.push(Buffer.from(buf.subarray(start, end))),
    });
    // pg's client does this when the connection replays ReadyForQuery.
    connection.on('readyForQuery', () => q.handleReadyForQuery());
    q.submit(connection);
    for (const p of pieces) stream.emit('data', p);
    return { seen, ready, leftover: Buffer.concat(leftover), result: q.done };
  }

  it('hands over every message intact wherever the chunks split, at every byte offset', async () => {
    const payloads = filled(small);
    const all = Buffer.concat([wireOf(payloads), trailing]);
    for (let cut = 0; cut <= all.length; cut++) {
      const { seen, ready, leftover, result } = run([all.subarray(0, cut), all.subarray(cut)]);
      expect(seen.length, `cut at ${cut}`).toBe(payloads.length);
      for (let i = 0; i < payloads.length; i++) expect(seen[i].equals(payloads[i]), `cut at ${cut}, message ${i}`).toBe(true);
      expect(ready).toEqual(['T']);
      // Bytes after ReadyForQuery go back to pg untouched.
      expect(leftover.equals(trailing), `cut at ${cut}`).toBe(true);
      await expect(result).resolves.toEqual({ command: `COPY ${payloads.length}`, rows: 0 });
    }
  });

  it('reassembles messages from chunks of every small size, and one larger than any chunk', async () => {
    const payloads = filled(large);
    const wire = wireOf(payloads);
    for (const step of [1, 2, 3, 4, 5, 6, 7, 11, 4095, 4096, 65_536]) {
      const pieces: Buffer[] = [];
      for (let p = 0; p < wire.length; p += step) pieces.push(Buffer.from(wire.subarray(p, p + step)));
      const { seen, ready, result } = run(pieces);
      expect(seen, `step ${step}`).toEqual(payloads);
      expect(ready).toEqual(['T']);
      await expect(result).resolves.toEqual({ command: `COPY ${payloads.length}`, rows: 0 });
    }
  });
});
