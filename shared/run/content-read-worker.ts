import { parentPort } from 'node:worker_threads';
import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';

/**
 * Reads one Parquet part for `verify: content` with parquet-wasm's reader, in a thread of its
 * own: a malformed part can make the reader panic, and a wasm panic inside its async stream
 * surfaces as an uncaught error that would take the whole process (and the encoder's wasm
 * instance) down with it. Here it only ends this thread. The part's bytes are asked of the
 * main thread range by range (it holds the destination), one row group at a time.
 *
 * Self-contained on purpose (no runtime imports from the rest of rivet): under the test
 * runner it is compiled on the fly from this one file.
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

function blob(start: number, end: number): Blob {
  const b = {
    size: end - start,
    slice: (from = 0, to = end - start) => blob(start + from, start + Math.min(to, end - start)),
    arrayBuffer: () =>
      new Promise<ArrayBuffer>((resolve, reject) => {
        const req = nextReq++;
        waiting.set(req, { resolve, reject });
        port!.postMessage({ type: 'range', req, offset: start, length: end - start } satisfies FromContentReader);
      }),
  };
  return b as unknown as Blob;
}

async function read(size: number): Promise<{ rows: number; nulls: number[] }> {
  const file = await pw.ParquetFile.fromFile(blob(0, size));
  try {
    let rows = 0;
    const nulls: number[] = [];
    const groups = file.metadata().numRowGroups();
    for (let g = 0; g < groups; g++) {
      const stream = await file.stream({ rowGroups: [g], batchSize: 8192 });
      for await (const wasmBatch of stream as unknown as AsyncIterable<pw.RecordBatch>) {
        const table = tableFromIPC(wasmBatch.intoIPCStream());
        rows += table.numRows;
        for (let c = 0; c < table.numCols; c++) nulls[c] = (nulls[c] ?? 0) + (table.getChildAt(c)?.nullCount ?? 0);
      }
    }
    if (nulls.length === 0) nulls.push(...tableFromIPC(file.schema().intoIPCStream()).schema.fields.map(() => 0));
    return { rows, nulls };
  } finally {
    file.free();
  }
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
  read(msg.size).then(
    (r) => port.postMessage({ type: 'done', ...r } satisfies FromContentReader),
    (e: unknown) => port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies FromContentReader),
  );
});
