import { z } from 'zod';
import { xxh3Fingerprint } from './part-hasher.js';

/**
 * `manifest.json`, manifest_version 1. Field order is the reference tool's, so byte-level
 * diffs between tools stay readable; readers ignore unknown fields, which is where our
 * additions (`mode`, `columns`) go — at the end.
 */
export interface ManifestPart {
  part_id: number;
  path: string;
  rows: number;
  size_bytes: number;
  content_fingerprint: string;
  content_md5: string;
  status: 'committed' | 'quarantined';
}

export interface Manifest {
  manifest_version: 1;
  run_id: string;
  export_name: string;
  started_at: string;
  finished_at: string;
  status: 'success' | 'failed' | 'interrupted';
  source: { engine: string; schema: string | null; table: string | null };
  destination: { kind: string; uri: string };
  format: 'parquet' | 'csv';
  compression: string;
  schema_fingerprint: string;
  row_count: number;
  part_count: number;
  parts: ManifestPart[];
  mode: string;
  columns: { name: string; type: string }[];
  /** Incremental runs: the cursor window this run covered (`to` becomes the stored cursor). */
  cursor?: { column: string; from: string | null; to: string | null };
}

const ManifestPartSchema = z.looseObject({
  part_id: z.number().int(),
  path: z.string(),
  rows: z.number().int().nonnegative(),
  size_bytes: z.number().int().nonnegative(),
  content_fingerprint: z.string(),
  content_md5: z.string(),
  status: z.enum(['committed', 'quarantined']),
});

const ManifestSchema = z.looseObject({
  manifest_version: z.number().int(),
  run_id: z.string(),
  export_name: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  status: z.enum(['success', 'failed', 'interrupted']),
  source: z.looseObject({ engine: z.string(), schema: z.string().nullable(), table: z.string().nullable() }),
  destination: z.looseObject({ kind: z.string(), uri: z.string() }),
  format: z.enum(['parquet', 'csv']),
  compression: z.string(),
  schema_fingerprint: z.string(),
  row_count: z.number().int().nonnegative(),
  part_count: z.number().int().nonnegative(),
  parts: z.array(ManifestPartSchema),
  mode: z.string().default('full'),
  columns: z.array(z.object({ name: z.string(), type: z.string() })).default([]),
});

/** Build a manifest object with every field in contract order. */
export function buildManifest(fields: Omit<Manifest, 'manifest_version' | 'row_count' | 'part_count'>): Manifest {
  const committed = fields.parts.filter((p) => p.status === 'committed');
  return {
    manifest_version: 1,
    run_id: fields.run_id,
    export_name: fields.export_name,
    started_at: fields.started_at,
    finished_at: fields.finished_at,
    status: fields.status,
    source: fields.source,
    destination: fields.destination,
    format: fields.format,
    compression: fields.compression,
    schema_fingerprint: fields.schema_fingerprint,
    row_count: committed.reduce((n, p) => n + p.rows, 0),
    part_count: committed.length,
    parts: fields.parts.map((p) => ({
      part_id: p.part_id,
      path: p.path,
      rows: p.rows,
      size_bytes: p.size_bytes,
      content_fingerprint: p.content_fingerprint,
      content_md5: p.content_md5,
      status: p.status,
    })),
    mode: fields.mode,
    columns: fields.columns,
    ...(fields.cursor ? { cursor: fields.cursor } : {}),
  };
}

/** The exact bytes written to `manifest.json` (pretty JSON, 2-space indent, trailing newline). */
export function serializeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n');
}

/** Parse and check a manifest; returns the problems found rather than throwing on the first. */
export function parseManifest(bytes: Uint8Array): { manifest: Manifest | null; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return { manifest: null, problems: [`manifest.json is not valid JSON: ${(e as Error).message}`] };
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { manifest: null, problems: [`manifest.json does not match manifest_version 1: ${first?.path.join('.')}: ${first?.message}`] };
  }
  const m = parsed.data as unknown as Manifest;
  return { manifest: m, problems: selfConsistencyProblems(m) };
}

export function selfConsistencyProblems(m: Manifest): string[] {
  const problems: string[] = [];
  if (m.manifest_version !== 1) problems.push(`unsupported manifest_version ${m.manifest_version} (expected 1)`);
  const committed = m.parts.filter((p) => p.status === 'committed');
  if (m.part_count !== committed.length) problems.push(`part_count declares ${m.part_count} parts but ${committed.length} committed parts are listed`);
  const rows = committed.reduce((n, p) => n + p.rows, 0);
  if (m.row_count !== rows) problems.push(`row_count declares ${m.row_count} rows but the committed parts sum to ${rows}`);
  const ids = new Set<number>();
  for (const p of m.parts) {
    if (ids.has(p.part_id)) problems.push(`duplicate part_id ${p.part_id} in manifest.parts`);
    ids.add(p.part_id);
  }
  return problems;
}

/** `_SUCCESS` body: `xxh3:<16 lowercase hex>\n` over the manifest's exact bytes. */
export async function successMarker(manifestBytes: Uint8Array): Promise<string> {
  return `${await xxh3Fingerprint(manifestBytes)}\n`;
}

/** Parse a `_SUCCESS` body; null when malformed. Trailing whitespace/CRLF is accepted, uppercase hex is not. */
export function parseSuccessMarker(body: Uint8Array): string | null {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body).replace(/[\s]+$/, '');
  return /^xxh3:[0-9a-f]{16}$/.test(text) ? text : null;
}
