import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgRawQuery, type RawQueryHandlers } from '../../../shared/source/postgres/pg-raw-query.js';

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

  /**
   * A run handler that takes a varying number (none to all) of the whole CopyData messages it
   * is offered, so both paths and their hand-overs are exercised; `fail` makes its n-th call throw.
   */
  function copyRun(seen: Buffer[], fail = 0): NonNullable<RawQueryHandlers['onCopyRun']> {
    let calls = 0;
    return (buf, start, end) => {
      calls++;
      if (buf[start] !== 0x64) throw new Error(`onCopyRun called at a '${String.fromCharCode(buf[start])}' message`);
      if (calls === fail) throw new Error('run handler failed');
      const take = calls % 4 === 0 ? 0 : calls % 4 === 1 ? Infinity : calls % 3;
      let p = start;
      for (let n = 0; n < take && end - p >= 5 && buf[p] === 0x64; n++) {
        const next = p + 1 + buf.readUInt32BE(p + 1);
        if (next > end) break;
        seen.push(Buffer.from(buf.subarray(p + 5, next)));
        p = next;
      }
      return p;
    };
  }

  function run(pieces: Buffer[], withRun = false): { seen: Buffer[]; ready: string[]; leftover: Buffer; result: Promise<unknown> } {
    const { connection, stream, ready, leftover } = fakeConnection();
    const seen: Buffer[] = [];
    const q = new PgRawQuery('COPY x TO STDOUT', {
      // Copy out: the handler's buffer is only valid during the call.
      onCopyData: (buf, start, end) => void seen.push(Buffer.from(buf.subarray(start, end))),
      ...(withRun ? { onCopyRun: copyRun(seen) } : {}),
    });
    // pg's client does this when the connection replays ReadyForQuery.
    connection.on('readyForQuery', () => q.handleReadyForQuery());
    q.submit(connection);
    for (const p of pieces) stream.emit('data', p);
    return { seen, ready, leftover: Buffer.concat(leftover), result: q.done };
  }

  it.each([false, true])('hands over every message intact wherever the chunks split, at every byte offset (run handler: %s)', async (withRun) => {
    const payloads = filled(small);
    const all = Buffer.concat([wireOf(payloads), trailing]);
    for (let cut = 0; cut <= all.length; cut++) {
      const { seen, ready, leftover, result } = run([all.subarray(0, cut), all.subarray(cut)], withRun);
      expect(seen.length, `cut at ${cut}`).toBe(payloads.length);
      for (let i = 0; i < payloads.length; i++) expect(seen[i].equals(payloads[i]), `cut at ${cut}, message ${i}`).toBe(true);
      expect(ready).toEqual(['T']);
      // Bytes after ReadyForQuery go back to pg untouched.
      expect(leftover.equals(trailing), `cut at ${cut}`).toBe(true);
      await expect(result).resolves.toEqual({ command: `COPY ${payloads.length}`, rows: 0 });
    }
  });

  it.each([false, true])('reassembles messages from chunks of every small size, and one larger than any chunk (run handler: %s)', async (withRun) => {
    const payloads = filled(large);
    const wire = wireOf(payloads);
    for (const step of [1, 2, 3, 4, 5, 6, 7, 11, 4095, 4096, 65_536]) {
      const pieces: Buffer[] = [];
      for (let p = 0; p < wire.length; p += step) pieces.push(Buffer.from(wire.subarray(p, p + step)));
      const { seen, ready, result } = run(pieces, withRun);
      expect(seen, `step ${step}`).toEqual(payloads);
      expect(ready).toEqual(['T']);
      await expect(result).resolves.toEqual({ command: `COPY ${payloads.length}`, rows: 0 });
    }
  });

  it('skips the rest of the COPY after a run handler throws, and a server error wins over it', async () => {
    const payloads = filled(small);
    for (const serverError of [false, true]) {
      const { connection, stream, ready, leftover } = fakeConnection();
      const seen: Buffer[] = [];
      const q = new PgRawQuery('COPY x TO STDOUT', {
        onCopyData: (buf, start, end) => void seen.push(Buffer.from(buf.subarray(start, end))),
        onCopyRun: copyRun(seen, 2),
      });
      connection.on('readyForQuery', () => q.handleReadyForQuery());
      q.submit(connection);
      const error = message('E', Buffer.from('SERROR\0C57014\0Mcanceling statement due to user request\0\0'));
      const first = Buffer.concat(payloads.slice(0, 2).map((p) => message('d', p)));
      const rest = Buffer.concat([...payloads.slice(2).map((p) => message('d', p)), ...(serverError ? [error] : []), message('Z', Buffer.from('I')), trailing]);
      // The first call takes the whole first chunk; the second, at the next chunk, throws.
      stream.emit('data', first);
      stream.emit('data', rest);
      expect(seen).toEqual(payloads.slice(0, 2));
      expect(ready).toEqual(['I']);
      expect(Buffer.concat(leftover).equals(trailing)).toBe(true);
      if (serverError) await expect(q.done).rejects.toMatchObject({ code: '57014' });
      else await expect(q.done).rejects.toThrow('run handler failed');
    }
  });
});
