/**
 * Human key paths for messages: `source.tls.mode`, `exports[0] (orders).compression_level`.
 * The export name is added after the index because people look for the name, not the index.
 */

export function exportLabel(index: number, name: unknown): string {
  return `exports[${index}] (${typeof name === 'string' && name !== '' ? name : '<unnamed>'})`;
}

/** Format a parse path. `root` is the raw config, used to find export names. */
export function formatKeyPath(path: readonly PropertyKey[], root: unknown): string {
  let out = '';
  let node: unknown = root;
  path.forEach((seg, i) => {
    const parent = node;
    node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[seg] : undefined;
    if (typeof seg === 'number') {
      if (i === 1 && path[0] === 'exports') {
        const name = node !== null && typeof node === 'object' ? (node as Record<string, unknown>).name : undefined;
        out = exportLabel(seg, name);
      } else {
        out += `[${seg}]`;
      }
      return;
    }
    const key = String(seg);
    // Map keys that are not identifiers (column names in `columns:`) are shown quoted.
    const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || !(parent && typeof parent === 'object' && !Array.isArray(parent));
    out += out === '' ? key : plain ? `.${key}` : `['${key}']`;
  });
  return out;
}

/** "at the top level" / "in source.tls" — where an object-level problem sits. */
export function describeLocation(path: readonly PropertyKey[], root: unknown): string {
  return path.length === 0 ? 'at the top level' : `in ${formatKeyPath(path, root)}`;
}
