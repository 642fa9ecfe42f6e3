/**
 * Every key rivet writes under a destination root, in one place.
 *
 *   part-000001.parquet                    data parts (numbers never reused at a prefix)
 *   manifest.json                          the dataset the prefix holds now
 *   _SUCCESS                               xxh3 of manifest.json's bytes; only after a successful run
 *   _rivet/runs/<run_id>/plan.json         the run's plan (tasks), no secrets
 *   _rivet/runs/<run_id>/resume-plan.json  the tasks the latest `--resume` re-ran
 *   _rivet/runs/<run_id>/receipts/task-NNNNNN.json   one per finished task
 *   _rivet/runs/<run_id>/manifest.json     every run's manifest, kept (recoverable history)
 *   _rivet/runs/<run_id>/parts/part-…      parts a failed run had published, moved off the dataset's root
 *   _superseded/<run_id>/part-…            parts of an older snapshot, moved aside after a newer one committed
 *   _quarantine/<run_id>/…                 untracked or corrupt objects found on resume
 */
export const MANIFEST_KEY = 'manifest.json';
export const SUCCESS_KEY = '_SUCCESS';
export const RIVET_DIR = '_rivet';
export const SUPERSEDED_DIR = '_superseded';
export const QUARANTINE_DIR = '_quarantine';

const PART_RE = /^part-(\d{6,})\.[a-z0-9]+$/;

export function partKey(partNumber: number, extension: string): string {
  return `part-${String(partNumber).padStart(6, '0')}.${extension}`;
}

/** The part number of a root-level data part key, or null for anything else. */
export function partNumberOf(key: string): number | null {
  const m = PART_RE.exec(key);
  return m ? Number(m[1]) : null;
}

export const runDir = (runId: string) => `${RIVET_DIR}/runs/${runId}`;
export const planKey = (runId: string) => `${runDir(runId)}/plan.json`;
/** The tasks a `--resume` re-runs (the rest of the plan was already done); rewritten by each resume. */
export const resumePlanKey = (runId: string) => `${runDir(runId)}/resume-plan.json`;
export const quarantineKey = (runId: string, key: string) => `${QUARANTINE_DIR}/${runId}/${key}`;
export const receiptKey = (runId: string, taskIndex: number) =>
  `${runDir(runId)}/receipts/task-${String(taskIndex).padStart(6, '0')}.json`;
export const archivedManifestKey = (runId: string) => `${runDir(runId)}/manifest.json`;
export const supersededKey = (runId: string, key: string) => `${SUPERSEDED_DIR}/${runId}/${key}`;
/** Where a failed run's parts go: with the rest of that run's record, out of the dataset's root. */
export const setAsideKey = (runId: string, key: string) => `${runDir(runId)}/parts/${key}`;

/** Keys that belong to rivet's bookkeeping rather than to the dataset. */
export function isBookkeepingKey(key: string): boolean {
  return (
    key === MANIFEST_KEY ||
    key === SUCCESS_KEY ||
    key.startsWith(`${RIVET_DIR}/`) ||
    key.startsWith(`${SUPERSEDED_DIR}/`) ||
    key.startsWith(`${QUARANTINE_DIR}/`) ||
    key.endsWith('.rivet_doctor_probe')
  );
}
