import { createMD5, createXXHash3 } from 'hash-wasm';
import type { Destination, ObjectInfo } from '../destination/destination.js';
import { CsvRecordCounter } from '../format/csv-record-counter.js';
import { fetchParquetFooter, ParquetFooterError, rowGroupRows } from '../format/parquet-footer-reader.js';
import { MANIFEST_KEY, RIVET_DIR, SUCCESS_KEY, isBookkeepingKey } from './layout.js';
import { parseManifest, parseSuccessMarker, type Manifest, type ManifestPart } from './manifest.js';
import { xxh3Fingerprint } from './part-hasher.js';

/**
 * One problem found at a prefix. The kinds and their fields are the reference tool's
 * `ManifestVerification` failures (docs/commands/validate.md), plus three of ours:
 * `part_content_mismatch` (the part's bytes no longer hash to its `content_fingerprint`;
 * the reference only compares sizes, so a same-size corruption passes there),
 * `part_read_error` (the part is listed but cannot be read back),
 * `part_unreadable` (its bytes match the manifest, but they are not a readable file of the
 * manifest's format: a Parquet footer that does not parse, a CSV cut inside a quoted field),
 * `part_row_count_mismatch` (the rows parsed back differ from the manifest's `rows`),
 * `manifest_not_successful` (manifest.json records a failed or interrupted run, so the
 * prefix holds no committed dataset even though every listed part may be present) and
 * `no_dataset` (no manifest.json, and nothing that looks like a pre-manifest dataset).
 */
export type VerificationFailure =
  | { kind: 'part_missing'; part_id: number; path: string }
  | { kind: 'part_size_mismatch'; part_id: number; path: string; expected: number; actual: number }
  | { kind: 'part_content_mismatch'; part_id: number; path: string; expected: string; actual: string }
  | { kind: 'part_checksum_mismatch'; part_id: number; path: string; expected: string; actual: string }
  | { kind: 'part_read_error'; part_id: number; path: string; detail: string }
  | { kind: 'part_unreadable'; part_id: number; path: string; format: 'parquet' | 'csv'; detail: string }
  | { kind: 'part_row_count_mismatch'; part_id: number; path: string; expected: number; actual: number }
  | { kind: 'success_marker_malformed'; body_preview: string }
  | { kind: 'success_marker_stale'; marker_fingerprint: string; manifest_fingerprint: string }
  | { kind: 'manifest_self_inconsistent'; detail: string }
  | { kind: 'manifest_not_successful'; status: string; run_id: string }
  | { kind: 'manifest_read_error'; detail: string }
  | { kind: 'success_marker_read_error'; detail: string }
  | { kind: 'list_prefix_error'; detail: string }
  | { kind: 'no_dataset'; detail: string }
  | { kind: 'untracked_object'; key: string; size_bytes: number };

export type VerificationFailureKind = VerificationFailure['kind'];

/** Field names and order of the reference's JSON, then ours (readers ignore unknown fields). */
export interface PrefixVerification {
  manifest_found: boolean;
  legacy_run: boolean;
  parts_verified: number;
  parts_md5_verified: number;
  parts_failed: number;
  success_marker_consistent: boolean;
  manifest_self_consistent: boolean;
  passed: boolean;
  failures: VerificationFailure[];
  /** Parts whose bytes were streamed and matched their XXH3 `content_fingerprint`. */
  parts_content_verified: number;
  /** Parts parsed back (Parquet footer through a ranged read of the tail, CSV records counted) with the manifest's row count. */
  parts_rows_verified: number;
  /** `_SUCCESS` is present at all (absent is not a failure, but it is no signal either). */
  success_marker_present: boolean;
  /** From the manifest, when it could be parsed. */
  run_id: string | null;
  row_count: number | null;
}

/** Advisory kinds: reported, never a reason to fail. */
const ADVISORY: ReadonlySet<VerificationFailureKind> = new Set(['untracked_object']);

export function isFatal(f: VerificationFailure): boolean {
  return !ADVISORY.has(f.kind);
}

/**
 * Does this verdict make the export fail? A legacy prefix is not certified (`passed` is
 * false, as in the reference) but is no failure either; everything else that did not pass is.
 */
export function verificationFailed(v: PrefixVerification): boolean {
  return !v.passed && !v.legacy_run;
}

