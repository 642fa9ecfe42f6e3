import { CompactCursor, ThriftTruncated, Wire, expectWire } from './thrift-compact-cursor.js';

/**
 * A reader for the Parquet footer (FileMetaData, parquet.thrift) that keeps only what
 * read-back checks compare: the schema tree, row groups with their column chunks, the key/value
 * metadata. It parses with its own cursor, not the encoder's code, so it can disagree with
 * rivet's writer — and it reads footers written by pyarrow, DuckDB or Spark just the same.
 */

export const PARQUET_MAGIC = Uint8Array.from([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** The footer length (4 bytes, little endian) and the closing magic. */
export const PARQUET_TRAILER_BYTES = 8;

export const Repetition = { Required: 0, Optional: 1, Repeated: 2 } as const;

export interface ParquetSchemaElement {
  name: string;
  /** Physical type (parquet.thrift `Type`); absent on groups. */
  physicalType?: number;
  typeLength?: number;
  repetition?: number;
  numChildren: number;
  convertedType?: number;
  /** Which member of the LogicalType union is set (its field id), when one is. */
  logicalType?: number;
}

export interface ParquetColumnChunk {
  path: string[];
  physicalType: number;
  codec: number;
  numValues: number;
  totalUncompressedSize: number;
  totalCompressedSize: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
}

export interface ParquetRowGroup {
  numRows: number;
  totalByteSize: number;
  columns: ParquetColumnChunk[];
}

export interface ParquetFooter {
  version: number;
  /** Depth-first, root first, as stored. */
  schema: ParquetSchemaElement[];
  numRows: number;
  rowGroups: ParquetRowGroup[];
  keyValue: Map<string, string | null>;
  createdBy?: string;
}

/** Thrown when bytes are not a readable Parquet footer; the message says what is wrong. */
export class ParquetFooterError extends Error {}

/**
 * The footer length from a file's last 8 bytes, after checking the closing magic and that
 * the footer fits in a file of `fileSize` bytes behind the leading magic.
 */
export function footerLength(last8: Uint8Array, fileSize: number): number {
  if (last8.length !== PARQUET_TRAILER_BYTES) throw new ParquetFooterError(`expected the last ${PARQUET_TRAILER_BYTES} bytes, got ${last8.length}`);
  if (!PARQUET_MAGIC.every((b, i) => last8[4 + i] === b)) throw new ParquetFooterError('the file does not end with the Parquet magic "PAR1"');
  const length = new DataView(last8.buffer, last8.byteOffset, 4).getUint32(0, true);
  if (length + PARQUET_TRAILER_BYTES + PARQUET_MAGIC.length > fileSize) {
    throw new ParquetFooterError(`the footer length (${length} bytes) does not fit in a file of ${fileSize} bytes`);
  }
  return length;
}

/** Decode a FileMetaData struct that fills `bytes` exactly. */
export function parseFileMetaData(bytes: Uint8Array): ParquetFooter {
  const c = new CompactCursor(bytes);
  const meta: Partial<ParquetFooter> & { keyValue: Map<string, string | null> } = { keyValue: new Map() };
  try {
    c.struct((id, wire) => {
      switch (id) {
        case 1:
          expectWire('FileMetaData.version', wire, Wire.I32);
          meta.version = c.int();
          return true;
        case 2:
          expectWire('FileMetaData.schema', wire, Wire.List);
          meta.schema = readList(c, 'FileMetaData.schema', () => readSchemaElement(c));
          return true;
        case 3:
          expectWire('FileMetaData.num_rows', wire, Wire.I64);
          meta.numRows = c.int();
          return true;
        case 4:
          expectWire('FileMetaData.row_groups', wire, Wire.List);
          meta.rowGroups = readList(c, 'FileMetaData.row_groups', () => readRowGroup(c));
          return true;
        case 5:
          expectWire('FileMetaData.key_value_metadata', wire, Wire.List);
          for (const [k, v] of readList(c, 'FileMetaData.key_value_metadata', () => readKeyValue(c))) meta.keyValue.set(k, v);
          return true;
        case 6:
          expectWire('FileMetaData.created_by', wire, Wire.Binary);
          meta.createdBy = c.string();
          return true;
        default:
          return false;
      }
    });
  } catch (e) {
    if (e instanceof ThriftTruncated) throw new ParquetFooterError('the footer ends in the middle of a value (truncated or not a Parquet footer)');
    if (e instanceof ParquetFooterError) throw e;
    throw new ParquetFooterError(`the footer does not parse: ${(e as Error).message}`);
  }
  if (c.remaining !== 0) throw new ParquetFooterError(`${c.remaining} bytes follow the footer's FileMetaData struct`);
  const missing = (['version', 'schema', 'numRows', 'rowGroups'] as const).filter((k) => meta[k] === undefined);
  if (missing.length > 0) throw new ParquetFooterError(`the footer lacks required FileMetaData field(s): ${missing.join(', ')}`);
  return meta as ParquetFooter;
}

/** Parse a footer from the end of a file: `tail` holds (at least) the file's last footer+8 bytes. */
export function parseFooterFromTail(tail: Uint8Array, fileSize: number): ParquetFooter {
  if (tail.length < PARQUET_TRAILER_BYTES) throw new ParquetFooterError(`the file is ${fileSize} bytes, too short for Parquet`);
  const length = footerLength(tail.subarray(tail.length - PARQUET_TRAILER_BYTES), fileSize);
  if (length + PARQUET_TRAILER_BYTES > tail.length) throw new ParquetFooterError('the footer is longer than the bytes given');
  return parseFileMetaData(tail.subarray(tail.length - PARQUET_TRAILER_BYTES - length, tail.length - PARQUET_TRAILER_BYTES));
}

/** First ranged read from the end: most footers fit, so one request usually does. */
const FIRST_TAIL_READ = 64 * 1024;

/**
 * Read and parse the footer of a stored file through ranged reads: the tail (last 8 bytes →
 * footer length → footer) and the leading magic, never the whole object.
 */
export async function fetchParquetFooter(fileSize: number, readRange: (offset: number, length: number) => Promise<Uint8Array>): Promise<ParquetFooter> {
  const minimum = PARQUET_MAGIC.length + PARQUET_TRAILER_BYTES;
  if (fileSize < minimum) throw new ParquetFooterError(`the file is ${fileSize} bytes, too short for Parquet (at least ${minimum})`);
  const first = Math.min(fileSize, FIRST_TAIL_READ);
  let tail = await readExactly(readRange, fileSize - first, first);
  const length = footerLength(tail.subarray(first - PARQUET_TRAILER_BYTES), fileSize);
  const needed = length + PARQUET_TRAILER_BYTES;
  if (needed > tail.length) {
    const more = await readExactly(readRange, fileSize - needed, needed - tail.length);
    const joined = new Uint8Array(needed);
    joined.set(more, 0);
    joined.set(tail, more.length);
    tail = joined;
  }
  const head = first === fileSize ? tail.subarray(0, 4) : await readExactly(readRange, 0, PARQUET_MAGIC.length);
  if (!PARQUET_MAGIC.every((b, i) => head[i] === b)) throw new ParquetFooterError('the file does not start with the Parquet magic "PAR1"');
  return parseFooterFromTail(tail, fileSize);
}

async function readExactly(readRange: (offset: number, length: number) => Promise<Uint8Array>, offset: number, length: number): Promise<Uint8Array> {
  const bytes = await readRange(offset, length);
  if (bytes.length !== length) throw new ParquetFooterError(`a ranged read of ${length} bytes at offset ${offset} returned ${bytes.length}`);
  return bytes;
}

/** Total rows as the row groups count them. */
export function rowGroupRows(footer: ParquetFooter): number {
  return footer.rowGroups.reduce((n, g) => n + g.numRows, 0);
}

function readList<T>(c: CompactCursor, what: string, element: () => T): T[] {
  const { wire, size } = c.list();
  expectWire(`${what} element`, wire, Wire.Struct);
  const out: T[] = [];
  for (let i = 0; i < size; i++) out.push(element());
  return out;
}

function readSchemaElement(c: CompactCursor): ParquetSchemaElement {
  const el: Partial<ParquetSchemaElement> = { numChildren: 0 };
  c.struct((id, wire) => {
    switch (id) {
      case 1:
        expectWire('SchemaElement.type', wire, Wire.I32);
        el.physicalType = c.int();
        return true;
      case 2:
        expectWire('SchemaElement.type_length', wire, Wire.I32);
        el.typeLength = c.int();
        return true;
      case 3:
        expectWire('SchemaElement.repetition_type', wire, Wire.I32);
        el.repetition = c.int();
        return true;
      case 4:
        expectWire('SchemaElement.name', wire, Wire.Binary);
        el.name = c.string();
        return true;
      case 5:
        expectWire('SchemaElement.num_children', wire, Wire.I32);
        el.numChildren = c.int();
        return true;
      case 6:
        expectWire('SchemaElement.converted_type', wire, Wire.I32);
        el.convertedType = c.int();
        return true;
      case 10:
        expectWire('SchemaElement.logicalType', wire, Wire.Struct);
        el.logicalType = unionMember(c);
        return true;
      default:
        return false;
    }
  });
  if (el.name === undefined) throw new ParquetFooterError('a schema element has no name');
  return el as ParquetSchemaElement;
}

/** A union is a struct with one field set: its id names the member. */
function unionMember(c: CompactCursor): number | undefined {
  let member: number | undefined;
  c.struct((id) => {
    member ??= id;
    return false;
  });
  return member;
}

function readRowGroup(c: CompactCursor): ParquetRowGroup {
  const g: Partial<ParquetRowGroup> = {};
  c.struct((id, wire) => {
    switch (id) {
      case 1:
        expectWire('RowGroup.columns', wire, Wire.List);
        g.columns = readList(c, 'RowGroup.columns', () => readColumnChunk(c));
        return true;
      case 2:
        expectWire('RowGroup.total_byte_size', wire, Wire.I64);
        g.totalByteSize = c.int();
        return true;
      case 3:
        expectWire('RowGroup.num_rows', wire, Wire.I64);
        g.numRows = c.int();
        return true;
      default:
        return false;
    }
  });
  if (g.columns === undefined || g.numRows === undefined || g.totalByteSize === undefined) {
    throw new ParquetFooterError('a row group lacks columns, num_rows or total_byte_size');
  }
  return g as ParquetRowGroup;
}

function readColumnChunk(c: CompactCursor): ParquetColumnChunk {
  let meta: ParquetColumnChunk | undefined;
  c.struct((id, wire) => {
    if (id !== 3) return false;
    expectWire('ColumnChunk.meta_data', wire, Wire.Struct);
    meta = readColumnMetaData(c);
    return true;
  });
  // Optional in the format (for chunks stored in other files), but rivet and every reader
  // we check against keep it inline; without it the chunk cannot be read from this file.
  if (!meta) throw new ParquetFooterError('a column chunk has no inline meta_data');
  return meta;
}

function readColumnMetaData(c: CompactCursor): ParquetColumnChunk {
  const m: Partial<ParquetColumnChunk> = {};
  c.struct((id, wire) => {
    switch (id) {
      case 1:
        expectWire('ColumnMetaData.type', wire, Wire.I32);
        m.physicalType = c.int();
        return true;
      case 3: {
        expectWire('ColumnMetaData.path_in_schema', wire, Wire.List);
        const { wire: el, size } = c.list();
        expectWire('ColumnMetaData.path_in_schema element', el, Wire.Binary);
        m.path = [];
        for (let i = 0; i < size; i++) m.path.push(c.string());
        return true;
      }
      case 4:
        expectWire('ColumnMetaData.codec', wire, Wire.I32);
        m.codec = c.int();
        return true;
      case 5:
        expectWire('ColumnMetaData.num_values', wire, Wire.I64);
        m.numValues = c.int();
        return true;
      case 6:
        expectWire('ColumnMetaData.total_uncompressed_size', wire, Wire.I64);
        m.totalUncompressedSize = c.int();
        return true;
      case 7:
        expectWire('ColumnMetaData.total_compressed_size', wire, Wire.I64);
        m.totalCompressedSize = c.int();
        return true;
      case 9:
        expectWire('ColumnMetaData.data_page_offset', wire, Wire.I64);
        m.dataPageOffset = c.int();
        return true;
      case 11:
        expectWire('ColumnMetaData.dictionary_page_offset', wire, Wire.I64);
        m.dictionaryPageOffset = c.int();
        return true;
      default:
        return false;
    }
  });
  const required = ['physicalType', 'path', 'codec', 'numValues', 'totalUncompressedSize', 'totalCompressedSize', 'dataPageOffset'] as const;
  const missing = required.filter((k) => m[k] === undefined);
  if (missing.length > 0) throw new ParquetFooterError(`a column chunk's metadata lacks ${missing.join(', ')}`);
  return m as ParquetColumnChunk;
}

function readKeyValue(c: CompactCursor): [string, string | null] {
  let key: string | undefined;
  let value: string | null = null;
  c.struct((id, wire) => {
    if (id === 1) {
      expectWire('KeyValue.key', wire, Wire.Binary);
      key = c.string();
      return true;
    }
    if (id === 2) {
      expectWire('KeyValue.value', wire, Wire.Binary);
      value = c.string();
      return true;
    }
    return false;
  });
  if (key === undefined) throw new ParquetFooterError('a key/value metadata entry has no key');
  return [key, value];
}
