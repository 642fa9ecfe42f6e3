import { parentPort } from 'node:worker_threads';
import { countParquetContent } from './parquet-content-counts.js';

/**
 * Reads one Parquet part for `verify: content` with parquet-wasm's reader, in a thread of its
 * own: a malformed part can make the reader panic, and a wasm panic inside its async stream
 * surfaces as an uncaught error that would take the whole process (and the encoder's wasm
 * instance) down with it. Here it only ends this thread. The part's bytes are asked of the
 * main thread range by range (it holds the destination), one row group at a time.
 *
 * It runs only from the built script (content-verify.ts); the counting itself is
 * parquet-content-counts.ts, shared with the in-thread path.
 */
export type ToContentReader = { type: 'start'; size: number } | { type: 'range'; req: number; bytes?: Uint8Array; error?: string };
export type FromContentReader =
  | { type: 'range'; req: number; offset: number; length: number }
  | { type: 'done'; rows: number; nulls: number[] }
  | { type: 'error'; message: string };

const port = parentPort;
if (!port) throw new Error('content-read-worker must run as a worker thread');

let nextReq = 0;
const waiting = new Map<number, { resolve(b: ArrayBuffer): void; reject(e: Error): void }>();

/** The part's bytes, asked of the main thread (it holds the destination). */
function readRange(offset: number, length: number): Promise<ArrayBuffer> {
  return new Promise<ArrayBuffer>((resolve, reject) => {
    const req = nextReq++;
    waiting.set(req, { resolve, reject });
    port!.postMessage({ type: 'range', req, offset, length } satisfies FromContentReader);
  });
}

port.on('message', (msg: ToContentReader) => {
  if (msg.type === 'range') {
    const w = waiting.get(msg.req);
    waiting.delete(msg.req);
    if (!w) return;
    if (msg.bytes) w.resolve(msg.bytes.buffer.slice(msg.bytes.byteOffset, msg.bytes.byteOffset + msg.bytes.byteLength) as ArrayBuffer);
    else w.reject(new Error(msg.error ?? 'the range could not be read'));
    return;
  }
  countParquetContent(readRange, msg.size).then(
    (r) => port.postMessage({ type: 'done', ...r } satisfies FromContentReader),
    (e: unknown) => port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies FromContentReader),
  );
});
