import type { Schema } from 'apache-arrow';
import { createXXHash3 } from 'hash-wasm';
import { arrowTypeName } from './arrow-type-name.js';
import { isMetaColumn } from './rivet-type.js';

/** Fingerprint used when the schema is not known (docs/reference/types.md). */
export const UNKNOWN_SCHEMA_FINGERPRINT = 'xxh3:0000000000000000';

// hash-wasm only hands out hashers asynchronously; creating one at module load keeps
// `schemaFingerprint` synchronous for callers.
const hasher = await createXXHash3();
const encoder = new TextEncoder();

/**
 * `xxh3:` + 16 lowercase hex of XXH3-64 over the data columns sorted by name (byte order),
 * each `<name>\t<type>\n`. Meta columns (`_rivet_*`) are excluded so that adding them does
 * not look like schema drift. Type strings come from `arrowTypeName`, so fingerprints are
 * stable across rivet versions but do not match the Rust reference's.
 */
export function schemaFingerprint(schema: Schema): string {
  const lines = schema.fields
    .filter((f) => !isMetaColumn(f.name))
    .map((f) => ({ key: encoder.encode(f.name), line: `${f.name}\t${arrowTypeName(f.type)}\n` }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  hasher.init();
  for (const l of lines) hasher.update(l.line);
  return `xxh3:${hasher.digest('hex')}`;
}

/** Column names and stable type strings in schema order, all columns included (manifests, type reports). */
export function schemaColumns(schema: Schema): { name: string; type: string }[] {
  return schema.fields.map((f) => ({ name: f.name, type: arrowTypeName(f.type) }));
}
