import { createHash, type Hash } from 'node:crypto';
import { createXXHash3, type IHasher } from 'hash-wasm';
import { RivetError } from '../errors/rivet-error.js';
import type { ByteSink } from '../format/format-writer.js';
import { BLOCK_BYTES, MAX_IN_FLIGHT_BYTES, sharedHashThread, type HashThread, type HashThreadClient } from './hash-thread.js';

export interface PartFingerprint {
  /** `xxh3:` + 16 lowercase hex of XXH3-64 (seed 0) of the file bytes. */
  contentFingerprint: string;
  /** Base64 MD5 of the file bytes. */
  contentMd5: string;
}

/**
 * Bytes are copied into blocks of BLOCK_BYTES. A part that fits in one block (most parts) is
 * hashed on the main thread at `digest`, without involving the thread; bigger parts go to
 * the fingerprinting thread block by block, with at most MAX_IN_FLIGHT_BYTES of copies
 * (all parts together) on their way.
 */

interface InlineHashers {
  xxh: IHasher;
  md5: Hash;
}

type Mode = 'small' | 'deciding' | 'thread' | 'inline' | 'done';

/**
 * Hashes bytes on their way to the destination, so a part is fingerprinted in the same
 * pass that writes it and never has to be read back. XXH3 and MD5 run on a shared worker
 * thread (MD5 alone is a fifth of the main thread's CPU on a wide export); the main thread
 * only copies each chunk, since writers reuse or keep the buffers they hand to the sink.
 * Where no thread can run (no worker script found), the hashing happens inline.
 */
export class PartHasher implements HashThreadClient {
  private mode: Mode = 'small';
  private block: Uint8Array | null = null;
  private blockLen = 0;
  /** Full blocks waiting for the mode to be decided. */
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private id: number | null = null;
  private inline: InlineHashers | null = null;
  private deciding: Promise<void> | null = null;
  private failure: unknown = undefined;
  private answer: { resolve: (f: PartFingerprint) => void; reject: (e: unknown) => void } | null = null;

  private constructor(private readonly thread: HashThread) {}

  static create(thread: HashThread = sharedHashThread()): Promise<PartHasher> {
    return Promise.resolve(new PartHasher(thread));
  }

  /** A sink that takes a copy of every chunk for hashing before passing it on. */
  tee(next: ByteSink): ByteSink {
    return {
      write: async (chunk) => {
        this.take(chunk);
        // Blocks on their way to the thread (all parts') plus this part's blocks waiting for it to start.
        while (this.queuedBytes + this.thread.bytesInFlight > MAX_IN_FLIGHT_BYTES && this.failure === undefined) await this.thread.changed();
        this.throwIfFailed();
        return next.write(chunk);
      },
    };
  }

  async digest(): Promise<PartFingerprint> {
    this.throwIfFailed();
    if (this.mode === 'done') throw new RivetError('INTERNAL', 'part digest taken twice');
    if (this.mode === 'small') {
      const block = this.block;
      this.mode = 'done';
      this.block = null;
      const inline = await inlineHashers();
      if (block) {
        inline.xxh.update(block.subarray(0, this.blockLen));
        inline.md5.update(block.subarray(0, this.blockLen));
        this.thread.reuse(block);
      }
      return inlineDigest(inline);
    }
    this.sealBlock();
    await this.deciding;
    this.throwIfFailed();
    this.flush();
    const id = this.id;
    const inline = this.inline;
    this.mode = 'done';
    if (inline) return inlineDigest(inline);
    if (id === null) throw new RivetError('INTERNAL', 'part hasher has neither a thread nor inline hashers');
    return new Promise<PartFingerprint>((resolve, reject) => {
      this.answer = { resolve, reject };
      this.thread.end(id);
    });
  }

