import type { Compression } from './format-writer.js';

/** Main thread → compression thread: one page body, transferred. */
export interface CompressRequest {
  id: number;
  compression: Compression;
  level?: number;
  body: Uint8Array;
}

/** Compression thread → main thread. */
export type CompressReply = { id: number; bytes: Uint8Array; spent: Uint8Array } | { id: number; error: string };
