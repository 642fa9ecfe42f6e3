import type { DataType, Field, Schema } from 'apache-arrow';
import { RivetError } from '../errors/rivet-error.js';

const PARAMS = ['isSigned', 'bitWidth', 'precision', 'scale', 'unit', 'byteWidth', 'listSize', 'keysSorted', 'mode'] as const;

/**
 * Structural Arrow type equality. apache-arrow's `util.compareTypes` tells `new Int64()`
 * apart from the `Int` instance an IPC reader builds for the same type, and a missing time
 * zone (`undefined`) from `null`; producers legitimately hand us either.
 */
export function sameArrowType(a: DataType, b: DataType): boolean {
  if (a.typeId !== b.typeId) return false;
  const pa = a as unknown as Record<string, unknown>;
  const pb = b as unknown as Record<string, unknown>;
  for (const p of PARAMS) if (pa[p] !== pb[p]) return false;
  if ((pa.timezone ?? null) !== (pb.timezone ?? null)) return false;
  const ca = (a.children ?? []) as Field[];
  const cb = (b.children ?? []) as Field[];
  return ca.length === cb.length && ca.every((f, i) => f.name === cb[i].name && sameArrowType(f.type, cb[i].type));
}

/** Throws unless `got` has the columns and types of `want`: a writer is bound to one file schema. */
export function assertSameSchema(want: Schema, got: Schema): void {
  const same = got.fields.length === want.fields.length && want.fields.every((f, i) => sameArrowType(f.type, got.fields[i].type));
  if (!same) throw new RivetError('INTERNAL', `batch schema (${describe(got.fields)}) does not match the Parquet file schema (${describe(want.fields)})`);
}

function describe(fields: readonly Field[]): string {
  return fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ');
}
