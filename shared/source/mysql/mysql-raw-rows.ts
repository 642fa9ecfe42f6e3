import type { Query } from 'mysql2';

/** The parts of mysql2's Packet the row hook reads (mysql2 3.x, lib/packets/packet.js). */
interface RawPacket {
  buffer: Buffer;
  /** First byte of the payload (after the 4-byte header). */
  offset: number;
  /** One past the payload's last byte. */
  end: number;
  isEOF(): boolean;
}

/** A state of mysql2's command state machine: it handles one packet and returns the next state. */
type State = (this: unknown, packet: RawPacket, connection: unknown) => unknown;

/**
 * Hand every row of `query` to `onRow` as the payload of its text-protocol row packet,
 * instead of letting mysql2 parse it into an array with one Buffer per value and emit a
 * 'result' event: on a narrow table those per-value Buffers were most of the read's CPU
 * (issue 18). The payload is only valid during the call (mysql2 reuses its packet object
 * and the socket's chunk).
 *
 * This replaces the Query command's `row` state on this one query object: mysql2 enters
 * it through `this.row` once the column definitions are read, and every state returns the
 * next one, so the replacement keeps returning itself; the end-of-rows packet goes to
 * mysql2's own `row`, which finishes the command as usual. Returns false when the mysql2
 * in use does not have that shape; the caller then reads the 'result' events.
 */
export function routeRawRows(query: Query, onRow: (buf: Buffer, start: number, end: number) => void): boolean {
  const q = query as unknown as { row?: State };
  const own = (Object.getPrototypeOf(q) as { row?: State } | null)?.row;
  if (typeof own !== 'function' || q.row !== own) return false;
  const row: State = function (this: unknown, packet, connection) {
    if (packet.isEOF()) return own.call(this, packet, connection);
    onRow(packet.buffer, packet.offset, packet.end);
    return row;
  };
  q.row = row;
  return true;
}
