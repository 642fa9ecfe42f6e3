import { RivetError } from '../errors/rivet-error.js';

const MIB = 1024 * 1024;

/**
 * `tuning.max_value_mb`, the single-cell ceiling every engine's batch builder enforces on
 * variable-length values (text, binary, json), in bytes; 0 turns it off.
 */
export function valueCeilingBytes(maxValueMb: number): number {
  return maxValueMb > 0 ? maxValueMb * MIB : Infinity;
}

/** The error for a cell above the ceiling (docs/modes.md, `RIVET_VALUE_TOO_LARGE`). */
export function valueTooLarge(column: string, bytes: number, ceilingBytes: number): RivetError {
  return new RivetError(
    'VALUE_TOO_LARGE',
    `column "${column}" has a value of ${(bytes / MIB).toFixed(1)} MB, over the ${(ceilingBytes / MIB).toFixed(1)} MB single-value ceiling; ` +
      'one huge cell can exhaust memory whatever the batch size',
    { hint: 'if such large values are legitimate, raise tuning.max_value_mb (or set it to 0 to turn the check off)' },
  );
}
