import { stringify } from 'yaml';
import type { z } from 'zod';
import { suggestKey } from './did-you-mean.js';
import { describeLocation, formatKeyPath } from './key-path.js';

/**
 * zod's messages ("Invalid input: expected string, received undefined") are written for
 * programmers. This turns the most relevant issue of a failed parse into one clear line
 * that names the key path, plus a hint. Values are shown only where they cannot be secret
 * (enum choices, numbers out of range); a wrongly typed `password:` is described, not echoed.
 */
export interface SchemaProblem {
  message: string;
  hint: string;
}

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

/** The object schema at `path` (through optional/default/array/record wrappers), to list its keys. */
export function objectKeysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] | undefined {
  let node: AnySchema | undefined = unwrap(schema);
  for (const seg of path) {
    if (!node) return undefined;
    const def = node._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'object') node = (def.shape as Record<string, AnySchema>)[String(seg)];
    else if (def.type === 'array') node = def.element as AnySchema;
    else if (def.type === 'record') node = def.valueType as AnySchema;
    else return undefined;
    node = node ? unwrap(node) : undefined;
  }
  if (!node) return undefined;
  const def = node._zod.def as unknown as Record<string, unknown>;
  return def.type === 'object' ? Object.keys(def.shape as object) : undefined;
}

function unwrap(schema: AnySchema): AnySchema {
  let node = schema;
  for (;;) {
    const def = node._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') node = def.innerType as AnySchema;
    else if (def.type === 'pipe') node = def.in as AnySchema;
    else return node;
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let node: unknown = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, seg as PropertyKey)) return { found: false, value: undefined };
    node = (node as Record<PropertyKey, unknown>)[seg];
  }
  return { found: true, value: node };
}

function kindOf(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a fractional number';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'string') return 'a string';
  return typeof v;
}

const EXPECTED: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  array: 'a list',
  record: 'a mapping (key: value lines)',
};

/** A value as the user would have typed it: scalars bare or quoted, mappings and lists in YAML flow style. */
export function shown(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v !== null && typeof v === 'object') return stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
  return String(v);
}

/** Unknown keys first (they carry the did-you-mean), then wrong values, then the rest, each in parse order. */
function pickIssue(issues: readonly Issue[]): Issue {
  const rank = (i: Issue) => (i.code === 'unrecognized_keys' ? 0 : i.code === 'invalid_value' ? 1 : 2);
  return [...issues].sort((a, b) => rank(a) - rank(b))[0];
}

export function describeSchemaIssues(issues: readonly Issue[], raw: unknown, schema: AnySchema): SchemaProblem {
  const issue = pickIssue(issues);
  const path = issue.path as PropertyKey[];
  const where = formatKeyPath(path, raw);
  const more = issues.length > 1 ? `\n  (${issues.length - 1} more problem${issues.length > 2 ? 's' : ''} after this one)` : '';

  // A required key that is absent shows up as a type or enum mismatch against `undefined`.
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && path.length > 0 && !valueAt(raw, path).found) {
    const key = String(path[path.length - 1]);
    const parent = path.slice(0, -1);
    return {
      message: `missing required key '${key}' ${describeLocation(parent, raw)}${more}`,
      hint: `add \`${key}:\` ${parent.length === 0 ? 'at the top level of the file' : `to ${formatKeyPath(parent, raw)}`}`,
    };
  }

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = objectKeysAt(schema, path) ?? [];
      const keys = issue.keys;
      // A tuning knob one level too high (e.g. max_value_mb on an export) is pointed to its block.
      const tuningKeys = allowed.includes('tuning') ? (objectKeysAt(schema, [...path, 'tuning']) ?? []) : [];
      const suggestions = keys.map((k) => {
        if (tuningKeys.includes(k)) return `\n  '${k}' belongs under \`tuning:\``;
        const s = suggestKey(k, allowed);
        if (s === undefined) return '';
        return keys.length > 1 ? `\n  did you mean '${s}' instead of '${k}'?` : `\n  did you mean '${s}'?`;
      });
      return {
        message:
          `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')} ${describeLocation(path, raw)}; ` +
          `allowed keys: ${allowed.join(', ')}${suggestions.join('')}${more}`,
        hint: 'remove the key or fix its spelling (keys are snake_case and case-sensitive)',
      };
    }
    case 'invalid_value': {
      const { value } = valueAt(raw, path);
      const values = issue.values.map(String);
      const close = typeof value === 'string' ? suggestKey(value, values) : undefined;
      return {
        message: `invalid value ${shown(value)} for ${where}; expected one of: ${values.join(', ')}${close ? `\n  did you mean '${close}'?` : ''}${more}`,
        hint: `set ${String(path[path.length - 1])} to one of the listed values`,
      };
    }
    case 'invalid_type': {
      const { value } = valueAt(raw, path);
      if (path.length === 0 && (value === null || value === undefined)) {
        return { message: 'the config file is empty', hint: 'a config file is a mapping with at least `source:` and `exports:` (run `rivet init` to generate one)' };
      }
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return {
        message: `${where || 'the config'} must be ${expected}, got ${kindOf(value)}${more}`,
        hint: path.length === 0 ? 'a config file is a mapping with at least `source:` and `exports:`' : `fix the value of ${where}`,
      };
    }
    case 'too_small':
    case 'too_big': {
      const { value } = valueAt(raw, path);
      const bound = issue.code === 'too_small' ? `≥ ${String(issue.minimum)}` : `≤ ${String(issue.maximum)}`;
      return {
        message: `${where} must be ${bound}, got ${typeof value === 'number' ? value : kindOf(value)}${more}`,
        hint: `fix the value of ${where}`,
      };
    }
    default:
      return { message: `${where || 'the config'}: ${issue.message}${more}`, hint: `fix the value of ${where || 'the config'}` };
  }
}
