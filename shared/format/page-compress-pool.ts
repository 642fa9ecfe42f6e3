import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker, workerAvailable } from '../threads/start-worker.js';
import type { Compression } from './format-writer.js';
import type { CompressReply, CompressRequest, EncodedPage, EncodeRequest } from './page-compress-messages.js';
import { transferableBytes, transferablePageJob, type PlainPageJob } from './parquet-plain-page.js';

const WORKER_URL = new URL('./page-compress-worker.js', import.meta.url);

/**
 * Bytes of page inputs handed to each compression thread and not yet back. Past it the
 * encoder waits, so a slow codec holds back the source instead of piling pages up in memory.
 * Eight ~1 MiB pages queued keep a thread busy (the main thread cuts a page far faster than a
 * thread encodes and compresses it); the former 32 MiB per pool only held more copies in
 * both isolates — the wide benchmark's peak RSS fell ~30 MB at the same CPU (bench/README.md).
 */
export const IN_FLIGHT_BYTES_PER_THREAD = 8 * 1024 * 1024;

/** Page input buffers are sized in steps of this, so one fits the next page of a similar size. */
const BLOCK_GRAIN = 64 * 1024;

interface Pending {
  resolve: (r: Uint8Array | EncodedPage) => void;
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
  /** Buffers back from the threads, reused for the next pages' inputs (fewer allocations, less GC). */
  private readonly spare: ArrayBuffer[] = [];
  /** Bytes in `spare`: at most the in-flight bound, which is all the next pages can take out at once. */
  private spareBytes = 0;
  private readonly maxInFlight: number;

  private constructor(private readonly size: number) {
    this.maxInFlight = size * IN_FLIGHT_BYTES_PER_THREAD;
  }

  /** The process-wide pool, or null where no worker script is found. */
  static shared(): PageCompressPool | null {
    if (process.env.RIVET_PARQUET_COMPRESS_THREADS === '0') return null;
    if (sharedPool === undefined) {
      const size = Number(process.env.RIVET_PARQUET_COMPRESS_THREADS ?? Math.max(1, Math.min(4, availableParallelism() - 1)));
      sharedPool = workerAvailable(WORKER_URL) ? new PageCompressPool(Number.isInteger(size) && size > 0 ? size : 1) : null;
    }
    return sharedPool;
  }

  /** Compress `body` on a thread. `body` must own its whole ArrayBuffer: it is transferred. */
  compress(body: Uint8Array, compression: Compression, level: number | undefined): Promise<Uint8Array> {
    const msg: Omit<CompressRequest, 'id'> = { compression, body, ...(level !== undefined ? { level } : {}) };
    return this.send<Uint8Array>(msg, [body.buffer as ArrayBuffer], body.byteLength);
  }

  /**
   * Encode, measure and compress a PLAIN page on a thread. The page's inputs are copied first
   * (the Arrow buffers stay usable here), which costs far less than the encoding it moves.
   */
  encode(page: PlainPageJob, compression: Compression, level: number | undefined): Promise<EncodedPage> {
    const bytes = transferableBytes(page);
    const block = this.block(bytes);
    const job = transferablePageJob(page, block);
    const msg: Omit<EncodeRequest, 'id'> = { compression, page: job, ...(level !== undefined ? { level } : {}) };
    return this.send<EncodedPage>(msg, [block], bytes);
  }

  /** A buffer of at least `bytes` for a page's inputs: one the threads handed back if one fits, else a new one. */
  private block(bytes: number): ArrayBuffer {
    for (let i = this.spare.length - 1; i >= 0; i--) {
      const b = this.spare[i];
      if (b.byteLength >= bytes && b.byteLength <= bytes * 4 + BLOCK_GRAIN) {
        this.spare[i] = this.spare[this.spare.length - 1];
        this.spare.pop();
        this.spareBytes -= b.byteLength;
        return b;
      }
    }
    return new ArrayBuffer(Math.ceil(bytes / BLOCK_GRAIN) * BLOCK_GRAIN || BLOCK_GRAIN);
  }

  private send<T extends Uint8Array | EncodedPage>(msg: Omit<CompressRequest, 'id'> | Omit<EncodeRequest, 'id'>, transfer: ArrayBuffer[], bytes: number): Promise<T> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    const worker = this.worker();
    this.inFlight += bytes;
    const done = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (r: Uint8Array | EncodedPage) => void, reject, bytes }));
    worker.ref();
    worker.postMessage({ id, ...msg }, transfer);
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
  async settle(limit = this.maxInFlight): Promise<void> {
    while (this.inFlight > limit && !this.broken) await new Promise<void>((r) => this.waiters.push(r));
  }

  private worker(): Worker {
    if (this.workers.length < this.size) {
      const w = startWorker(WORKER_URL);
      if (!w) throw new Error('the Parquet compression thread script is missing');
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
    if ('spent' in m) {
      for (const b of m.spent) {
        if (b.byteLength < BLOCK_GRAIN || b.byteLength > this.maxInFlight) continue;
        this.spare.push(b);
        this.spareBytes += b.byteLength;
      }
      // Over the bound, the oldest go: recent blocks fit the pages being cut now.
      while (this.spareBytes > this.maxInFlight) this.spareBytes -= this.spare.shift()!.byteLength;
    }
    if ('error' in m) p.reject(new Error(m.error));
    else p.resolve('page' in m ? m.page : m.bytes);
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
