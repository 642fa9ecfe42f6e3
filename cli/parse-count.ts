import { RivetError } from '../shared/errors/rivet-error.js';

/** A `--last N` style flag: a positive whole number, or a usage error naming the flag. */
export function parseCount(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
    throw new RivetError('USAGE', `${flag} '${value}' is not a positive whole number`, { hint: `e.g. ${flag} 10` });
  }
  return Number(value);
}
