import { describeVerificationFailure } from '../shared/run/describe-verification-failure.js';
import { isFatal, type PrefixVerification } from '../shared/run/verify-prefix.js';
import { thousands } from './format-helpers.js';

/** The pretty `rivet validate` block for one export (docs/commands/validate.md layout, stdout). */
export function verificationBlock(exportName: string, prefix: string, v: PrefixVerification): string {
  const lines = [`── ${exportName} ──`, `  prefix:    ${prefix || '<unresolved>'}`];
  if (v.legacy_run) {
    lines.push('  status:    legacy_run (no manifest at destination, pre-manifest prefix: present but not certified)');
  } else {
    lines.push(`  status:    ${v.passed ? 'PASSED' : 'FAILED'}`);
    if (v.manifest_found) {
      if (v.run_id) lines.push(`  run_id:    ${v.run_id}${v.row_count === null ? '' : `  (${thousands(v.row_count)} rows)`}`);
      lines.push(
        `  parts:     ${v.parts_verified} verified (${v.parts_content_verified} xxh3 content, ${v.parts_md5_verified} md5), ${v.parts_failed} failed; ${v.parts_rows_verified} parsed back with the manifest's row count`,
      );
      lines.push(
        `  _SUCCESS:  ${
          v.success_marker_consistent
            ? 'consistent'
            : v.success_marker_present || v.failures.some((f) => f.kind === 'success_marker_read_error')
              ? 'INCONSISTENT (see failures below)'
              : 'absent (no signal: readers waiting for _SUCCESS will keep waiting)'
        }`,
      );
      lines.push(`  manifest:  ${v.manifest_self_consistent ? 'self-consistent' : 'INCONSISTENT (see failures below)'}`);
    }
  }
  // Advisory findings (untracked objects) are labelled apart so nobody reads them as the reason for FAILED.
  for (const f of v.failures) lines.push(`  ${isFatal(f) ? 'failure: ' : 'advisory:'}  ${describeVerificationFailure(f)}`);
  return lines.join('\n') + '\n';
}
