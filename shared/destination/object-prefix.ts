/**
 * How a destination's keys map to object names in a bucket or container.
 *
 * The reference tool concatenates `prefix + key` verbatim, so `prefix: exports/orders`
 * silently produced `exports/orderspart-000001.parquet`. rivet inserts the `/` itself
 * when the prefix does not end with one: a prefix always names a folder-like root.
 * Leading slashes are dropped because no object store gives them a meaning and S3 would
 * otherwise create an empty-named top-level "folder".
 */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').replace(/^\/+/, '');
  if (p === '') return '';
  return p.endsWith('/') ? p : `${p}/`;
}

/** The full object name for a key relative to the (normalized) prefix. */
export function objectName(prefix: string, key: string): string {
  return prefix + key.replace(/^\/+/, '');
}

/** The key relative to the prefix, or null for objects outside it. */
export function relativeKey(prefix: string, name: string): string | null {
  return name.startsWith(prefix) ? name.slice(prefix.length) : null;
}
