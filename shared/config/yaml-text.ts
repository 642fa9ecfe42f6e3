import { LineCounter, parseDocument } from 'yaml';
import { configError } from '../errors/rivet-error.js';

/**
 * YAML text into a plain value (YAML 1.2 core schema, like the reference: `yes` is a string,
 * anchors and aliases work, `<<` merge keys are an ordinary key and so an unknown-key error,
 * duplicate keys are an error). Syntax errors report line and column.
 */
export function parseYamlText(text: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    const what = err.message.split('\n')[0].replace(/\s+at line \d+, column \d+:?$/, '');
    throw configError(`YAML syntax error at line ${line}, column ${col}: ${what}`, 'fix the YAML at that position (indentation, a missing `:` or an unclosed bracket are the usual causes)');
  }
  return doc.toJS({ maxAliasCount: 1000 });
}

/**
 * Keys with an empty value (`quality:` with nothing under it) count as absent, as they do for
 * the reference's optional fields. Only mapping values are dropped; lists keep their items.
 */
export function dropNullValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNullValues);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNullValues(v);
  return out;
}