  /** Abandons the part: drops its state on the thread. Never throws. */
  dispose(): void {
    if (this.id !== null) this.thread.release(this.id);
    this.id = null;
    this.block = null;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.fail(new RivetError('INTERNAL', 'part hasher used after it was disposed'));
    this.mode = 'done';
  }

  onDigest(xxh3: string, md5: string): void {
    const a = this.answer;
    this.answer = null;
    this.id = null;
    a?.resolve({ contentFingerprint: `xxh3:${xxh3}`, contentMd5: md5 });
  }

  onError(e: RivetError): void {
    this.id = null;
    this.fail(e);
  }

  private take(chunk: Uint8Array): void {
    this.throwIfFailed();
    if (this.mode === 'done') throw new RivetError('INTERNAL', 'part hasher written after digest');
    if (this.mode === 'inline' && this.inline) {
      this.inline.xxh.update(chunk);
      this.inline.md5.update(chunk);
      return;
    }
    let off = 0;
    while (off < chunk.length) {
      if (this.block && this.blockLen === BLOCK_BYTES) this.sealBlock();
      if (!this.block) {
        this.block = this.thread.block();
        this.blockLen = 0;
      }
      const n = Math.min(BLOCK_BYTES - this.blockLen, chunk.length - off);
      this.block.set(chunk.subarray(off, off + n), this.blockLen);
      this.blockLen += n;
      off += n;
    }
  }

  /** Queues the current block (full, or the part's last bytes) and hands queued blocks on. */
  private sealBlock(): void {
    if (this.block && this.blockLen > 0) {
      this.queue.push(this.block.subarray(0, this.blockLen));
      this.queuedBytes += this.blockLen;
    }
    this.block = null;
    this.blockLen = 0;
    if (this.mode === 'small' && this.queue.length > 0) {
      this.mode = 'deciding';
      this.deciding = this.decide();
    } else {
      this.flush();
    }
  }

  /** Past the first block: the shared thread if it can run, else inline. */
  private async decide(): Promise<void> {
    try {
      const id = await this.thread.connect(this);
      if (this.mode !== 'deciding') {
        if (id !== null) this.thread.release(id);
        return;
      }
      if (id !== null) {
        this.id = id;
        this.mode = 'thread';
      } else {
        this.inline = await inlineHashers();
        this.mode = 'inline';
      }
      this.flush();
    } catch (e) {
      this.fail(e);
    }
  }

  private flush(): void {
    if (this.mode === 'thread' && this.id !== null) {
      for (const b of this.queue.splice(0)) this.thread.send(this.id, b);
      this.queuedBytes = 0;
      this.thread.wake();
      return;
    }
    if (this.mode !== 'inline' || !this.inline) return;
    // Inline from here on: the partly filled block too, so later chunks are hashed as they come.
    if (this.block) this.queue.push(this.block.subarray(0, this.blockLen));
    this.block = null;
    this.blockLen = 0;
    for (const b of this.queue.splice(0)) {
      this.inline.xxh.update(b);
      this.inline.md5.update(b);
    }
    this.queuedBytes = 0;
    this.thread.wake();
  }

  private fail(e: unknown): void {
    if (this.failure === undefined) this.failure = e;
    const a = this.answer;
    this.answer = null;
    a?.reject(e);
    this.thread.wake();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

async function inlineHashers(): Promise<InlineHashers> {
  const xxh = await createXXHash3();
  xxh.init();
  return { xxh, md5: createHash('md5') };
}

function inlineDigest(h: InlineHashers): PartFingerprint {
  return { contentFingerprint: `xxh3:${h.xxh.digest('hex')}`, contentMd5: h.md5.digest('base64') };
}

/** XXH3-64 of a whole buffer, as `xxh3:<16 hex>` — the `_SUCCESS` body minus its newline. */
export async function xxh3Fingerprint(bytes: Uint8Array | string): Promise<string> {
  const h = await createXXHash3();
  h.init();
  h.update(bytes);
  return `xxh3:${h.digest('hex')}`;
}
