import { configError } from '../errors/rivet-error.js';
import { exportLabel } from './key-path.js';

/**
 * Tuning knobs written directly under `source:` or directly in an export are a common
 * mistake. Before the typed parse (which would only say "unknown key"), name them and show
 * where they go. Only these keys get this treatment, as in the reference; other tuning keys
 * placed wrongly get the generic unknown-key error with its suggestion.
 */
export const MISPLACEABLE_TUNING_KEYS = [
  'batch_size',
  'batch_size_memory_mb',
  'throttle_ms',
  'statement_timeout_s',
  'max_retries',
  'retry_backoff_ms',
  'lock_timeout_s',
  'memory_threshold_mb',
  'profile',
] as const;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function misplaced(obj: Record<string, unknown>): string[] {
  return MISPLACEABLE_TUNING_KEYS.filter((k) => Object.hasOwn(obj, k));
}

/** Throws CONFIG_INVALID when a tuning key sits directly in `source` or in an export. `doc` is the generic YAML value. */
export function checkMisplacedTuning(doc: unknown): void {
  if (!isMap(doc)) return;
  if (isMap(doc.source)) {
    const fields = misplaced(doc.source);
    if (fields.length > 0) {
      throw configError(
        `source: [${fields.join(', ')}] belong under source.tuning:, not directly under source:. Write it like this:\n` +
          `  source:\n    tuning:\n      ${fields[0]}: <value>`,
        'move these keys into a `tuning:` block inside `source:`',
      );
    }
  }
  if (!Array.isArray(doc.exports)) return;
  doc.exports.forEach((exp, i) => {
    if (!isMap(exp)) return;
    const fields = misplaced(exp);
    if (fields.length === 0) return;
    const name = typeof exp.name === 'string' && exp.name !== '' ? exp.name : '<unnamed>';
    throw configError(
      `${exportLabel(i, exp.name)}: [${fields.join(', ')}] belong under exports[].tuning:, not directly in the export. Write it like this:\n` +
        `  exports:\n    - name: ${name}\n      tuning:\n        ${fields[0]}: <value>`,
      'move these keys into a `tuning:` block inside the export',
    );
  });
}
