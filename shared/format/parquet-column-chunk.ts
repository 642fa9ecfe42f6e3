import type { Data } from 'apache-arrow';
import { ByteBuffer } from './byte-buffer.js';
import type { Compression } from './format-writer.js';
import type { PageCompressPool } from './page-compress-pool.js';
import type { PageCodec } from './parquet-page-codec.js';
import type { ParquetLeaf } from './parquet-leaf.js';
import type { EncodedPage } from './page-compress-messages.js';
import { bit, mergeExtremes, pageExtremes, type Extremes } from './parquet-page-stats.js';
import { countValid, encodePlainPage, estimatedPlainBytes, plainPageJob, withPrefix, type PlainPageJob } from './parquet-plain-page.js';
import { bitWidthFor, definitionLevels, packIndices } from './parquet-rle.js';
import { encodeThriftStruct, type ThriftStruct } from './thrift-compact.js';
import { thriftField } from './thrift-field.js';

/** Target size of a data page before compression (arrow-rs' default as well). */
export const PAGE_BYTES = 1024 * 1024;
/** A dictionary larger than this stops growing: the rest of the chunk is written plain. */
const DICTIONARY_LIMIT_BYTES = 1024 * 1024;
/** Byte-array min/max longer than this are left out of the statistics rather than truncated. */
const MAX_STAT_BYTES = 64;

const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

const f = thriftField;

/** What the footer needs to know about a finished column chunk. */
export interface ChunkSummary {
  bytes: Uint8Array[];
  numValues: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Offsets relative to the start of the chunk. */
  dictionaryPageOffset: number | null;
  dataPageOffset: number;
  encodings: number[];
  statistics: ThriftStruct;
}

/**
 * One column's pages for the row group in progress: values arrive as Arrow slices, are
 * PLAIN- or dictionary-encoded into ~1 MiB pages and compressed at once, so the row group
 * costs its compressed size in memory, not its Arrow size.
 */
interface PendingPage {
  rows: number;
  encoding: number;
  /** The compressed page and its facts; a promise while a compression thread has it. */
  done: EncodedPage | Promise<EncodedPage>;
}

/** Where page bodies are compressed: in this thread, or handed to compression threads. */
export interface PageCompressor {
  readonly codec: PageCodec;
  readonly pool: PageCompressPool | null;
  readonly compression: Compression;
  readonly level: number | undefined;
}

export class ColumnChunkBuilder {
  private pages: PendingPage[] = [];
  /** Page body bytes so far, before compression. */
  private uncompressed = 0;
  private numValues = 0;
  private usedPlain = false;
  private usedDictionary = false;
  // Dictionary state for the chunk: value key → index, and the dictionary page body.
  private dict: Map<unknown, number> | null = null;
  private dictBody: ByteBuffer | null = null;
  private dictCount = 0;

  constructor(
    readonly leaf: ParquetLeaf,
    private readonly compressor: PageCompressor,
    private readonly dictionary: boolean,
  ) {
    this.resetDictionary();
  }

  /** Bytes encoded so far (before compression), page headers included. */
  get encodedBytes(): number {
    return this.uncompressed + (this.dictBody?.length ?? 0);
  }

  /** Append rows [0, data.length) of one Arrow column slice. */
  append(data: Data): void {
    const n = data.length;
    if (n === 0) return;
    const bytesPerRow = Math.max(1, estimatedPlainBytes(plainPageJob(this.leaf, data, 0, n)) / n);
    const rowsPerPage = Math.max(1, Math.floor(PAGE_BYTES / bytesPerRow));
    for (let start = 0; start < n; start += rowsPerPage) this.page(data, start, Math.min(n, start + rowsPerPage));
  }

