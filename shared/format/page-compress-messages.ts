import type { Compression } from './format-writer.js';
import type { Extremes } from './parquet-page-stats.js';
import type { PlainPageJob } from './parquet-plain-page.js';

/** Main thread → compression thread: an encoded page body to compress, transferred. */
export interface CompressRequest {
  id: number;
  compression: Compression;
  level?: number;
  body: Uint8Array;
}

/** Main thread → compression thread: a PLAIN page to encode, find the statistics of, and compress. */
export interface EncodeRequest {
  id: number;
  compression: Compression;
  level?: number;
  page: PlainPageJob;
}

/** What a compression thread sends back for an EncodeRequest. */
export interface EncodedPage {
  packed: Uint8Array;
  /** The page body's size before compression. */
  bodyLength: number;
  nullCount: number;
  extremes: Extremes;
}

/**
 * Compression thread → main thread. `spent` are the request's buffers (and the page body),
 * handed back so they die in the main isolate, which collects often.
 */
export type CompressReply =
  | { id: number; bytes: Uint8Array; spent: ArrayBuffer[] }
  | { id: number; page: EncodedPage; spent: ArrayBuffer[] }
  | { id: number; error: string };
