import { parentPort } from 'node:worker_threads';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import { RivetError, errorChain } from '../errors/rivet-error.js';
import type { FormatOptions, FormatWriter } from './format-writer.js';
import { createParquetFileWriter } from './parquet-file-writer.js';
import type { ToEncoder, FromEncoder } from './parquet-encoder-messages.js';

/**
 * The Parquet encoder's thread. It runs the ordinary in-thread ParquetWriter on batches that
 * arrive as Arrow IPC bytes, and sends the encoded bytes back, so the source's decoding on
 * the main thread and the wasm encoding here run on two cores at once. One file at a time;
 * the thread is reused for the next file.
 */
const port = parentPort;
if (!port) throw new Error('parquet-encode-worker must run as a worker thread');

let writer: FormatWriter | null = null;

function post(msg: FromEncoder, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function failure(e: unknown): FromEncoder {
  if (e instanceof RivetError) return { type: 'error', code: e.code, message: e.message, hint: e.hint };
  return { type: 'error', code: 'FORMAT', message: `Parquet encoding failed: ${errorChain(e)}` };
}

function onlyBatch(bytes: Uint8Array): RecordBatch {
  const table = tableFromIPC(bytes);
  if (table.batches.length !== 1) throw new RivetError('INTERNAL', `encoder expected one batch, got ${table.batches.length}`);
  return table.batches[0];
}

async function handle(msg: ToEncoder): Promise<void> {
  switch (msg.type) {
    case 'open': {
      const schema = tableFromIPC(msg.schema).schema;
      const options: FormatOptions = msg.options;
      writer = await createParquetFileWriter(schema, {
        write: async (chunk) => {
          // A copy we can transfer: the chunk may be a view into memory the writer reuses.
          // (Buffer#slice would be a view: transferring it would detach the writer's own bytes.)
          const copy = new Uint8Array(chunk);
          post({ type: 'bytes', chunk: copy }, [copy.buffer as ArrayBuffer]);
        },
      }, options);
      post({ type: 'ready' });
      return;
    }
    case 'batch':
      if (!writer) throw new RivetError('INTERNAL', 'encoder got a batch before open');
      await writer.write(onlyBatch(msg.ipc));
      post({ type: 'ready' });
      return;
    case 'finish':
      if (!writer) throw new RivetError('INTERNAL', 'encoder got finish before open');
      await writer.finish();
      writer = null;
      post({ type: 'finished' });
      return;
    case 'abort':
      writer?.abort();
      writer = null;
      post({ type: 'aborted' });
      return;
  }
}

// Messages are handled strictly one after another: the main side never sends the next
// before the previous one is answered, but the chain keeps that true even if it did.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: ToEncoder) => {
  chain = chain.then(
    () => handle(msg),
    () => handle(msg),
  ).catch((e: unknown) => {
    writer?.abort();
    writer = null;
    post(failure(e));
  });
});
