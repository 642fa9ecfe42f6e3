import { parentPort } from 'node:worker_threads';
import { loadPageCodec, type PageCodec } from './parquet-page-codec.js';
import type { CompressReply, CompressRequest } from './page-compress-messages.js';

/**
 * A page-compression thread: Parquet pages arrive as transferred buffers and leave
 * compressed, so zstd runs on another core while the main thread decodes the next rows.
 */
const port = parentPort;
if (!port) throw new Error('page-compress-worker must run as a worker thread');

const codecs = new Map<string, PageCodec | null>();

port.on('message', (msg: CompressRequest) => {
  const key = `${msg.compression}:${msg.level ?? ''}`;
  if (!codecs.has(key)) codecs.set(key, loadPageCodec(msg.compression, msg.level));
  const codec = codecs.get(key);
  let reply: CompressReply;
  try {
    if (!codec) throw new Error(`codec ${msg.compression} is not available on the compression thread`);
    let out = codec.compress(msg.body);
    // Small Buffers are views into a shared pool; transferring that would detach the pool.
    // (Buffer#slice is a view, so copy through the Uint8Array constructor.)
    if (out.byteOffset !== 0 || out.buffer.byteLength !== out.byteLength) out = new Uint8Array(out);
    reply = { id: msg.id, bytes: out, spent: msg.body };
    // The page body goes back as well: left here it would be garbage in an isolate whose tiny
    // heap seldom collects, and hundreds of MB of page bodies piled up (wide benchmark).
    port.postMessage(reply, [out.buffer as ArrayBuffer, msg.body.buffer as ArrayBuffer]);
  } catch (e) {
    reply = { id: msg.id, error: e instanceof Error ? e.message : String(e) };
    port.postMessage(reply);
  }
});
