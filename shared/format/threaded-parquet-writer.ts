import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RecordBatch, Table, tableToIPC, type Schema } from 'apache-arrow';
import { RivetError, type ErrorCode } from '../errors/rivet-error.js';
import type { ByteSink, CreateFormatWriter, FormatOptions, FormatWriter } from './format-writer.js';
import type { FromEncoder, ToEncoder } from './parquet-encoder-messages.js';

/**
 * Parquet encoded on a worker thread, so fetching and decoding (main thread) overlap with
 * the wasm encoder: on the 1M-row narrow benchmark the encoder is about a third of the CPU.
 * Batches cross as Arrow IPC bytes (the buffer is transferred, not copied); encoded bytes
 * come back and go to the sink in order.
 *
 * Back-pressure: one batch in flight to the encoder, and no new batch while more than
 * MAX_PENDING_BYTES of encoded output wait for a slow sink.
 *
 * Opt-in with RIVET_PARQUET_THREADS=1 for now: on our 2-core bench machine, where the
 * database shares the cores, it gained ~10% in one A/B and nothing in the full benchmark,
 * and added 50–75 MB of peak RSS (a second V8 isolate with its own Arrow and wasm module),
 * which breaks the 256 MB budget; bench/README.md has the figures. Asking for it where the compiled worker
 * script is absent is an error rather than a silent fallback.
 */
const WORKER_URL = new URL('./parquet-encode-worker.js', import.meta.url);
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export const createThreadedParquetWriter: CreateFormatWriter = async (schema, sink, options) => {
  // Loaded only here: with the thread, the main thread never pays for the wasm module (~25 MB).
  if (!threadsAvailable()) return (await import('./parquet-file-writer.js')).createParquetFileWriter(schema, sink, options);
  const w = new ThreadedParquetWriter(sink);
  await w.open(schema, options);
  return w;
};

function threadsAvailable(): boolean {
  if (process.env.RIVET_PARQUET_THREADS !== '1') return false;
  if (WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL))) return true;
  throw new RivetError('USAGE', 'RIVET_PARQUET_THREADS=1, but the Parquet encoder thread script is not next to this build', {
    hint: `expected ${WORKER_URL.href}; unset RIVET_PARQUET_THREADS to encode on the main thread`,
  });
}

/** Idle encoder threads, reused across files; unref'd so they never keep the process alive. */
const idle: Worker[] = [];

function acquire(): Worker {
  const w = idle.pop() ?? new Worker(WORKER_URL);
  w.ref();
  return w;
}

function release(w: Worker): void {
  w.removeAllListeners('message');
  w.removeAllListeners('error');
  w.removeAllListeners('exit');
  w.unref();
  idle.push(w);
}

class ThreadedParquetWriter implements FormatWriter {
  readonly format = 'parquet' as const;
  readonly extension = 'parquet' as const;
  bytesWritten = 0;
  rowsWritten = 0;

  private worker: Worker | null = acquire();
  private answer: { resolve: (m: FromEncoder) => void; reject: (e: unknown) => void } | null = null;
  private failure: unknown = undefined;
  /** Encoded chunks not yet taken by the sink, in order. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private draining: Promise<void> | null = null;
  private state: 'open' | 'done' = 'open';

  constructor(private readonly sink: ByteSink) {
    const w = this.worker!;
    w.on('message', (m: FromEncoder) => this.onMessage(m));
    w.on('error', (e) => this.fail(new RivetError('FORMAT', `Parquet encoder thread failed: ${e.message}`, { cause: e })));
    w.on('exit', (code) => {
      if (this.worker) this.fail(new RivetError('FORMAT', `Parquet encoder thread exited (${code})`));
    });
  }

  async open(schema: Schema, options: FormatOptions): Promise<void> {
    const ipc = tableToIPC(new Table(schema), 'stream');
    // Functions cannot cross to the thread; the level warning is the in-thread writers' concern.
    const { warnOnce: _warnOnce, ...plain } = options;
    await this.ask({ type: 'open', schema: ipc, options: plain }, [ipc.buffer as ArrayBuffer]);
  }

  async write(batch: RecordBatch): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'Parquet writer used after finish or abort');
    this.throwIfFailed();
    if (batch.numRows === 0) return;
    while (this.pendingBytes > MAX_PENDING_BYTES) await this.drain();
    const ipc = tableToIPC(new Table([batch]), 'stream');
    await this.ask({ type: 'batch', ipc }, [ipc.buffer as ArrayBuffer]);
    this.rowsWritten += batch.numRows;
  }

  async finish(): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'Parquet writer finished twice or after abort');
    this.throwIfFailed();
    await this.ask({ type: 'finish' });
    while (this.pending.length > 0 || this.draining) await this.drain();
    this.throwIfFailed();
    this.state = 'done';
    const w = this.worker;
    this.worker = null;
    if (w) release(w);
  }

  abort(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.pending = [];
    this.pendingBytes = 0;
    const w = this.worker;
    this.worker = null;
    // The thread may be mid-batch; a fresh one is cheaper than reasoning about its state.
    if (w) void w.terminate();
    this.answer?.reject(new RivetError('FORMAT', 'Parquet writer aborted'));
    this.answer = null;
  }

  private ask(msg: ToEncoder, transfer: ArrayBuffer[] = []): Promise<FromEncoder> {
    const w = this.worker;
    if (!w) return Promise.reject(new RivetError('INTERNAL', 'Parquet encoder thread is gone'));
    return new Promise<FromEncoder>((resolve, reject) => {
      this.answer = { resolve, reject };
      w.postMessage(msg, transfer);
    }).then((m) => {
      this.throwIfFailed();
      return m;
    });
  }

  private onMessage(m: FromEncoder): void {
    if (m.type === 'bytes') {
      this.pending.push(m.chunk);
      this.pendingBytes += m.chunk.length;
      this.draining ??= this.pump();
      return;
    }
    if (m.type === 'error') {
      this.fail(new RivetError(m.code as ErrorCode, m.message, { hint: m.hint }));
      return;
    }
    const a = this.answer;
    this.answer = null;
    a?.resolve(m);
  }

  /** Hands encoded chunks to the sink one at a time, in arrival order. */
  private async pump(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const chunk = this.pending.shift()!;
        await this.sink.write(chunk);
        this.pendingBytes -= chunk.length;
        this.bytesWritten += chunk.length;
      }
    } catch (e) {
      // The sink's own error, untouched: the caller classifies destination errors for retries.
      this.fail(e);
    } finally {
      this.draining = null;
    }
  }

  private async drain(): Promise<void> {
    if (!this.draining) {
      if (this.pending.length > 0) this.draining = this.pump();
      else return;
    }
    await this.draining;
  }

  private fail(e: unknown): void {
    if (this.failure === undefined) this.failure = e;
    const a = this.answer;
    this.answer = null;
    a?.reject(e);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
