import { createRequire } from 'node:module';
import zlib, { gzipSync } from 'node:zlib';
import type { Compression } from './format-writer.js';

/** parquet.thrift CompressionCodec ids. */
export const ParquetCodec = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, ZSTD: 6 } as const;

/** Compresses one Parquet page body at a time (pages are independent frames). */
export interface PageCodec {
  readonly thriftCodec: number;
  compress(page: Uint8Array): Uint8Array;
  /**
   * The same on libuv's thread pool, where the binding offers it (snappy). Preferred to a
   * compression thread: the result is born in this isolate, which collects often, whereas a
   * worker isolate left napi-owned outputs waiting for a GC that seldom came (+150 MB RSS).
   */
  compressAsync?(page: Uint8Array): Promise<Uint8Array>;
}

/**
 * zstd level when `compression_level` is unset. The reference documents the library default
 * (3), but pages are independent ~1 MiB frames, where level 1 measured both faster and
 * smaller: on the content_items bench text 333 MiB/s at ratio 2.59 against 162 MiB/s at
 * 2.48 for level 3; on the wide table's hex text 322 against 96 MiB/s. Level 1 is also what
 * the earlier encoder (arrow-rs' default) wrote, so files keep their size.
 */
export const DEFAULT_ZSTD_LEVEL = 1;
const DEFAULT_GZIP_LEVEL = 6;

const require = createRequire(import.meta.url);

/** The part of zstd-napi's low-level binding (`zstd-napi/binding`, ZSTD_CCtx) used here. */
interface ZstdBinding {
  CCtx: new () => { setParameter(param: number, value: number): void; compress2(dst: Uint8Array, src: Uint8Array): number };
  CParameter: { compressionLevel: number };
  compressBound(size: number): number;
}

/**
 * Destinations up to this size are kept for the next page; a larger one (a page holding one
 * huge value) is used once, so a single outlier does not pin its size for the whole run.
 */
const MAX_KEPT_DESTINATION = 4 * 1024 * 1024;

/**
 * The codec for `compression`, or null when it needs a native module that is not installed
 * or cannot load here (not shipped, another platform's binary): the caller then falls
 * back to the wasm encoder, which has every codec built in. LZ4 always goes that way.
 */
export function loadPageCodec(compression: Compression, level: number | undefined): PageCodec | null {
  try {
    switch (compression) {
      case 'none':
        return { thriftCodec: ParquetCodec.UNCOMPRESSED, compress: (p) => p };
      case 'gzip': {
        const opts = { level: level ?? DEFAULT_GZIP_LEVEL };
        return { thriftCodec: ParquetCodec.GZIP, compress: (p) => gzipSync(p, opts) };
      }
      case 'zstd':
        return zstdAddOn(level ?? DEFAULT_ZSTD_LEVEL) ?? zstdZlib(level ?? DEFAULT_ZSTD_LEVEL);
      case 'snappy': {
        type Options = { copyOutputData?: boolean };
        const { compress, compressSync } = require('snappy') as { compress: (b: Buffer) => Promise<Buffer>; compressSync: (b: Buffer, o?: Options) => Buffer };
        // Copied into memory V8 owns: the binding's own output is freed only when the isolate
        // that holds it collects, which a compression thread seldom does (+75 MB RSS, narrow bench).
        const owned: Options = { copyOutputData: true };
        return { thriftCodec: ParquetCodec.SNAPPY, compress: (p) => compressSync(asBuffer(p), owned), compressAsync: (p) => compress(asBuffer(p)) };
      }
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/**
 * zstd through the add-on's ZSTD_compress2, into one destination buffer kept across pages;
 * the result is copied out at its exact size. zstd-napi's `Compressor.compress` allocates a
 * fresh compressBound-sized buffer per page and keeps a trimmed copy: the ~1 MiB originals
 * were garbage that a compression thread's small heap collected only every few dozen pages
 * (20–35 MB of a narrow run's peak RSS, bench/README.md). Same call, same parameters, same
 * bytes: ZSTD_compress2 into a buffer of at least compressBound(page) is one-pass either way.
 */
function zstdAddOn(level: number): PageCodec | null {
  try {
    const zstd = require('zstd-napi/binding') as ZstdBinding;
    const cctx = new zstd.CCtx();
    cctx.setParameter(zstd.CParameter.compressionLevel, level);
    let kept = new Uint8Array(0);
    const compress = (p: Uint8Array): Uint8Array => {
      const bound = zstd.compressBound(p.byteLength);
      let dst = kept;
      if (dst.byteLength < bound) {
        dst = new Uint8Array(bound);
        if (bound <= MAX_KEPT_DESTINATION) kept = dst;
      }
      const n = cctx.compress2(dst, p);
      return dst.slice(0, n);
    };
    return { thriftCodec: ParquetCodec.ZSTD, compress };
  } catch {
    return null;
  }
}

type ZstdSync = (page: Uint8Array, options: { params: Record<number, number>; pledgedSrcSize: number; chunkSize: number }) => Buffer;

/**
 * zstd from Node's own zlib (Node ≥ 22.15), where the add-on cannot load — the Lambda asset
 * does not ship zstd-napi. With the libzstd zstd-napi carries (1.5.7 in both today:
 * `process.versions.zstd`) it writes the same bytes, so a deployed worker's parts equal
 * `rivet run`'s (test/localstack/same-bytes.test.ts), provided the output buffer holds
 * ZSTD_compressBound(page): zstd then compresses the page in one pass, as the add-on's
 * ZSTD_compress2 does; through a smaller buffer it streams and, from level 3 on pages of
 * about 1 MiB, splits blocks elsewhere.
 */
function zstdZlib(level: number): PageCodec | null {
  const compressSync = (zlib as unknown as { zstdCompressSync?: ZstdSync }).zstdCompressSync;
  const levelParam = (zlib.constants as unknown as Record<string, number>).ZSTD_c_compressionLevel;
  if (typeof compressSync !== 'function' || levelParam === undefined) return null;
  const params = { [levelParam]: level };
  return {
    thriftCodec: ParquetCodec.ZSTD,
    compress: (p) => compressSync(p, { params, pledgedSrcSize: p.byteLength, chunkSize: zstdCompressBound(p.byteLength) + 64 }),
  };
}

/** ZSTD_COMPRESSBOUND from zstd.h. */
function zstdCompressBound(size: number): number {
  return size + (size >>> 8) + (size < 128 << 10 ? ((128 << 10) - size) >>> 11 : 0);
}

function asBuffer(p: Uint8Array): Buffer {
  return Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}
