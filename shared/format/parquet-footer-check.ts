import { DataType, type Field, type Schema } from 'apache-arrow';
import { Repetition, type ParquetColumnChunk, type ParquetSchemaElement } from './parquet-footer-reader.js';
import type { PageRecord, ParquetReadBackResult } from './parquet-read-back.js';

/** What the caller handed the writer: its schema, its rows, and the row-group limit it set. */
export interface ParquetIntent {
  schema: Schema;
  rows: number;
  rowGroupRows: number;
}

/** Problems reported at most, so one broken footer does not make a thousand-line error. */
const MAX_PROBLEMS = 5;

/**
 * Compare a part read back from its bytes with what its writer was asked to write: total
 * rows, rows per row group, the schema's top-level columns and leaves, and — from the pages
 * walked on the way — that every column chunk's offsets, sizes and value counts describe the
 * pages actually in the file. Returns the problems found (empty when the part is consistent).
 */
export function parquetFooterProblems(readBack: ParquetReadBackResult, intent: ParquetIntent): string[] {
  const problems: string[] = [];
  const add = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const { footer } = readBack;

  if (footer.numRows !== intent.rows) add(`the footer says ${footer.numRows} rows, the writer was given ${intent.rows}`);
  const groupRows = footer.rowGroups.reduce((n, g) => n + g.numRows, 0);
  if (groupRows !== footer.numRows) add(`the row groups hold ${groupRows} rows but the footer's num_rows is ${footer.numRows}`);
  footer.rowGroups.forEach((g, i) => {
    if (g.numRows < 1 || g.numRows > intent.rowGroupRows) add(`row group ${i} has ${g.numRows} rows (expected 1 to ${intent.rowGroupRows})`);
  });

  const leaves = schemaLeaves(footer.schema, intent.schema, add);
  if (leaves) {
    footer.rowGroups.forEach((g, gi) => {
      if (g.columns.length !== leaves.length) {
        add(`row group ${gi} has ${g.columns.length} column chunks for ${leaves.length} leaf columns`);
        return;
      }
      g.columns.forEach((col, ci) => {
        const leaf = leaves[ci];
        if (col.path.join('.') !== leaf.path.join('.')) add(`row group ${gi} column ${ci} is "${col.path.join('.')}", the schema's leaf is "${leaf.path.join('.')}"`);
        if (col.physicalType !== leaf.element.physicalType) add(`row group ${gi} column "${leaf.path.join('.')}" has physical type ${col.physicalType}, the schema says ${leaf.element.physicalType}`);
        // A column that is never repeated has exactly one value (or null) per row.
        if (!leaf.repeated && col.numValues !== g.numRows) add(`row group ${gi} column "${leaf.path.join('.')}" has ${col.numValues} values for ${g.numRows} rows`);
      });
    });
  }
  checkChunksAgainstPages(readBack, add);
  return problems;
}

interface Leaf {
  path: string[];
  element: ParquetSchemaElement;
  repeated: boolean;
}

