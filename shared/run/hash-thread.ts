import { Worker } from 'node:worker_threads';
import { RivetError } from '../errors/rivet-error.js';
import { createLogger, type Logger } from '../log/logger.js';
import { startWorker } from '../threads/start-worker.js';
import type { FromHashThread, ToHashThread } from './part-hash-messages.js';

/** What a hasher hears back from the thread about its own id. */
export interface HashThreadClient {
  onDigest(xxh3: string, md5: string): void;
  onError(e: RivetError): void;
}

/** Starts the fingerprinting thread, or returns null where none can run (then parts are hashed inline). */
export type SpawnHashWorker = () => Worker | null;

/** Hashers copy bytes into blocks of this size and send them to the thread whole. */
export const BLOCK_BYTES = 1024 * 1024;
/**
 * Copies in flight, over all hashers of the process; writers wait above this. The thread
 * hashes faster than parts are written (XXH3 ~3 GiB/s, MD5 ~500 MiB/s), so the queue is short
 * but for bursts (a row group's pages are written at once): eight blocks absorb those, where
 * 32 only held more copies (bench/README.md, memory).
 */
export const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
const MAX_SPARE_BLOCKS = MAX_IN_FLIGHT_BYTES / BLOCK_BYTES + 2;

/** Where the script is not beside this module, parts are hashed on the main thread. */
export const spawnHashWorker: SpawnHashWorker = () => startWorker(new URL('./part-hash-worker.js', import.meta.url));

/**
 * One fingerprinting thread per process, shared by every part being written (messages carry
 * the hasher's id). Started on first use; unref'd whenever no reply is awaited, so it never
 * keeps the process alive. If it cannot start, every hasher falls back to inline hashing;
 * if it dies later, the hashers using it fail and the next hasher starts a fresh one.
 */
export class HashThread {
  private worker: Worker | null = null;
  private starting: Promise<Worker | null> | null = null;
  private unavailable = false;
  private readonly clients = new Map<number, HashThreadClient>();
  /** Replies still owed (one per message sent); the thread is ref'd while any are. */
  private owed = 0;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private nextId = 1;
  /** Blocks the thread handed back, reused so the copies cost no allocation (and no garbage). */
  private readonly spare: ArrayBuffer[] = [];

  constructor(
    private readonly spawn: SpawnHashWorker = spawnHashWorker,
    private readonly log: Logger = createLogger({ scope: 'hash' }),
  ) {}

  /** Bytes sent to the thread and not yet hashed, over all hashers. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  /** Resolves at the next change that may let a waiting writer go on (an ack, a failure, a `wake`). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  /** A block of BLOCK_BYTES to copy into: its own ArrayBuffer, so it can be transferred; not zeroed. */
  block(): Uint8Array {
    const b = this.spare.pop();
    return b ? new Uint8Array(b) : Buffer.allocUnsafeSlow(BLOCK_BYTES);
  }

  /** Takes back a block that was not sent (a small part's, hashed inline). */
  reuse(block: Uint8Array): void {
    const b = block.buffer;
    if (b instanceof ArrayBuffer && b.byteLength === BLOCK_BYTES && block.byteOffset === 0 && this.spare.length < MAX_SPARE_BLOCKS) this.spare.push(b);
  }

  /** Registers a hasher; resolves to its id, or null when no thread can run here (hash inline). */
  async connect(client: HashThreadClient): Promise<number | null> {
    const w = await this.start();
    if (!w) return null;
    const id = this.nextId++;
    this.clients.set(id, client);
    return id;
  }

  send(id: number, bytes: Uint8Array): void {
    const n = bytes.byteLength; // read before the transfer detaches it
    if (this.post({ type: 'data', id, bytes }, [bytes.buffer as ArrayBuffer])) this.inFlight += n;
  }

  end(id: number): void {
    this.post({ type: 'end', id });
  }

  /** Forgets a hasher (its part was aborted); the thread drops its state. */
  release(id: number): void {
    this.clients.delete(id);
    this.worker?.postMessage({ type: 'drop', id } satisfies ToHashThread);
  }

  /** Stops the thread; hashers still using it fail. */
  async close(): Promise<void> {
    const w = this.worker;
    if (w) await w.terminate();
  }

  private post(msg: ToHashThread, transfer: ArrayBuffer[] = []): boolean {
    const w = this.worker;
    if (!w) {
      this.clients.get(msg.id)?.onError(threadGone('is not running'));
      return false;
    }
    if (this.owed++ === 0) w.ref();
    w.postMessage(msg, transfer);
    return true;
  }

  private start(): Promise<Worker | null> {
    if (this.worker) return Promise.resolve(this.worker);
    if (this.unavailable) return Promise.resolve(null);
    this.starting ??= this.launch().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private launch(): Promise<Worker | null> {
    let w: Worker | null;
    try {
      w = this.spawn();
    } catch {
      w = null;
    }
    if (!w) {
      this.unavailable = true;
      this.log.debug('no part fingerprinting thread in this build; parts are hashed on the main thread');
      return Promise.resolve(null);
    }
    const worker = w;
    return new Promise<Worker | null>((resolve) => {
      let settled = false;
      const notReady = (why: string) => {
        if (settled) return;
        settled = true;
        this.log.debug(`part fingerprinting thread did not start (${why}); parts are hashed on the main thread`);
        // A thread that cannot even start will not start next time either: hash inline from now on.
        this.unavailable = true;
        void worker.terminate();
        resolve(null);
      };
      worker.on('message', (m: FromHashThread) => {
        if (settled) {
          if (this.worker === worker) this.onMessage(m);
        } else if (m.type === 'ready') {
          settled = true;
          this.worker = worker;
          // Ref'd while starting (a writer may be waiting on it); from here only while replies are owed.
          worker.unref();
          this.log.debug('part fingerprinting thread started');
          resolve(worker);
        } else {
          notReady(m.type === 'broken' ? m.message : `unexpected '${m.type}'`);
        }
      });
      worker.on('error', (e) => {
        if (!settled) notReady(e.message);
        else this.died(worker, `failed: ${e.message}`);
      });
      worker.on('exit', (code) => {
        if (!settled) notReady(`exited (${code})`);
        else this.died(worker, `exited (${code})`);
      });
    });
  }

  private onMessage(m: FromHashThread): void {
    if (m.type !== 'ack' && m.type !== 'digest') return;
    if (--this.owed === 0) this.worker?.unref();
    const client = this.clients.get(m.id);
    if (m.type === 'ack') {
      this.inFlight -= m.bytes;
      this.reuse(m.block);
    }
    if (m.error !== undefined || m.type === 'digest') this.clients.delete(m.id);
    if (client) {
      if (m.error !== undefined) client.onError(new RivetError('EXPORT_FAILED', `part fingerprinting failed: ${m.error}`));
      else if (m.type === 'digest') client.onDigest(m.xxh3, m.md5);
    }
    this.wake();
  }

  private died(worker: Worker, how: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.owed = 0;
    this.inFlight = 0;
    const clients = [...this.clients.values()];
    this.clients.clear();
    for (const c of clients) c.onError(threadGone(how));
    this.wake();
  }
}

function threadGone(how: string): RivetError {
  return new RivetError('EXPORT_FAILED', `the part fingerprinting thread ${how}`, {
    hint: 'the part was not published; run the export again',
  });
}

let shared: HashThread | null = null;

/** The process's fingerprinting thread. */
export function sharedHashThread(): HashThread {
  shared ??= new HashThread();
  return shared;
}
