/**
 * Which keys did the user actually write? Parsing applies defaults, so `mode: full` written
 * out and `mode` left out look the same afterwards. Some decisions need the difference
 * (a key whose feature is not built yet must be refused when written, even with its default
 * value; a key irrelevant to the chosen mode deserves a warning only when written). The
 * loader records, for every parsed object, the keys present in the YAML; objects built in
 * code have no record and fall back to "set means not undefined and not the default".
 */

const explicitKeys = new WeakMap<object, ReadonlySet<string>>();

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Walk `parsed` alongside the `raw` value it came from and remember the raw keys of every object. */
export function recordExplicitKeys(parsed: unknown, raw: unknown): void {
  if (Array.isArray(parsed) && Array.isArray(raw)) {
    parsed.forEach((item, i) => recordExplicitKeys(item, raw[i]));
    return;
  }
  if (!isPlainObject(parsed) || !isPlainObject(raw)) return;
  explicitKeys.set(parsed, new Set(Object.keys(raw)));
  for (const key of Object.keys(parsed)) recordExplicitKeys(parsed[key], raw[key]);
}

/**
 * Was `key` written by the user in `obj`? Without a record (object built in code), a value
 * counts as set when it is defined and differs from `defaultValue`.
 */
export function isExplicitlySet(obj: object, key: string, defaultValue?: unknown): boolean {
  const keys = explicitKeys.get(obj);
  if (keys) return keys.has(key);
  const value = (obj as Record<string, unknown>)[key];
  return value !== undefined && value !== defaultValue;
}
