import type { Destination } from '../destination/destination.js';
import { MANIFEST_KEY } from './layout.js';
import { parseManifest, type Manifest } from './manifest.js';

/**
 * What a repair run (`rivet repair --execute`, repair.ts) asks of `finalize` beyond a run's
 * commit: its parts join the committed dataset in place of the parts they correct, and the
 * chunk checkpoint rows of the run it repairs get the new counts.
 */
export interface RepairCommit {
  /** The chunk run the reconcile report was made of. */
  chunkRunId: string;
  /** Task index → the chunk of `chunkRunId` it re-exports. */
  chunks: { taskIndex: number; chunkIndex: number }[];
  /** Parts of the dataset the repaired chunks replace: no longer listed, never moved or deleted. */
  replaced: string[];
}

/**
 * The dataset a repair amends: the committed parts of the current manifest.json, minus those
 * it replaces. Null when the prefix no longer holds a successful manifest (the repair then
 * fails rather than commit a dataset of its own chunks alone).
 */
export async function repairBase(dest: Destination, repair: RepairCommit): Promise<Manifest | null> {
  if (dest.capabilities.streaming) return null;
  const bytes = await dest.get(MANIFEST_KEY);
  const current = bytes ? parseManifest(bytes).manifest : null;
  if (!current || current.status !== 'success') return null;
  const replaced = new Set(repair.replaced);
  return { ...current, parts: current.parts.filter((p) => !replaced.has(p.path)) };
}
