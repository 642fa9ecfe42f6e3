import type { ByteSink } from '../format/format-writer.js';

export type DestinationKind = 'local' | 's3' | 'gcs' | 'azure' | 'stdout';

/**
 * What a backend can promise, so the run logic asks "can it?" instead of "is it S3?".
 */
export interface DestinationCapabilities {
  /** Bytes go straight to a stream that cannot be listed, read back or rolled back (stdout). No manifest, no _SUCCESS. */
  streaming: boolean;
  /** `openPart(...).commit()` refuses to replace an existing object (no-clobber). */
  createOnly: boolean;
  /** Listings report a content MD5 that can be compared with the manifest's. */
  listingHasMd5: boolean;
}

export interface ObjectInfo {
  /** Key relative to the destination root (the resolved prefix). */
  key: string;
  sizeBytes: number;
  /** Base64 MD5 when the backend reports one. */
  md5?: string;
}

/** A part being written. Nothing is visible under `key` until `commit` succeeds. */
export interface PartWriter extends ByteSink {
  readonly key: string;
  /** Make the part visible. Fails with DESTINATION if the key already exists and the backend is create-only. */
  commit(): Promise<{ sizeBytes: number }>;
  /** Drop whatever was written. Never throws. */
  abort(): Promise<void>;
}

export interface PutOptions {
  /** Refuse to replace an existing object. */
  ifAbsent?: boolean;
}

/**
 * One destination root: a local directory, a bucket prefix, or stdout. Keys are relative
 * to that root and use `/` separators.
 */
export interface Destination {
  readonly kind: DestinationKind;
  /** Human and manifest form of the root, e.g. `file:///data/out` or `s3://bucket/prefix`. */
  readonly uri: string;
  readonly capabilities: DestinationCapabilities;
  openPart(key: string): Promise<PartWriter>;
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  /** Object bytes, or null when absent. */
  get(key: string): Promise<Uint8Array | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /**
   * Stream an object's bytes, so a verifier can hash parts of any size in bounded memory.
   * Fails with DESTINATION when the object is absent or unreadable.
   */
  read(key: string): AsyncIterable<Uint8Array>;
  /**
   * Exactly `length` bytes from `offset` (a ranged GET on object stores), so a verifier can
   * read a Parquet footer without downloading the part. Fails with DESTINATION when the
   * object is absent, unreadable or shorter than the range.
   */
  readRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** Every object under `prefix` (recursive), keys relative to the root. */
  list(prefix?: string): Promise<ObjectInfo[]>;
  /** Move an object (rename where the backend can, copy + delete elsewhere). */
  move(from: string, to: string): Promise<void>;
  /** Delete an object; absent is fine. */
  delete(key: string): Promise<void>;
}