/** The schema tree's leaves, after checking its top level against the Arrow schema; null when the tree is unusable. */
function schemaLeaves(elements: ParquetSchemaElement[], schema: Schema, add: (p: string) => void): Leaf[] | null {
  const root = elements[0];
  if (!root) {
    add('the footer has an empty schema');
    return null;
  }
  const leaves: Leaf[] = [];
  let at = 1;
  const walk = (path: string[], repeated: boolean): void => {
    const el = elements[at++];
    if (!el) throw new RangeError('schema tree ends early');
    const here = [...path, el.name];
    const rep = repeated || el.repetition === Repetition.Repeated;
    if (el.numChildren === 0) leaves.push({ path: here, element: el, repeated: rep });
    for (let k = 0; k < el.numChildren; k++) walk(here, rep);
  };
  const top: ParquetSchemaElement[] = [];
  try {
    for (let k = 0; k < root.numChildren; k++) {
      top.push(elements[at]);
      const before = leaves.length;
      walk([], false);
      const field = schema.fields[k];
      if (field && leaves.length - before !== arrowLeafCount(field.type)) {
        add(`column "${field.name}" has ${leaves.length - before} leaves in the footer, ${arrowLeafCount(field.type)} in the Arrow schema`);
      }
    }
  } catch {
    add(`the schema tree does not match its num_children counts (${elements.length} elements)`);
    return null;
  }
  if (at !== elements.length) add(`${elements.length - at} schema elements are outside the root's tree`);
  if (top.length !== schema.fields.length) {
    add(`the footer has ${top.length} top-level columns, the writer was given ${schema.fields.length}`);
    return null;
  }
  schema.fields.forEach((f, i) => {
    const el = top[i];
    if (el.name !== f.name) add(`top-level column ${i} is "${el.name}" in the footer, "${f.name}" in the Arrow schema`);
    const want = f.nullable ? Repetition.Optional : Repetition.Required;
    if (el.repetition !== want) add(`column "${f.name}" is ${repetitionName(el.repetition)} in the footer but ${f.nullable ? 'nullable' : 'not nullable'} in the Arrow schema`);
  });
  return leaves;
}

function arrowLeafCount(type: DataType): number {
  if (DataType.isStruct(type) || DataType.isMap(type) || DataType.isList(type) || DataType.isFixedSizeList(type)) {
    return type.children.reduce((n: number, c: Field) => n + arrowLeafCount(c.type), 0);
  }
  return 1;
}

function repetitionName(r: number | undefined): string {
  return r === Repetition.Required ? 'REQUIRED' : r === Repetition.Optional ? 'OPTIONAL' : r === Repetition.Repeated ? 'REPEATED' : 'without repetition';
}

/**
 * Column chunks follow each other from the leading magic to the end of the pages; each
 * starts on a page header, spans whole pages, and counts the values its data pages hold.
 */
function checkChunksAgainstPages({ pages, pagesEnd, footer }: ParquetReadBackResult, add: (p: string) => void): void {
  const byOffset = new Map<number, number>();
  pages.forEach((p, i) => byOffset.set(p.offset, i));
  let expectedStart = 4;
  footer.rowGroups.forEach((g, gi) => {
    g.columns.forEach((col) => {
      const name = `row group ${gi} column "${col.path.join('.')}"`;
      const start = chunkStart(col);
      if (start !== expectedStart) {
        add(`${name} starts at byte ${start}, the previous chunk ended at ${expectedStart}`);
        return;
      }
      expectedStart = start + col.totalCompressedSize;
      let i = byOffset.get(start);
      if (i === undefined) {
        add(`${name} starts at byte ${start}, where no page header is`);
        return;
      }
      const chunkPages: PageRecord[] = [];
      while (i < pages.length && pages[i].offset < start + col.totalCompressedSize) chunkPages.push(pages[i++]);
      const last = chunkPages[chunkPages.length - 1];
      if (last.offset + last.length !== start + col.totalCompressedSize) {
        add(`${name} claims ${col.totalCompressedSize} bytes, its pages end ${last.offset + last.length - start} bytes after its start`);
        return;
      }
      const data = chunkPages.filter((p) => p.type === 0 || p.type === 3);
      if (data[0]?.offset !== col.dataPageOffset) add(`${name} has data_page_offset ${col.dataPageOffset}, its first data page is at ${data[0]?.offset ?? 'none'}`);
      const values = data.reduce((n, p) => n + p.numValues, 0);
      if (values !== col.numValues) add(`${name} claims ${col.numValues} values, its data pages hold ${values}`);
    });
  });
  if (expectedStart !== pagesEnd) add(`the column chunks end at byte ${expectedStart}, the pages at ${pagesEnd}`);
}

function chunkStart(col: ParquetColumnChunk): number {
  return col.dictionaryPageOffset !== undefined && col.dictionaryPageOffset > 0 ? Math.min(col.dictionaryPageOffset, col.dataPageOffset) : col.dataPageOffset;
}
