import { expect } from 'vitest';
import { successMarker } from '../../shared/run/manifest.js';
import { readPrefix } from './localstack.js';

/** The run-specific values of a manifest, each replaced by a label, so the rest can be compared byte for byte. */
export function withoutRunValues(bytes: Buffer): string {
  const m = JSON.parse(bytes.toString('utf8')) as { run_id: string; started_at: string; finished_at: string; destination: { uri: string } };
  let text = bytes.toString('utf8');
  for (const [label, value] of [['<run_id>', m.run_id], ['<started_at>', m.started_at], ['<finished_at>', m.finished_at], ['<uri>', m.destination.uri]]) {
    text = text.replaceAll(JSON.stringify(value), JSON.stringify(label));
  }
  return text;
}

/**
 * Two datasets, written by `rivet run` (`local`) and the deployed stack (`cloud`) under their
 * own prefixes of one bucket: the same parts byte for byte, the same manifest but for run
 * values, each `_SUCCESS` true to its own manifest.
 */
export async function expectSameDataset(bucket: string, local: string, cloud: string): Promise<{ parts: number }> {
  const [l, c] = [await readPrefix(bucket, local), await readPrefix(bucket, cloud)];
  const dataKeys = (m: Map<string, Buffer>) => [...m.keys()].filter((k) => k.startsWith('part-')).sort();
  expect(dataKeys(c)).toEqual(dataKeys(l));
  expect(dataKeys(l).length).toBeGreaterThan(0);
  for (const key of dataKeys(l)) {
    const [a, b] = [l.get(key)!, c.get(key)!];
    expect({ key, size: b.length, equal: a.equals(b) }, `${cloud}${key}: deployed ${b.length} B vs local ${a.length} B`).toEqual({ key, size: a.length, equal: true });
  }
  const [lm, cm] = [l.get('manifest.json')!, c.get('manifest.json')!];
  expect(withoutRunValues(cm)).toBe(withoutRunValues(lm));
  expect(JSON.parse(cm.toString()).destination.uri).toContain(cloud);
  expect(l.get('_SUCCESS')!.toString()).toBe(await successMarker(lm));
  expect(c.get('_SUCCESS')!.toString()).toBe(await successMarker(cm));
  return { parts: dataKeys(l).length };
}
