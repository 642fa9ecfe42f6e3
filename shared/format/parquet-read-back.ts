import { PARQUET_MAGIC, PARQUET_TRAILER_BYTES, ParquetFooterError, parseFooterFromTail, type ParquetFooter } from './parquet-footer-reader.js';
import { CompactCursor, ThriftTruncated, Wire } from './thrift-compact-cursor.js';

/** One page as its header describes it, where it starts in the file. */
export interface PageRecord {
  offset: number;
  /** Header plus compressed body. */
  length: number;
  /** parquet.thrift PageType: 0 data, 1 index, 2 dictionary, 3 data v2. */
  type: number;
  /** Values in a data page (v1 or v2); 0 for other pages. */
  numValues: number;
}

export interface ParquetReadBackResult {
  size: number;
  pages: PageRecord[];
  /** Where the pages end: page indexes (if any) and the footer follow. */
  pagesEnd: number;
  footer: ParquetFooter;
}

/** Header bytes buffered at most while waiting for the rest of a page header. */
const HEADER_LIMIT = 16 * 1024 * 1024;

/**
 * Reads a Parquet file back as it streams out, in memory bounded by one page header plus the
 * file's trailer (page indexes and footer), however large the file: page bodies are skipped
 * by the sizes their headers give, page headers are parsed and recorded, and the first struct
 * that is not a page header starts the trailer, kept until the end so the footer can be parsed
 * from it. The footer's own offsets and sizes can then be checked against the pages actually
 * written (parquet-footer-check.ts).
 */
export class ParquetReadBack {
  private offset = 0;
  private state: 'magic' | 'pages' | 'trailer' = 'magic';
  private skip = 0;
  /** Bytes of an incomplete page header (or of the leading magic). */
  private pending: Uint8Array = new Uint8Array(0);
  private readonly trailer: Uint8Array[] = [];
  private trailerBytes = 0;
  private pagesEnd = -1;
  private readonly pages: PageRecord[] = [];
  private failure: string | null = null;

  /** Consume the next bytes of the file. Never throws: a structural problem is reported by `end`. */
  feed(chunk: Uint8Array): void {
    if (this.failure) return;
    try {
      this.consume(chunk);
    } catch (e) {
      this.failure = `at byte ${this.offset}: ${(e as Error).message}`;
    }
  }

  /** The file is complete: parse its footer. Throws ParquetFooterError naming the first problem. */
  end(): ParquetReadBackResult {
    if (this.failure) throw new ParquetFooterError(this.failure);
    if (this.state === 'magic') throw new ParquetFooterError(`the file is ${this.offset} bytes, too short for Parquet`);
    if (this.state === 'pages') {
      const what = this.skip > 0 ? `inside a page body (${this.skip} bytes missing)` : this.pending.length > 0 ? 'inside a page header' : 'after the last page';
      throw new ParquetFooterError(`the file ends ${what}, with no footer`);
    }
    const tail = Buffer.concat(this.trailer, this.trailerBytes);
    if (tail.length < PARQUET_TRAILER_BYTES) throw new ParquetFooterError('the file ends before its footer length and closing magic');
    const footer = parseFooterFromTail(tail, this.offset);
    const footerStart = this.offset - PARQUET_TRAILER_BYTES - new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true);
    if (footerStart < this.pagesEnd) throw new ParquetFooterError(`the footer would start at byte ${footerStart}, inside the last page (pages end at ${this.pagesEnd})`);
    return { size: this.offset, pages: this.pages, pagesEnd: this.pagesEnd, footer };
  }

  private consume(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'trailer') {
        const rest = chunk.subarray(at);
        // A copy: writers reuse the buffers they hand to the sink.
        this.trailer.push(Uint8Array.from(rest));
        this.trailerBytes += rest.length;
        this.offset += rest.length;
        return;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        this.offset += n;
        continue;
      }
      if (this.state === 'magic') {
        const n = Math.min(PARQUET_MAGIC.length - this.pending.length, chunk.length - at);
        this.pending = concat(this.pending, chunk.subarray(at, at + n));
        at += n;
        this.offset += n;
        if (this.pending.length === PARQUET_MAGIC.length) {
          if (!PARQUET_MAGIC.every((b, i) => this.pending[i] === b)) throw new Error('the file does not start with the Parquet magic "PAR1"');
          this.pending = new Uint8Array(0);
          this.state = 'pages';
        }
        continue;
      }
      at = this.header(chunk, at);
    }
  }

  /** Parse the page header starting at the pending bytes + chunk[at..]; returns where the chunk was consumed to. */
  private header(chunk: Uint8Array, at: number): number {
    const held = this.pending.length;
    // Without held bytes the header is read in place; otherwise only as much of the chunk
    // as a header could need is appended, never a page body.
    const view = held === 0 ? chunk.subarray(at) : concat(this.pending, chunk.subarray(at, at + Math.min(chunk.length - at, 64 * 1024)));
    const start = this.offset - held;
    const parsed = parsePageHeader(view);
    if (parsed === 'truncated') {
      const taken = view.length - held;
      if (view.length > HEADER_LIMIT) throw new Error(`a page header longer than ${HEADER_LIMIT} bytes`);
      this.pending = held === 0 ? Uint8Array.from(view) : view;
      this.offset += taken;
      return at + taken;
    }
    if (parsed === 'not-a-page') {
      // The page indexes or the footer: everything from here on is the trailer.
      this.state = 'trailer';
      this.pagesEnd = start;
      if (held > 0) {
        this.trailer.push(this.pending);
        this.trailerBytes += held;
      }
      this.pending = new Uint8Array(0);
      return at;
    }
    const used = parsed.headerLength - held;
    this.pending = new Uint8Array(0);
    this.offset += used;
    this.skip = parsed.bodyLength;
    this.pages.push({ offset: start, length: parsed.headerLength + parsed.bodyLength, type: parsed.type, numValues: parsed.numValues });
    return at + used;
  }
}

interface PageHeader {
  headerLength: number;
  bodyLength: number;
  type: number;
  numValues: number;
}

/**
 * A PageHeader begins with type (field 1, i32) and uncompressed size (field 2, i32); the
 * FileMetaData, ColumnIndex and OffsetIndex structs that may follow the pages do not (their
 * second field, or first, is a list), which is how the end of the pages is recognised.
 */
function parsePageHeader(bytes: Uint8Array): PageHeader | 'truncated' | 'not-a-page' {
  const c = new CompactCursor(bytes);
  try {
    const first = c.field(0);
    if (!first || first.id !== 1 || first.wire !== Wire.I32) return 'not-a-page';
    const type = c.int();
    const second = c.field(1);
    if (!second || second.id !== 2 || second.wire !== Wire.I32) return 'not-a-page';
    c.int();
    let compressed = -1;
    let numValues = 0;
    c.struct((id, wire) => {
      if (id === 3 && wire === Wire.I32) {
        compressed = c.int();
        return true;
      }
      // data_page_header (5) and data_page_header_v2 (8) both start with num_values.
      if ((id === 5 || id === 8) && wire === Wire.Struct) {
        c.struct((sub, subWire) => {
          if (sub === 1 && subWire === Wire.I32) {
            numValues = c.int();
            return true;
          }
          return false;
        });
        return true;
      }
      return false;
    }, 0, 2);
    if (compressed < 0) throw new Error('a page header without compressed_page_size');
    return { headerLength: c.pos, bodyLength: compressed, type, numValues };
  } catch (e) {
    if (e instanceof ThriftTruncated) return 'truncated';
    throw e;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