/**
 * Check what a prefix promises against what it holds. Reads only the destination:
 * manifest.json, _SUCCESS, one listing, and every committed part streamed once (XXH3-64 and,
 * when the manifest has one, MD5) — a part corrupted in place at its original size is caught.
 *
 * A prefix without manifest.json is a legacy prefix (`legacy_run`): not certified, not a failure.
 */
export async function verifyPrefix(dest: Destination): Promise<PrefixVerification> {
  const v: PrefixVerification = {
    manifest_found: false,
    legacy_run: false,
    parts_verified: 0,
    parts_md5_verified: 0,
    parts_failed: 0,
    success_marker_consistent: false,
    manifest_self_consistent: false,
    passed: false,
    failures: [],
    parts_content_verified: 0,
    parts_rows_verified: 0,
    success_marker_present: false,
    run_id: null,
    row_count: null,
  };
  const done = () => {
    v.passed = v.manifest_found && !v.failures.some(isFatal);
    return v;
  };

  let manifestBytes: Uint8Array | null;
  try {
    manifestBytes = await dest.get(MANIFEST_KEY);
  } catch (e) {
    v.failures.push({ kind: 'manifest_read_error', detail: message(e) });
    return done();
  }
  if (!manifestBytes) {
    // Without a manifest there is nothing to certify. Foreign data objects mean a prefix
    // written before manifests existed (legacy: reported, not failed); rivet's own
    // bookkeeping or nothing at all means no run has committed here, which is a failure —
    // a sensor asking about a date nobody exported must not hear "fine".
    let objects: ObjectInfo[];
    try {
      objects = await dest.list();
    } catch (e) {
      v.failures.push({ kind: 'list_prefix_error', detail: message(e) });
      return done();
    }
    if (objects.length === 0) {
      v.failures.push({ kind: 'no_dataset', detail: 'the prefix is empty or does not exist' });
    } else if (objects.some((o) => o.key.startsWith(`${RIVET_DIR}/`))) {
      v.failures.push({ kind: 'no_dataset', detail: 'rivet runs started here but none committed a manifest.json' });
    } else {
      v.legacy_run = true;
    }
    return done();
  }
  v.manifest_found = true;

  const { manifest, problems } = parseManifest(manifestBytes);
  for (const detail of problems) v.failures.push({ kind: 'manifest_self_inconsistent', detail });
  v.manifest_self_consistent = problems.length === 0;
  if (manifest) {
    v.run_id = manifest.run_id;
    v.row_count = manifest.row_count;
    if (manifest.status !== 'success') {
      v.failures.push({ kind: 'manifest_not_successful', status: manifest.status, run_id: manifest.run_id });
    }
  }

  // The marker is judged before the parts: it is cheap, and a stale marker explains part failures.
  await checkSuccessMarker(dest, manifestBytes, v);

  let listing: Map<string, ObjectInfo>;
  try {
    listing = new Map((await dest.list()).map((o) => [o.key, o]));
  } catch (e) {
    v.failures.push({ kind: 'list_prefix_error', detail: message(e) });
    return done();
  }
  if (manifest) await checkParts(dest, manifest, listing, v);

  const listed = new Set(manifest?.parts.map((p) => p.path) ?? []);
  for (const o of listing.values()) {
    if (!isBookkeepingKey(o.key) && !listed.has(o.key)) v.failures.push({ kind: 'untracked_object', key: o.key, size_bytes: o.sizeBytes });
  }
  return done();
}

async function checkSuccessMarker(dest: Destination, manifestBytes: Uint8Array, v: PrefixVerification): Promise<void> {
  let body: Uint8Array | null;
  try {
    body = await dest.get(SUCCESS_KEY);
  } catch (e) {
    v.failures.push({ kind: 'success_marker_read_error', detail: message(e) });
    return;
  }
  if (!body) return;
  v.success_marker_present = true;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    v.failures.push({ kind: 'success_marker_malformed', body_preview: preview(Buffer.from(body).toString('latin1')) });
    return;
  }
  const marker = parseSuccessMarker(body);
  if (!marker) {
    v.failures.push({ kind: 'success_marker_malformed', body_preview: preview(text) });
    return;
  }
  const actual = await xxh3Fingerprint(manifestBytes);
  if (marker !== actual) {
    v.failures.push({ kind: 'success_marker_stale', marker_fingerprint: marker, manifest_fingerprint: actual });
    return;
  }
  v.success_marker_consistent = true;
}