  /** Close the chunk: its pages (dictionary first), sizes and statistics. Resets the builder. */
  async finish(): Promise<ChunkSummary> {
    const out: Uint8Array[] = [];
    let uncompressed = 0;
    let compressed = 0;
    let dictionaryPageOffset: number | null = null;
    if (this.usedDictionary && this.dictBody) {
      const body = this.dictBody.take();
      const packed = this.compressor.codec.compress(body);
      const header = encodeThriftStruct([
        f.i32(1, PageType.DICTIONARY_PAGE),
        f.i32(2, body.length),
        f.i32(3, packed.length),
        f.struct(7, [f.i32(1, this.dictCount), f.i32(2, Encoding.PLAIN)]),
      ]);
      out.push(header, packed);
      dictionaryPageOffset = 0;
      uncompressed += header.length + body.length;
      compressed += header.length + packed.length;
    }
    const dataPageOffset = dictionaryPageOffset === null ? 0 : out[0].length + out[1].length;
    let nullCount = 0;
    const ext: Extremes = { min: null, max: null };
    for (const page of this.pages) {
      const done = await page.done;
      const header = encodeThriftStruct([
        f.i32(1, PageType.DATA_PAGE),
        f.i32(2, done.bodyLength),
        f.i32(3, done.packed.length),
        f.struct(5, [f.i32(1, page.rows), f.i32(2, page.encoding), f.i32(3, Encoding.RLE), f.i32(4, Encoding.RLE)]),
      ]);
      out.push(header, done.packed);
      uncompressed += header.length + done.bodyLength;
      compressed += header.length + done.packed.length;
      nullCount += done.nullCount;
      mergeExtremes(this.leaf.kind, ext, done.extremes);
    }
    const encodings: number[] = [Encoding.RLE];
    if (this.usedPlain || this.usedDictionary) encodings.unshift(Encoding.PLAIN);
    if (this.usedDictionary) encodings.push(Encoding.RLE_DICTIONARY);
    if (encodings.length === 1) encodings.unshift(Encoding.PLAIN);
    const statistics: ThriftStruct = [];
    statistics.push(f.i64(3, nullCount));
    // Byte-array extremes too long to keep are left out rather than truncated.
    const fits = (b: Uint8Array | null): b is Uint8Array => b !== null && b.length <= MAX_STAT_BYTES;
    if (fits(ext.max) && fits(ext.min)) statistics.push(f.bin(5, ext.max), f.bin(6, ext.min));
    const summary: ChunkSummary = {
      bytes: out,
      numValues: this.numValues,
      uncompressedSize: uncompressed,
      compressedSize: compressed,
      dictionaryPageOffset,
      dataPageOffset,
      encodings,
      statistics,
    };
    this.pages = [];
    this.uncompressed = 0;
    this.numValues = 0;
    this.usedPlain = false;
    this.usedDictionary = false;
    this.resetDictionary();
    return summary;
  }

  private resetDictionary(): void {
    this.dict = this.dictionary ? new Map() : null;
    this.dictBody = this.dictionary ? new ByteBuffer(64 * 1024) : null;
    this.dictCount = 0;
  }

  private page(data: Data, start: number, end: number): void {
    const rows = end - start;
    const job = plainPageJob(this.leaf, data, start, end);
    this.numValues += rows;
    // Counted from the estimate: the body's exact size is known once it is encoded, perhaps on another thread.
    this.uncompressed += estimatedPlainBytes(job);
    const { codec, pool, compression, level } = this.compressor;
    const useDict = this.dict !== null && this.dictBody !== null && this.dictBody.length < DICTIONARY_LIMIT_BYTES;
    let done: EncodedPage | Promise<EncodedPage>;
    if (useDict) {
      this.usedDictionary = true;
      done = this.dictionaryPage(job, data, start, end);
    } else {
      this.usedPlain = true;
      if (pool && codec.thriftCodec !== 0) {
        // Encoding, statistics and compression all on a compression thread.
        done = pool.encode(job, compression, level);
      } else {
        const page = encodePlainPage(job);
        // Uncompressed, a body may be the Arrow values themselves; the batch's memory is reused once `write` returns.
        const packed = codec.thriftCodec === 0 && page.body.buffer === job.values.buffer ? page.body.slice() : codec.compress(page.body);
        done = { packed, bodyLength: page.body.length, nullCount: page.nullCount, extremes: page.extremes };
      }
    }
    // A failure is reported when the chunk is finished; until then it must not count as unhandled.
    if (done instanceof Promise) done.catch(() => undefined);
    this.pages.push({ rows, encoding: useDict ? Encoding.RLE_DICTIONARY : Encoding.PLAIN, done });
  }

