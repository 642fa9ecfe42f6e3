import type { VerificationFailure } from './verify-prefix.js';

/**
 * One line per failure kind, saying what is wrong and with which object, so an operator
 * can act on it without reading JSON (docs/commands/validate.md display table, plus our kinds).
 */
export function describeVerificationFailure(f: VerificationFailure): string {
  switch (f.kind) {
    case 'part_missing':
      return `part ${f.part_id} (${f.path}) is missing: the manifest lists it but the destination does not have it`;
    case 'part_size_mismatch':
      return `part ${f.part_id} (${f.path}) has the wrong size: manifest says ${f.expected} bytes, destination has ${f.actual} bytes`;
    case 'part_content_mismatch':
      return `part ${f.part_id} (${f.path}) content does not match: manifest content_fingerprint ${f.expected}, destination bytes hash to ${f.actual} (the part was modified after it was written)`;
    case 'part_checksum_mismatch':
      return `part ${f.part_id} (${f.path}) content mismatch: manifest MD5 ${f.expected}, destination MD5 ${f.actual}`;
    case 'part_read_error':
      return `part ${f.part_id} (${f.path}) could not be read back: ${f.detail}`;
    case 'part_unreadable':
      return `part ${f.part_id} (${f.path}) is not a readable ${f.format === 'parquet' ? 'Parquet' : 'CSV'} file although its bytes match the manifest: ${f.detail}`;
    case 'part_row_count_mismatch':
      return `part ${f.part_id} (${f.path}) holds ${f.actual} rows when parsed back, the manifest says ${f.expected}`;
    case 'success_marker_malformed':
      return `_SUCCESS is malformed (expected "xxh3:<16 lowercase hex>"): "${f.body_preview}"`;
    case 'success_marker_stale':
      return `_SUCCESS is stale: it holds ${f.marker_fingerprint} but manifest.json hashes to ${f.manifest_fingerprint} (manifest.json was changed or replaced after _SUCCESS was written)`;
    case 'manifest_self_inconsistent':
      return `manifest.json is not self-consistent: ${f.detail}`;
    case 'manifest_not_successful':
      return `manifest.json records run ${f.run_id} with status ${f.status}: the prefix holds no committed dataset (earlier manifests are kept under _rivet/runs/)`;
    case 'manifest_read_error':
      return `manifest.json could not be read: ${f.detail}`;
    case 'success_marker_read_error':
      return `_SUCCESS could not be read: ${f.detail}`;
    case 'list_prefix_error':
      return `the destination could not be listed: ${f.detail}`;
    case 'no_dataset':
      return `no dataset at this prefix: ${f.detail} (check the date, run id or prefix)`;
    case 'untracked_object':
      return `untracked object ${f.key} (${f.size_bytes} bytes): no manifest part lists it (advisory)`;
  }
}
