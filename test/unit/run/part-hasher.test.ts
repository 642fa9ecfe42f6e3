import { createHash, randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createXXHash3 } from 'hash-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import type { ByteSink } from '../../../shared/format/format-writer.js';
import { createLogger } from '../../../shared/log/logger.js';
import { HashThread, MAX_IN_FLIGHT_BYTES, spawnHashWorker } from '../../../shared/run/hash-thread.js';
import { PartHasher, type PartFingerprint } from '../../../shared/run/part-hasher.js';

const MiB = 1024 * 1024;

async function expected(bytes: Uint8Array): Promise<PartFingerprint> {
  const x = await createXXHash3();
  x.init();
  x.update(bytes);
  return { contentFingerprint: `xxh3:${x.digest('hex')}`, contentMd5: createHash('md5').update(bytes).digest('base64') };
}

/** A sink that keeps what it is given, like a destination would, and a writer that reuses its buffer. */
function collector(): { sink: ByteSink; bytes: () => Buffer } {
  const got: Buffer[] = [];
  return { sink: { write: async (c) => void got.push(Buffer.from(c)) }, bytes: () => Buffer.concat(got) };
}

/** Writes `data` in odd-sized chunks through one reused buffer (overwritten after each write, as encoders do). */
async function writeReusing(sink: ByteSink, data: Uint8Array, sizes: () => number): Promise<void> {
  const scratch = new Uint8Array(4 * MiB);
  for (let off = 0; off < data.length; ) {
    const n = Math.min(sizes(), data.length - off, scratch.length);
    scratch.set(data.subarray(off, off + n));
    await sink.write(scratch.subarray(0, n));
    scratch.fill(0xa5, 0, n);
    off += n;
  }
}

function counting(): { thread: HashThread; spawned: () => number } {
  let n = 0;
  const thread = new HashThread(() => {
    n++;
    return spawnHashWorker();
  });
  return { thread, spawned: () => n };
}

const threads: HashThread[] = [];
function track<T extends { thread: HashThread }>(t: T): T {
  threads.push(t.thread);
  return t;
}
afterAll(async () => {
  for (const t of threads) await t.close();
});

