import { RivetError } from '../errors/rivet-error.js';
import { expandPlaceholders, utcDate } from '../config/placeholders.js';
import { assertQualityColumns } from '../quality/quality-columns.js';
import { schemaFingerprint } from '../types/schema-fingerprint.js';
import type { DestinationTarget } from '../destination/registry.js';
import { makeRunId } from './run-id.js';
import { modePlanner } from './modes/index.js';
import { recordChunkCheckpoint } from './chunk-checkpoint.js';
import { acquireRunLease, releaseRunLease } from './run-lease.js';
import type { ModePlan, ModePlanner } from './modes/mode-planner.js';
import { partNumberOf, planKey } from './layout.js';
import type { RunDeps, ResolvedExport } from './run-deps.js';
import type { ChunkTask, RunPlan } from './run-plan.js';

export interface PlanInput {
  exportName: string;
  params?: Record<string, string>;
  /** Replaces the mode's planner (`rivet apply`: the chunk ranges fixed when the plan artifact was made). */
  modePlanner?: ModePlanner;
}

/**
 * Phase 1. Resolve one export, ask the source what it needs to know, and cut the work into
 * tasks. Opens one short connection (existence and column types); reads no rows.
 */
export async function plan(input: PlanInput, deps: RunDeps): Promise<RunPlan> {
  const params = input.params ?? {};
  const exp = await deps.resolveExport(input.exportName, params);
  if (exp.partition && exp.partition.bucket === undefined) {
    // Its prefix still holds `{partition}`: only its children, one per bucket, have somewhere to write.
    throw new RivetError('CONFIG_INVALID', `export '${exp.name}' is partitioned by '${exp.partition.column}': it runs as one export per ${exp.partition.granularity} (${exp.name}__<${exp.partition.granularity}>, ${exp.name}__null), not as one`, {
      hint: `\`rivet run\` and \`rivet cloud run\` with \`-e ${exp.name}\` expand it (startRun); to plan one child, name it`,
    });
  }
  const startedAt = deps.now();
  const runId = makeRunId(exp.name, startedAt);
  // Before anything is written: a second run of this export is refused here, not at its first part.
  const lease = await acquireRunLease(deps.state, exp.name, runId, deps.log);
  try {
    return await planLeased(input, deps, exp, { runId, startedAt, leaseToken: lease.token });
  } catch (e) {
    await releaseRunLease(deps.state, { exportName: exp.name, runId, leaseToken: lease.token }, deps.log);
    throw e;
  }
}

async function planLeased(
  input: PlanInput,
  deps: RunDeps,
  exp: ResolvedExport,
  { runId, startedAt, leaseToken }: { runId: string; startedAt: Date; leaseToken: string },
): Promise<RunPlan> {
  const params = input.params ?? {};
  const target = expandTarget(exp.destination, { date: utcDate(startedAt), exportName: exp.name, runId });
  const dest = await deps.openDestination(target);

  const source = await deps.openSource({ connection: exp.connection, columnOverrides: exp.columnOverrides, log: deps.log });
  let fingerprint: string;
  let queries: ModePlan['queries'];
  let headerExtras: ModePlan['header'];
  let checkpoint: ModePlan['checkpoint'];
  try {
    if (exp.table) {
      const qualified = exp.table.schema ? `${exp.table.schema}.${exp.table.name}` : exp.table.name;
      if (!(await source.tableExists(qualified))) {
        throw new RivetError('SOURCE_TABLE_NOT_FOUND', `export '${exp.name}': table '${qualified}' does not exist in the source database`, {
          hint: 'check the `table:` value (and its schema, e.g. `public.orders`) and that the user can see it',
        });
      }
    }
    const described = await source.describe(exp.sql);
    assertQualityColumns(exp.name, exp.quality, described.fields.map((f) => f.name));
    fingerprint = await schemaFingerprint(described);
    ({ queries, header: headerExtras, checkpoint } = await (input.modePlanner ?? modePlanner(exp.mode, exp.name))({ exp, source, state: deps.state, log: deps.log, runId, now: startedAt }));
  } finally {
    await source.close();
  }

  const firstPart = dest.capabilities.streaming ? 1 : await nextPartNumber(dest.list.bind(dest));
  // Rolling parts take consecutive numbers, so only a single-task plan may roll.
  const maxFileSize = queries.length === 1 ? exp.maxFileSize : undefined;
  if (exp.maxFileSize && queries.length > 1) {
    deps.log.warn(`export '${exp.name}': max_file_size applies to single-query modes; each chunk is written as one part`);
  }
  const tasks: ChunkTask[] = queries.map((q, i) => ({
    runId,
    exportName: exp.name,
    params,
    prefix: targetRoot(target),
    taskIndex: i,
    partNumber: firstPart + i,
    sql: q.sql,
    ...(maxFileSize ? { maxFileSize } : {}),
    ...(q.label ? { label: q.label } : {}),
    ...(q.boundary ? { boundary: q.boundary } : {}),
    leaseToken,
  }));

  const runPlan: RunPlan = {
    planVersion: 1,
    runId,
    exportName: exp.name,
    params,
    mode: exp.mode,
    format: exp.format,
    compression: exp.compression,
    prefix: targetRoot(target),
    startedAt: startedAt.toISOString(),
    taskCount: tasks.length,
    schemaFingerprint: fingerprint,
    ...(exp.parallel > 1 ? { parallel: exp.parallel } : {}),
    ...headerExtras,
    leaseToken,
    tasks,
  };
  if (!dest.capabilities.streaming) {
    await dest.put(planKey(runId), JSON.stringify(runPlan, null, 2) + '\n', { ifAbsent: true });
  }
  if (checkpoint) await recordChunkCheckpoint(exp, deps.state, { runId, prefix: runPlan.prefix, ...checkpoint });
  return runPlan;
}

/**
 * Part numbers are never reused at a prefix: a new run numbers its parts after the highest
 * one present, so it cannot replace a part another run committed, even one it supersedes.
 */
async function nextPartNumber(list: (prefix?: string) => Promise<{ key: string }[]>): Promise<number> {
  let max = 0;
  for (const o of await list('part-')) {
    const n = partNumberOf(o.key);
    if (n !== null && n > max) max = n;
  }
  return max + 1;
}

export function expandTarget(t: DestinationTarget, ctx: { date: string; exportName: string; runId: string }): DestinationTarget {
  const x = (s: string | undefined) => (s === undefined ? undefined : expandPlaceholders(s, ctx));
  return { ...t, path: x(t.path), prefix: x(t.prefix) };
}

/** The single string that identifies a run's root: the local path or the object prefix. */
export function targetRoot(t: DestinationTarget): string {
  return (t.kind === 'local' ? t.path : t.prefix) ?? '';
}

/** Rebuild the target from a plan's resolved root (workers and the finalizer never re-expand placeholders). */
export function targetFromRoot(exp: ResolvedExport, root: string): DestinationTarget {
  return exp.destination.kind === 'local'
    ? { kind: 'local', path: root }
    : { ...exp.destination, prefix: root };
}
