/** Main thread → part fingerprinting thread. Every message names the hasher (`id`) it is for. */
export type ToHashThread =
  | { type: 'data'; id: number; bytes: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'drop'; id: number };

/**
 * Fingerprinting thread → main thread. Every `data` gets exactly one `ack` and every `end`
 * exactly one `digest`, with `error` set if hashing failed, so the main thread can count
 * what is still in flight. An `ack` hands the block back (transferred) for reuse. `ready` comes once, when the thread can take work; `broken`
 * instead if it cannot.
 */
export type FromHashThread =
  | { type: 'ready' }
  | { type: 'broken'; message: string }
  | { type: 'ack'; id: number; bytes: number; block: Uint8Array; error?: string }
  | { type: 'digest'; id: number; xxh3: string; md5: string; error?: undefined }
  | { type: 'digest'; id: number; error: string };
