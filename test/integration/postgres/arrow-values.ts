import type { RecordBatch } from 'apache-arrow';

/** Test helpers that read Arrow buffers directly, so assertions see exactly what was written. */

export function col(batch: RecordBatch, name: string) {
  const v = batch.getChild(name);
  if (!v) throw new Error(`no column ${name}`);
  return v;
}

export function isNull(batch: RecordBatch, name: string, row: number): boolean {
  return !col(batch, name).isValid(row);
}

/** Raw 64-bit values (Int64, Timestamp, Time64) as bigint. */
export function int64At(batch: RecordBatch, name: string, row: number): bigint | null {
  const v = col(batch, name);
  if (!v.isValid(row)) return null;
  return (v.data[0].values as BigInt64Array)[row];
}

export function int32At(batch: RecordBatch, name: string, row: number): number | null {
  const v = col(batch, name);
  if (!v.isValid(row)) return null;
  return (v.data[0].values as Int32Array)[row];
}

/** Decimal128/256 unscaled value as a signed bigint. */
export function decimalAt(batch: RecordBatch, name: string, row: number): bigint | null {
  const v = col(batch, name);
  if (!v.isValid(row)) return null;
  const bits = (v.type as { bitWidth: number }).bitWidth;
  const words = bits / 32;
  const w = v.data[0].values as Uint32Array;
  let x = 0n;
  for (let k = words - 1; k >= 0; k--) x = (x << 32n) | BigInt(w[row * words + k]);
  return BigInt.asIntN(bits, x);
}

export function bytesAt(batch: RecordBatch, name: string, row: number): string | null {
  const v = col(batch, name);
  if (!v.isValid(row)) return null;
  return Buffer.from(v.get(row) as Uint8Array).toString('hex');
}

export function uuidAt(batch: RecordBatch, name: string, row: number): string | null {
  const v = col(batch, name);
  if (!v.isValid(row)) return null;
  const data = v.data[0].values as Uint8Array;
  const h = Buffer.from(data.subarray(row * 16, row * 16 + 16)).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function valueAt(batch: RecordBatch, name: string, row: number): unknown {
  const v = col(batch, name);
  return v.isValid(row) ? v.get(row) : null;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Microseconds since the Unix epoch of a UTC wall-clock time. */
export function utcMicros(iso: string, micros = 0): bigint {
  return BigInt(Date.parse(iso + 'Z')) * 1000n + BigInt(micros);
}
