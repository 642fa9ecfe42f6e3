import { decodeThriftStruct, encodeThriftStruct, ThriftType } from './thrift-compact.js';
import type { ByteSink, FileFormat } from './format-writer.js';

/**
 * Test seam for the read-back check: RIVET_FAULT=inconsistent_footer makes every Parquet
 * part's footer claim one row more than the file holds, the way an encoder bug would, so
 * tests can prove such a part is never published. Holds the whole part in memory: tests only.
 */
export function footerFault(format: FileFormat, next: ByteSink): { sink: ByteSink; flush(): Promise<void> } | null {
  if (process.env.RIVET_FAULT !== 'inconsistent_footer' || format !== 'parquet') return null;
  const held: Uint8Array[] = [];
  return {
    sink: {
      write: async (chunk) => {
        held.push(Uint8Array.from(chunk));
      },
    },
    flush: () => next.write(withOneRowMore(Buffer.concat(held))),
  };
}

function withOneRowMore(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const length = view.getUint32(file.length - 8, true);
  const start = file.length - 8 - length;
  const meta = decodeThriftStruct(file.subarray(start, file.length - 8));
  const numRows = meta.find((f) => f.id === 3);
  if (numRows?.value.type === ThriftType.I64) numRows.value.value += 1n;
  const footer = encodeThriftStruct(meta);
  const out = new Uint8Array(start + footer.length + 8);
  out.set(file.subarray(0, start), 0);
  out.set(footer, start);
  new DataView(out.buffer).setUint32(start + footer.length, footer.length, true);
  out.set(file.subarray(file.length - 4), start + footer.length + 4);
  return out;
}
