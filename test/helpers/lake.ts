import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { queryWithDuckDB } from './readers.js';

/**
 * What a test reads back from a local prefix rivet wrote: its manifest.json, a run's plan
 * under `_rivet/runs/`, and the rows of the parts the manifest lists, read by DuckDB (a
 * reader that shares no code with rivet's writers).
 */
export interface LakeManifest {
  run_id: string;
  status: string;
  row_count: number;
  part_count: number;
  parts: { part_id: number; path: string; rows: number; status: string }[];
  cursor?: { column: string; from: string | null; to: string | null };
}

export interface LakeRunPlan {
  taskCount: number;
  parallel?: number;
  tasks: { sql: string; label?: string }[];
}

export const manifestOf = async (out: string): Promise<LakeManifest> => JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));

export const planOf = async (out: string, runId: string): Promise<LakeRunPlan> => JSON.parse(await readFile(join(out, '_rivet/runs', runId, 'plan.json'), 'utf8'));

/** `SELECT <select> FROM <the manifest's parts> <rest>` with DuckDB; no parts, no rows. */
export async function readParts(out: string, m: Pick<LakeManifest, 'parts'>, select: string, rest = ''): Promise<Record<string, unknown>[]> {
  if (m.parts.length === 0) return [];
  const files = m.parts.map((p) => `'${join(out, p.path).replaceAll("'", "''")}'`).join(', ');
  return queryWithDuckDB(`SELECT ${select} FROM read_parquet([${files}]) ${rest}`.trimEnd());
}
