import type { Destination } from '../destination/destination.js';
import { MANIFEST_KEY, RIVET_DIR } from './layout.js';
import { parseManifest, type Manifest } from './manifest.js';

/**
 * The dataset an incremental run appends to: the newest successful
 * incremental manifest at this prefix whose cursor window ENDS at the stored cursor (the
 * run's lower bound). Matching on the window rather than taking "the latest manifest" is
 * what keeps a crash harmless: if a run committed its manifest but died before its cursor
 * was stored, the next run exports that window again and builds on the manifest before it,
 * so the crashed run's parts are simply not listed — never listed twice.
 *
 * Returns null when no such manifest exists (a fresh or date-stamped prefix, a streaming
 * destination): the run's manifest then lists only its own parts. The returned manifest's
 * `parts` are its committed ones only.
 */
export async function incrementalBase(dest: Destination, from: string): Promise<Manifest | null> {
  if (dest.capabilities.streaming) return null;
  const current = await readManifest(dest, MANIFEST_KEY);
  if (current && isBase(current, from)) return committed(current);

  let best: Manifest | null = null;
  const keys = (await dest.list(`${RIVET_DIR}/runs/`)).map((o) => o.key).filter((k) => k.endsWith('/manifest.json'));
  for (const key of keys) {
    const m = await readManifest(dest, key);
    if (!m || !isBase(m, from)) continue;
    if (!best || m.finished_at > best.finished_at || (m.finished_at === best.finished_at && m.run_id > best.run_id)) best = m;
  }
  return best ? committed(best) : null;
}

function isBase(m: Manifest, from: string): boolean {
  return m.status === 'success' && m.mode === 'incremental' && m.cursor?.to === from;
}

function committed(m: Manifest): Manifest {
  return { ...m, parts: m.parts.filter((p) => p.status === 'committed') };
}

async function readManifest(dest: Destination, key: string): Promise<Manifest | null> {
  const bytes = await dest.get(key);
  return bytes ? parseManifest(bytes).manifest : null;
}
