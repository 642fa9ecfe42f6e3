import type { Destination } from '../destination/destination.js';
import { MANIFEST_KEY, RIVET_DIR, archivedManifestKey } from './layout.js';
import type { CursorWindow } from './cursor-window.js';
import { parseManifest, type Manifest } from './manifest.js';

/**
 * The dataset an incremental run appends to: the manifest of the run that committed the
 * stored cursor boundary (the run's `baseRunId`), or — for a cursor stored without one — the
 * newest successful incremental manifest at this prefix whose cursor window ENDS at the
 * stored cursor (the run's lower bound). Matching on the state rather than taking "the latest
 * manifest" is what keeps a crash harmless: if a run committed its manifest but died before
 * its cursor was stored, the next run exports those rows again and builds on the manifest
 * before it, so the crashed run's parts are simply not listed — never listed twice. (The
 * window alone no longer tells runs apart: several runs may re-read the same cursor value.)
 *
 * Returns null when no such manifest exists (a fresh or date-stamped prefix, a streaming
 * destination): the run's manifest then lists only its own parts. The returned manifest's
 * `parts` are its committed ones only.
 */
export async function incrementalBase(dest: Destination, window: CursorWindow): Promise<Manifest | null> {
  if (dest.capabilities.streaming || window.from === null) return null;
  const from = window.from;
  const current = await readManifest(dest, MANIFEST_KEY);
  const baseRunId = window.boundary?.baseRunId ?? null;
  if (baseRunId !== null) {
    if (current?.run_id === baseRunId) return isBase(current, from) ? committed(current) : null;
    const archived = await readManifest(dest, archivedManifestKey(baseRunId));
    // Absent at this prefix (a date-stamped path, a cleaned bucket): the run starts a dataset here.
    return archived && isBase(archived, from) ? committed(archived) : null;
  }
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
