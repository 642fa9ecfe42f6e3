import { parentPort } from 'node:worker_threads';
import type { CompressReply, CompressRequest, EncodeRequest } from './page-compress-messages.js';
import { loadPageCodec, type PageCodec } from './parquet-page-codec.js';
import { encodePlainPage, type PageAlloc } from './parquet-plain-page.js';

/**
 * A page-compression thread: Parquet pages arrive as transferred buffers — either encoded
 * bodies, or the raw column values of a PLAIN page, which are encoded and measured
 * (statistics) here too — and leave compressed, so this work runs on another core while
 * the main thread decodes the next rows.
 */
const port = parentPort;
if (!port) throw new Error('page-compress-worker must run as a worker thread');

const codecs = new Map<string, PageCodec | null>();

function codecFor(msg: CompressRequest | EncodeRequest): PageCodec {
  const key = `${msg.compression}:${msg.level ?? ''}`;
  if (!codecs.has(key)) codecs.set(key, loadPageCodec(msg.compression, msg.level));
  const codec = codecs.get(key);
  if (!codec) throw new Error(`codec ${msg.compression} is not available on the compression thread`);
  return codec;
}

/** Page bodies live only until compressed: every page reuses the same two buffers. */
const scratch = { values: new ArrayBuffer(0), body: new ArrayBuffer(0) };
const scratchAlloc: PageAlloc = (n, purpose) => {
  if (scratch[purpose].byteLength < n) scratch[purpose] = new ArrayBuffer(Math.max(n, scratch[purpose].byteLength * 2, 64 * 1024));
  return new Uint8Array(scratch[purpose], 0, n);
};

/** Small Buffers are views into a shared pool; transferring that would detach the pool. (Buffer#slice is a view: copy through the Uint8Array constructor.) */
function owned(out: Uint8Array): Uint8Array {
  return out.byteOffset !== 0 || out.buffer.byteLength !== out.byteLength ? new Uint8Array(out) : out;
}

port.on('message', (msg: CompressRequest | EncodeRequest) => {
  try {
    const codec = codecFor(msg);
    let reply: CompressReply;
    // Buffers going back: left here they would be garbage in an isolate whose tiny heap
    // seldom collects, and hundreds of MB piled up (wide benchmark).
    const spent = new Set<ArrayBuffer>();
    if ('page' in msg) {
      const { page } = msg;
      const encoded = encodePlainPage(page, scratchAlloc);
      const packed = owned(codec.compress(encoded.body));
      for (const a of [page.values, page.validity, page.offsets]) if (a) spent.add(a.buffer as ArrayBuffer);
      reply = { id: msg.id, page: { packed, bodyLength: encoded.body.byteLength, nullCount: encoded.nullCount, extremes: encoded.extremes }, spent: [...spent] };
      port.postMessage(reply, [packed.buffer as ArrayBuffer, ...spent]);
    } else {
      const bytes = owned(codec.compress(msg.body));
      if (msg.body.buffer !== bytes.buffer) spent.add(msg.body.buffer as ArrayBuffer);
      reply = { id: msg.id, bytes, spent: [...spent] };
      port.postMessage(reply, [bytes.buffer as ArrayBuffer, ...spent]);
    }
  } catch (e) {
    const reply: CompressReply = { id: msg.id, error: e instanceof Error ? e.message : String(e) };
    port.postMessage(reply);
  }
});
