import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Compression } from './format-writer.js';
import type { CompressReply, CompressRequest } from './page-compress-messages.js';

const WORKER_URL = new URL('./page-compress-worker.js', import.meta.url);

/**
 * Bytes of page bodies handed to the compression threads and not yet back. Past it the
 * encoder waits, so a slow codec holds back the source instead of piling pages up in memory.
 */
export const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

interface Pending {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
  bytes: number;
}

/**
 * Compression threads shared by every Parquet file of the process (chunked runs write
 * several at once). One thread per spare core, at least one, at most four: on two cores the
 * main thread and the database already need a core between them.
 */
export class PageCompressPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextWorker = 0;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private broken: Error | null = null;

  private constructor(private readonly size: number) {}

  /** The process-wide pool, or null where the worker script is not next to this build (vitest on sources, one-file bundles). */
  static shared(): PageCompressPool | null {
    if (process.env.RIVET_PARQUET_COMPRESS_THREADS === '0') return null;
    if (sharedPool === undefined) {
      const present = WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
      const size = Number(process.env.RIVET_PARQUET_COMPRESS_THREADS ?? Math.max(1, Math.min(4, availableParallelism() - 1)));
      sharedPool = present ? new PageCompressPool(Number.isInteger(size) && size > 0 ? size : 1) : null;
    }
    return sharedPool;
  }

  /** Compress `body` on a thread. `body` must own its whole ArrayBuffer: it is transferred. */
  compress(body: Uint8Array, compression: Compression, level: number | undefined): Promise<Uint8Array> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    const worker = this.worker();
    this.inFlight += body.byteLength;
    const bytes = body.byteLength;
    const done = new Promise<Uint8Array>((resolve, reject) => this.pending.set(id, { resolve, reject, bytes }));
    const msg: CompressRequest = { id, compression, body, ...(level !== undefined ? { level } : {}) };
    worker.ref();
    worker.postMessage(msg, [body.buffer as ArrayBuffer]);
    return done;
  }

  /** Count a compression running elsewhere (libuv's pool) against the same in-flight bound. */
  track(work: Promise<Uint8Array>, bytes: number): Promise<Uint8Array> {
    this.inFlight += bytes;
    const done = (): void => {
      this.inFlight -= bytes;
      this.wakeWaiters();
    };
    work.then(done, done);
    return work;
  }

  /** Resolves once at most `limit` bytes are in flight. */
  async settle(limit = MAX_IN_FLIGHT_BYTES): Promise<void> {
    while (this.inFlight > limit && !this.broken) await new Promise<void>((r) => this.waiters.push(r));
  }

  private worker(): Worker {
    if (this.workers.length < this.size) {
      const w = new Worker(WORKER_URL);
      w.on('message', (m: CompressReply) => this.onReply(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`Parquet compression thread exited with code ${code}`));
      });
      this.workers.push(w);
    }
    const w = this.workers[this.nextWorker];
    this.nextWorker = (this.nextWorker + 1) % this.size;
    return w;
  }

  private onReply(m: CompressReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.inFlight -= p.bytes;
    if ('error' in m) p.reject(new Error(m.error));
    else p.resolve(m.bytes);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    this.wakeWaiters();
  }

  private fail(e: Error): void {
    this.broken = e;
    // The next file starts a fresh pool; this one only reports the failure to its callers.
    if (sharedPool === this) sharedPool = undefined;
    for (const w of this.workers) void w.terminate();
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.inFlight = 0;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

let sharedPool: PageCompressPool | null | undefined;
