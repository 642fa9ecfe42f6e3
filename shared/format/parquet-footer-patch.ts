import { decodeThriftStruct, encodeThriftStruct, ThriftType, type ThriftStruct, type ThriftValue } from './thrift-compact.js';

/**
 * parquet-wasm 0.8 is built without arrow-rs' canonical-extension support, so `arrow.json`
 * and `arrow.uuid` fields come out as plain STRING / FIXED_LEN_BYTE_ARRAY(16) columns and
 * DuckDB reads them as VARCHAR / BLOB. The footer is written last and nothing points into
 * it, so we can add the JSON / UUID logical types to the schema elements afterwards without
 * moving a single data page.
 */
export type FooterLogicalType = 'json' | 'uuid';

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

// parquet.thrift field ids.
const FILE_METADATA_SCHEMA = 2;
const SCHEMA_ELEMENT_NUM_CHILDREN = 5;
const SCHEMA_ELEMENT_CONVERTED_TYPE = 6;
const SCHEMA_ELEMENT_LOGICAL_TYPE = 10;
const CONVERTED_TYPE_JSON = 19;
const LOGICAL_TYPE_JSON = 12;
const LOGICAL_TYPE_UUID = 14;

/**
 * Rewrite the footer at the end of `tail` (the last bytes of a Parquet file, containing at
 * least the whole footer, its length and the closing magic) so the top-level columns listed
 * in `columns` (by position in the Arrow schema; for list columns, their element) carry the given logical type. Returns the
 * new tail; the bytes before the footer are returned unchanged.
 */
export function patchParquetFooter(tail: Uint8Array, columns: ReadonlyMap<number, FooterLogicalType>): Uint8Array {
  if (columns.size === 0) return tail;
  const n = tail.length;
  if (n < 12 || MAGIC.some((b, i) => tail[n - 4 + i] !== b)) throw new Error('parquet footer: closing magic not found');
  const footerLen = new DataView(tail.buffer, tail.byteOffset + n - 8, 4).getUint32(0, true);
  const footerStart = n - 8 - footerLen;
  if (footerStart < 0) throw new Error('parquet footer: footer is longer than the buffered tail');

  const meta = decodeThriftStruct(tail.subarray(footerStart, n - 8));
  const schemaField = meta.find((f) => f.id === FILE_METADATA_SCHEMA);
  if (!schemaField || schemaField.value.type !== ThriftType.List) throw new Error('parquet footer: no schema list');
  const elements = schemaField.value.value;

  // elements[0] is the root; its children are the top-level columns in order, each followed
  // by its own subtree (depth-first), so skip subtrees to find the n-th top-level element.
  let idx = 1;
  const topLevel: number[] = [];
  while (idx < elements.length) {
    topLevel.push(idx);
    idx += subtreeSize(elements, idx);
  }

  for (const [col, logical] of columns) {
    let at = topLevel[col];
    if (at === undefined) throw new Error(`parquet footer: column ${col} not in schema`);
    // A list column is a chain of single-child groups (LIST → repeated list → item): the
    // logical type belongs on the leaf element at its end.
    while (numChildren(structOf(elements[at])) === 1) at += 1;
    const el = structOf(elements[at]);
    if (numChildren(el) > 0) throw new Error(`parquet footer: column ${col} is not a leaf or a list of leaves`);
    if (logical === 'json') {
      setField(el, SCHEMA_ELEMENT_CONVERTED_TYPE, { type: ThriftType.I32, value: CONVERTED_TYPE_JSON });
      setField(el, SCHEMA_ELEMENT_LOGICAL_TYPE, unionOf(LOGICAL_TYPE_JSON));
    } else {
      // UUID has no legacy converted type; drop any so old readers do not disagree.
      removeField(el, SCHEMA_ELEMENT_CONVERTED_TYPE);
      setField(el, SCHEMA_ELEMENT_LOGICAL_TYPE, unionOf(LOGICAL_TYPE_UUID));
    }
  }

  const footer = encodeThriftStruct(meta);
  const out = new Uint8Array(footerStart + footer.length + 8);
  out.set(tail.subarray(0, footerStart), 0);
  out.set(footer, footerStart);
  new DataView(out.buffer).setUint32(footerStart + footer.length, footer.length, true);
  out.set(MAGIC, footerStart + footer.length + 4);
  return out;
}

function structOf(v: ThriftValue): ThriftStruct {
  if (v.type !== ThriftType.Struct) throw new Error('parquet footer: schema element is not a struct');
  return v.value;
}

function numChildren(el: ThriftStruct): number {
  const f = el.find((x) => x.id === SCHEMA_ELEMENT_NUM_CHILDREN);
  return f && f.value.type === ThriftType.I32 ? f.value.value : 0;
}

function subtreeSize(elements: ThriftValue[], at: number): number {
  let size = 1;
  const kids = numChildren(structOf(elements[at]));
  for (let k = 0; k < kids; k++) size += subtreeSize(elements, at + size);
  return size;
}

/** A LogicalType union value whose chosen member is an empty struct (JsonType, UUIDType). */
function unionOf(member: number): ThriftValue {
  return { type: ThriftType.Struct, value: [{ id: member, value: { type: ThriftType.Struct, value: [] } }] };
}

function setField(el: ThriftStruct, id: number, value: ThriftValue): void {
  removeField(el, id);
  el.push({ id, value });
  // Keep ascending ids: the compact encoding is shortest that way and readers expect it.
  el.sort((a, b) => a.id - b.id);
}

function removeField(el: ThriftStruct, id: number): void {
  const i = el.findIndex((x) => x.id === id);
  if (i >= 0) el.splice(i, 1);
}
