import type { FormatOptions } from './format-writer.js';

/** Main thread → encoder thread. Each message is answered before the next is sent. */
export type ToEncoder =
  /** `schema`: an Arrow IPC stream holding only the schema (field metadata included). */
  | { type: 'open'; schema: Uint8Array; options: FormatOptions }
  /** `ipc`: an Arrow IPC stream holding exactly one record batch. */
  | { type: 'batch'; ipc: Uint8Array }
  | { type: 'finish' }
  | { type: 'abort' };

/** Encoder thread → main thread. `bytes` may arrive at any time before the answer. */
export type FromEncoder =
  | { type: 'bytes'; chunk: Uint8Array }
  | { type: 'ready' }
  | { type: 'finished' }
  | { type: 'aborted' }
  | { type: 'error'; code: string; message: string; hint?: string };