describe('PartHasher', () => {
  it('fingerprints an empty part and a 1-byte part inline, without starting the thread', async () => {
    const { thread, spawned } = track(counting());
    const empty = await PartHasher.create(thread);
    empty.tee(collector().sink);
    expect(await empty.digest()).toEqual(await expected(new Uint8Array(0)));
    expect(await empty.digest().catch((e: unknown) => e)).toBeInstanceOf(RivetError);

    const one = await PartHasher.create(thread);
    await one.tee(collector().sink).write(Uint8Array.of(0x2a));
    expect(await one.digest()).toEqual(await expected(Uint8Array.of(0x2a)));
    expect(spawned()).toBe(0);
  });

  it('fingerprints 100 MB written in odd-sized, reused chunks on the thread, passing the bytes on unchanged', async () => {
    const { thread, spawned } = track(counting());
    const data = randomBytes(100 * MiB);
    const h = await PartHasher.create(thread);
    const out = collector();
    let i = 0;
    const sizes = [1, 7, 65_521, 1_048_575, 1_048_577, 3_000_017, 12_345];
    await writeReusing(h.tee(out.sink), data, () => sizes[i++ % sizes.length]);
    expect(await h.digest()).toEqual(await expected(data));
    expect(out.bytes().equals(data)).toBe(true);
    expect(spawned()).toBe(1);
  });

  it('keeps two interleaved parts apart on one shared thread', async () => {
    const { thread, spawned } = track(counting());
    const a = randomBytes(9 * MiB + 3);
    const b = randomBytes(5 * MiB + 11);
    const [ha, hb] = await Promise.all([PartHasher.create(thread), PartHasher.create(thread)]);
    const sa = ha.tee(collector().sink);
    const sb = hb.tee(collector().sink);
    const step = 300_001;
    for (let off = 0; off < Math.max(a.length, b.length); off += step) {
      const writes: Promise<void>[] = [];
      if (off < a.length) writes.push(sa.write(a.subarray(off, off + step)));
      if (off < b.length) writes.push(sb.write(b.subarray(off, off + step)));
      await Promise.all(writes);
    }
    const [da, db] = await Promise.all([ha.digest(), hb.digest()]);
    expect(da).toEqual(await expected(a));
    expect(db).toEqual(await expected(b));
    expect(spawned()).toBe(1);
  });

  it('hashes inline when no thread can start, whether the script is missing or fails to load', async () => {
    const data = randomBytes(3 * MiB + 5);
    const want = await expected(data);
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', sink: (l) => lines.push(l) });
    const none = new HashThread(() => null, log);
    const broken = track({ thread: new HashThread(() => new Worker(new URL('./no-such-hash-worker.js', import.meta.url)), log) }).thread;
    for (const thread of [none, broken]) {
      const h = await PartHasher.create(thread);
      await writeReusing(h.tee(collector().sink), data, () => 777_777);
      expect(await h.digest()).toEqual(want);
    }
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/no part fingerprinting thread in this build/);
    expect(lines[1]).toMatch(/thread did not start \(.*no-such-hash-worker/);
  });

  it('fails the part with a RivetError when the thread dies mid-part, and the next part gets a fresh thread', async () => {
    const { thread, spawned } = track(counting());
    const h = await PartHasher.create(thread);
    const sink = h.tee(collector().sink);
    await sink.write(randomBytes(3 * MiB));
    // Wait until the thread is running and the part is on it: connecting resolves once the
    // thread is ready, after the hasher's own connect (a fixed sleep lost that race under load).
    const probe = await thread.connect({ onDigest: () => {}, onError: () => {} });
    expect(probe).not.toBeNull();
    thread.release(probe!);
    await thread.close();
    const err = await (async () => {
      await sink.write(randomBytes(2 * MiB));
      return h.digest();
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RivetError);
    expect((err as RivetError).code).toBe('EXPORT_FAILED');
    expect((err as RivetError).message).toMatch(/fingerprinting thread/);

    const next = await PartHasher.create(thread);
    const data = randomBytes(2 * MiB + 1);
    await next.tee(collector().sink).write(data);
    expect(await next.digest()).toEqual(await expected(data));
    expect(spawned()).toBe(2);
  });

  it('drops a disposed part and refuses further writes', async () => {
    const { thread } = track(counting());
    const h = await PartHasher.create(thread);
    const sink = h.tee(collector().sink);
    await sink.write(randomBytes(2 * MiB));
    h.dispose();
    await expect(sink.write(Uint8Array.of(1))).rejects.toBeInstanceOf(RivetError);
    const other = await PartHasher.create(thread);
    const data = randomBytes(MiB + 1);
    await other.tee(collector().sink).write(data);
    expect(await other.digest()).toEqual(await expected(data));
  });

  it('reports a hashing failure on the thread as a RivetError at write and digest', async () => {
    // A stand-in thread that answers every block with an error, as the real one does when hashing throws.
    const failing = `const { parentPort } = require('node:worker_threads');
      parentPort.on('message', (m) => {
        if (m.type === 'data') parentPort.postMessage({ type: 'ack', id: m.id, bytes: m.bytes.byteLength, block: m.bytes, error: 'hash state lost' });
        if (m.type === 'end') parentPort.postMessage({ type: 'digest', id: m.id, error: 'hash state lost' });
      });
      parentPort.postMessage({ type: 'ready' });`;
    const thread = track({ thread: new HashThread(() => new Worker(failing, { eval: true })) }).thread;
    const h = await PartHasher.create(thread);
    const sink = h.tee(collector().sink);
    await sink.write(randomBytes(2 * MiB + 1));
    const err = await (async () => {
      for (let i = 0; i < 50; i++) {
        await sink.write(randomBytes(MiB));
        await new Promise((r) => setTimeout(r, 10));
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RivetError);
    expect((err as RivetError).message).toBe('part fingerprinting failed: hash state lost');
    await expect(h.digest()).rejects.toBe(err);
  });

  it('holds at most ~MAX_IN_FLIGHT_BYTES (8 MiB) of copies for a thread that does not keep up, then fails if it dies', async () => {
    // A stand-in thread that takes blocks and never answers.
    const stalled = `const { parentPort } = require('node:worker_threads');
      parentPort.on('message', () => {});
      parentPort.postMessage({ type: 'ready' });`;
    const thread = track({ thread: new HashThread(() => new Worker(stalled, { eval: true })) }).thread;
    const h = await PartHasher.create(thread);
    const passed: number[] = [];
    const sink = h.tee({ write: async (c) => void passed.push(c.length) });
    const writing = (async () => {
      for (let i = 0; i < 64; i++) await sink.write(new Uint8Array(MiB));
    })();
    const outcome = writing.then(() => 'finished', (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 500));
    expect(MAX_IN_FLIGHT_BYTES).toBe(8 * MiB);
    expect(thread.bytesInFlight).toBeGreaterThan(MAX_IN_FLIGHT_BYTES - 2 * MiB);
    expect(thread.bytesInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT_BYTES + 2 * MiB);
    expect(passed.length).toBeLessThan(MAX_IN_FLIGHT_BYTES / MiB + 8);
    await thread.close();
    const e = await outcome;
    expect(e).toBeInstanceOf(RivetError);
    expect((e as RivetError).code).toBe('EXPORT_FAILED');
  });
});

