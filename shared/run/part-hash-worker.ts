import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { createXXHash3, type IHasher } from 'hash-wasm';
import type { FromHashThread, ToHashThread } from './part-hash-messages.js';

/**
 * The part fingerprinting thread: XXH3-64 and MD5 of every part being written in this
 * process, keyed by hasher id, so the main thread (decoding rows, encoding Parquet) only
 * copies bytes. Messages are handled strictly in arrival order, which keeps each part's
 * chunks in order however many parts are open at once.
 *
 * Self-contained on purpose (no runtime imports from the rest of rivet): under the test
 * runner it is compiled on the fly from this one file.
 */
const port = parentPort;
if (!port) throw new Error('part-hash-worker must run as a worker thread');

interface State {
  xxh: IHasher;
  md5: Hash;
}

const states = new Map<number, State>();
/** Hashers whose hashing failed: the rest of their bytes is acknowledged unread. */
const failed = new Map<number, string>();
let queue: Promise<void> = Promise.resolve();

function post(msg: FromHashThread, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function stateOf(id: number): Promise<State> {
  let s = states.get(id);
  if (!s) {
    const xxh = await createXXHash3();
    xxh.init();
    s = { xxh, md5: createHash('md5') };
    states.set(id, s);
  }
  return s;
}

async function handle(msg: ToHashThread): Promise<void> {
  const { id } = msg;
  if (msg.type === 'drop') {
    states.delete(id);
    failed.delete(id);
    return;
  }
  const earlier = failed.get(id);
  if (msg.type === 'data') {
    const block = msg.bytes;
    const ack = (error?: string) => post({ type: 'ack', id, bytes: block.byteLength, block, error }, [block.buffer as ArrayBuffer]);
    if (earlier !== undefined) return ack();
    try {
      const s = await stateOf(id);
      s.xxh.update(block);
      s.md5.update(block);
      ack();
    } catch (e) {
      states.delete(id);
      failed.set(id, messageOf(e));
      ack(messageOf(e));
    }
    return;
  }
  failed.delete(id);
  if (earlier !== undefined) return post({ type: 'digest', id, error: earlier });
  try {
    const s = await stateOf(id);
    post({ type: 'digest', id, xxh3: s.xxh.digest('hex'), md5: s.md5.digest('base64') });
  } catch (e) {
    post({ type: 'digest', id, error: messageOf(e) });
  } finally {
    states.delete(id);
  }
}

port.on('message', (msg: ToHashThread) => {
  queue = queue.then(() => handle(msg));
});

// Ready once hash-wasm's module is compiled, so the first part does not wait on it mid-stream.
void createXXHash3().then(
  () => post({ type: 'ready' }),
  (e: unknown) => post({ type: 'broken', message: messageOf(e) }),
);