  /** A data page of dictionary indices; the dictionary itself grows as new values turn up. */
  private dictionaryPage(job: PlainPageJob, data: Data, start: number, end: number): EncodedPage | Promise<EncodedPage> {
    const { validity, rows } = job;
    const present = validity ? countValid(validity, job.validityBit, rows) : rows;
    if (this.leaf.required && present !== rows) throw new Error(`column "${this.leaf.name}" is required but has nulls`);
    const levels = this.leaf.required ? null : definitionLevels(validity, job.validityBit, rows);
    const prefix = levels ? 4 + levels.length : 0;
    const body = withPrefix(prefix, this.dictionaryValues(data, start, end, validity, present));
    if (levels) {
      new DataView(body.buffer, body.byteOffset).setUint32(0, levels.length, true);
      body.set(levels, 4);
    }
    const facts = { bodyLength: body.length, nullCount: rows - present, extremes: pageExtremes(job) };
    const { codec, pool, compression, level } = this.compressor;
    if (codec.thriftCodec === 0) return { packed: body, ...facts };
    if (!pool) return { packed: codec.compress(body), ...facts };
    const packed = codec.compressAsync ? pool.track(codec.compressAsync(body), body.length) : pool.compress(body, compression, level);
    return packed.then((p) => ({ packed: p, ...facts }));
  }

  /** Indices into the chunk's dictionary for the present values, adding new values to it. */
  private dictionaryValues(data: Data, start: number, end: number, validity: Uint8Array | null, present: number): Uint8Array {
    const dict = this.dict as Map<unknown, number>;
    const body = this.dictBody as ByteBuffer;
    const indices = new Int32Array(present);
    let k = 0;
    const base = data.offset;
    const kind = this.leaf.kind;
    const add = (key: unknown, write: () => void): number => {
      let idx = dict.get(key);
      if (idx === undefined) {
        idx = this.dictCount++;
        dict.set(key, idx);
        write();
      }
      return idx;
    };
    if (kind === 'bytes') {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let r = start; r < end; r++) {
        if (validity && !bit(validity, base + r)) continue;
        const s = offsets[r];
        const e = offsets[r + 1];
        indices[k++] = add(buf.toString('latin1', s, e), () => {
          const len = e - s;
          body.byte(len & 0xff);
          body.byte((len >>> 8) & 0xff);
          body.byte((len >>> 16) & 0xff);
          body.byte(len >>> 24);
          body.bytes(bytes, s, e);
        });
      }
    } else {
      const values = data.values as ArrayBufferView;
      const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      const decimal128 = kind === 'dec32' || kind === 'dec64' || kind === 'decfixed';
      const stride = decimal128 ? 16 : kind === 'fixed' ? (this.leaf.typeLength ?? 16) : kind === 'i64' || kind === 'u64' ? 8 : kind === 'i16' ? 2 : 4;
      // Bytes per dictionary entry: what a PLAIN page would hold for one value.
      const width = kind === 'dec64' || kind === 'i64' || kind === 'u64' ? 8 : kind === 'fixed' || kind === 'decfixed' ? (this.leaf.typeLength ?? 16) : 4;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let r = start; r < end; r++) {
        if (validity && !bit(validity, base + r)) continue;
        const at = r * stride;
        let key: unknown;
        if (kind === 'fixed') key = Buffer.from(raw.buffer, raw.byteOffset + at, width).toString('latin1');
        else if (kind === 'decfixed') key = Buffer.from(raw.buffer, raw.byteOffset + at, 16).toString('latin1');
        else if (kind === 'i16') key = view.getInt16(at, true);
        else if (width === 4) key = view.getInt32(at, true);
        else {
          const hi = view.getInt32(at + 4, true);
          key = hi >= -0x200000 && hi < 0x200000 ? hi * 4294967296 + view.getUint32(at, true) : view.getBigInt64(at, true);
        }
        indices[k++] = add(key, () => {
          if (kind === 'i16') {
            const v = view.getInt16(at, true);
            body.byte(v & 0xff);
            body.byte((v >> 8) & 0xff);
            const sign = v < 0 ? 0xff : 0;
            body.byte(sign);
            body.byte(sign);
          } else if (kind === 'decfixed') {
            // FIXED_LEN_BYTE_ARRAY decimals are big-endian and only `width` bytes long, as in PLAIN pages.
            for (let b = width - 1; b >= 0; b--) body.byte(raw[at + b]);
          } else body.bytes(raw, at, at + width);
        });
      }
    }
    const width = bitWidthFor(this.dictCount);
    const packed = packIndices(indices, present, width);
    const out = new Uint8Array(1 + packed.length);
    out[0] = width;
    out.set(packed, 1);
    return out;
  }
}
