import { RivetError } from '../errors/rivet-error.js';

/**
 * `--param KEY=VALUE` items into a map: split at the first `=` (values may contain `=`),
 * the last occurrence of a key wins. Unlike the reference, which silently drops an item
 * without `=`, that is a usage error: the user meant something and would get a confusing
 * "variable not set" later, or worse, nothing.
 */
export function parseParams(args: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of args) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new RivetError(
        'USAGE',
        eq < 0 ? `--param '${item}' is not of the form KEY=VALUE` : `--param '${item}' has an empty KEY`,
        { hint: 'write --param name=value (repeat --param for several values)' },
      );
    }
    params[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return params;
}

/** Params whose `${name}` token appears nowhere in `text` (sorted) — a likely typo. */
export function unusedParams(params: Readonly<Record<string, string>>, text: string): string[] {
  return Object.keys(params)
    .filter((k) => !text.includes('${' + k + '}'))
    .sort();
}