async function checkParts(dest: Destination, manifest: Manifest, listing: Map<string, ObjectInfo>, v: PrefixVerification): Promise<void> {
  for (const part of manifest.parts) {
    if (part.status !== 'committed') continue;
    const fail = (f: VerificationFailure) => {
      v.parts_failed++;
      v.failures.push(f);
    };
    const found = listing.get(part.path);
    if (!found) {
      fail({ kind: 'part_missing', part_id: part.part_id, path: part.path });
      continue;
    }
    if (found.sizeBytes !== part.size_bytes) {
      fail({ kind: 'part_size_mismatch', part_id: part.part_id, path: part.path, expected: part.size_bytes, actual: found.sizeBytes });
      continue;
    }
    const csv = manifest.format === 'csv' ? new CsvRecordCounter() : null;
    let digest: { xxh3: string; md5: string };
    try {
      digest = await hashObject(dest, part.path, csv);
    } catch (e) {
      fail({ kind: 'part_read_error', part_id: part.part_id, path: part.path, detail: message(e) });
      continue;
    }
    if (digest.xxh3 !== part.content_fingerprint) {
      fail({ kind: 'part_content_mismatch', part_id: part.part_id, path: part.path, expected: part.content_fingerprint, actual: digest.xxh3 });
      continue;
    }
    // An empty content_md5 means the writer did not record one (the contract allows it).
    if (part.content_md5 && digest.md5 !== part.content_md5) {
      fail({ kind: 'part_checksum_mismatch', part_id: part.part_id, path: part.path, expected: part.content_md5, actual: digest.md5 });
      continue;
    }
    // Bytes that match the manifest can still be no readable file (written that way, or the
    // manifest and _SUCCESS rewritten to match a replaced part): parse them back.
    const rows = csv ? csvRows(csv) : await parquetRows(dest, part);
    if ('failure' in rows) {
      fail(rows.failure === 'read' ? { kind: 'part_read_error', part_id: part.part_id, path: part.path, detail: rows.detail } : { kind: 'part_unreadable', part_id: part.part_id, path: part.path, format: manifest.format, detail: rows.detail });
      continue;
    }
    if (rows.rows !== part.rows) {
      fail({ kind: 'part_row_count_mismatch', part_id: part.part_id, path: part.path, expected: part.rows, actual: rows.rows });
      continue;
    }
    v.parts_verified++;
    v.parts_content_verified++;
    v.parts_rows_verified++;
    if (part.content_md5) v.parts_md5_verified++;
  }
}

type ParsedRows = { rows: number } | { failure: 'read' | 'unreadable'; detail: string };

/** Rows from the Parquet footer, read through ranged reads of the tail (never the whole part again). */
async function parquetRows(dest: Destination, part: ManifestPart): Promise<ParsedRows> {
  try {
    const footer = await fetchParquetFooter(part.size_bytes, (offset, length) => dest.readRange(part.path, offset, length));
    const inGroups = rowGroupRows(footer);
    if (inGroups !== footer.numRows) return { failure: 'unreadable', detail: `its row groups hold ${inGroups} rows but its footer says ${footer.numRows}` };
    return { rows: footer.numRows };
  } catch (e) {
    if (e instanceof ParquetFooterError) return { failure: 'unreadable', detail: e.message };
    return { failure: 'read', detail: message(e) };
  }
}

function csvRows(counter: CsvRecordCounter): ParsedRows {
  if (!counter.headerComplete) return { failure: 'unreadable', detail: 'it has no complete header line' };
  if (counter.unterminatedQuote) return { failure: 'unreadable', detail: 'it ends inside a quoted field' };
  return { rows: counter.records };
}

/** Both digests (and, for CSV, the record count) in one streamed pass: a part is never held in memory whole. */
async function hashObject(dest: Destination, key: string, csv: CsvRecordCounter | null): Promise<{ xxh3: string; md5: string }> {
  const [xxh, md5] = await Promise.all([createXXHash3(), createMD5()]);
  xxh.init();
  md5.init();
  for await (const chunk of dest.read(key)) {
    xxh.update(chunk);
    md5.update(chunk);
    csv?.feed(chunk);
  }
  return { xxh3: `xxh3:${xxh.digest('hex')}`, md5: Buffer.from(md5.digest('binary')).toString('base64') };
}

function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
