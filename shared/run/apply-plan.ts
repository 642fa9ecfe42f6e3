import { resolveSourceConnection } from '../config/connection.js';
import { RivetError } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import type { OpenSource } from '../source/source.js';
import type { Destination } from '../destination/destination.js';
import type { DestinationTarget } from '../destination/registry.js';
import type { StateStore } from '../state/state-store.js';
import { chunkPlanHash, refuseUnfinishedCheckpoint } from './chunk-checkpoint.js';
import { chunkLabel, chunkQueryBuilder, keysOfPredicate, predicateFromKeys } from './chunk-keys.js';
import type { ModePlanner } from './modes/mode-planner.js';
import { fromResolvedPlan, sourceConfigOf, type PlanArtifact } from './plan-artifact.js';
import { planStaleness } from './plan-staleness.js';
import type { ProgressEvent, ResolvedExport, RunDeps } from './run-deps.js';

export interface ApplyDeps {
  openSource: OpenSource;
  openDestination(target: DestinationTarget): Promise<Destination>;
  state: StateStore;
  log: Logger;
  now(): Date;
  env?: NodeJS.ProcessEnv;
  onProgress?(e: ProgressEvent): void;
}

/**
 * The gates of `rivet apply`, in order, before anything is read or written: staleness,
 * fingerprint (the chunk ranges must belong to the resolved query), cursor drift. Returns
 * the export to run and the checks `force` skipped.
 */
export async function checkPlanArtifact(
  artifact: PlanArtifact,
  options: { force: boolean; now: Date; env?: NodeJS.ProcessEnv; state: StateStore; log: Logger },
): Promise<{ exp: ResolvedExport; bypassed: string[] }> {
  const { log } = options;
  const name = artifact.export_name;
  const bypassed: string[] = [];
  const stale = planStaleness(name, artifact.created_at, options.now);
  if (stale.verdict === 'warn') log.warn(stale.message);
  if (stale.verdict === 'refuse') {
    if (!options.force) {
      throw new RivetError('USAGE', stale.message, { hint: 'regenerate it with `rivet plan`, or apply it anyway with `--force`' });
    }
    log.warn(`${stale.message}; applying anyway because of --force`);
    bypassed.push('staleness');
  }

  const rp = artifact.resolved_plan;
  if (rp.export_name !== name) {
    throw new RivetError('USAGE', `the plan artifact is inconsistent: export_name '${name}' but resolved_plan.export_name '${rp.export_name}'`, {
      hint: 'regenerate the plan with `rivet plan`; plan files must not be edited',
    });
  }
  if (rp.source.credentials_removed) {
    throw new RivetError('USAGE', `the plan for export '${name}' was made from a config with clear-text credentials, which a plan never carries, so it cannot log in`, {
      hint: 'move the password to `password_env:` (or the URL to `url_env:` / `url_file:`), then make the plan again with `rivet plan`',
    });
  }
  const connection = resolveSourceConnection(sourceConfigOf(rp.source), { env: options.env, configDir: rp.config_dir, log });
  const exp = fromResolvedPlan(rp, connection);

  if (exp.mode === 'chunked') {
    const fingerprint = await chunkPlanHash(exp);
    if (fingerprint !== artifact.plan_fingerprint || artifact.computed.chunk_count !== artifact.computed.chunk_ranges.length) {
      throw new RivetError('USAGE', `the plan for export '${name}' was modified after it was made: its fingerprint ${artifact.plan_fingerprint || '(empty)'} does not match its query and chunking (${fingerprint})`, {
        hint: 'the chunk ranges only hold for the query they were computed from; regenerate the plan with `rivet plan`',
      });
    }
  }

  const snapshot = artifact.computed.cursor_snapshot;
  if (exp.mode === 'incremental' && snapshot !== null) {
    const current = await options.state.getCursor(name);
    if (current !== snapshot) {
      const message = `the stored cursor of export '${name}' moved after the plan was made: the plan expects ${snapshot}, the state now holds ${current ?? '(none)'}`;
      if (!options.force) {
        throw new RivetError('USAGE', message, { hint: 'regenerate the plan with `rivet plan` (another run already exported those rows), or skip this check with `--force`' });
      }
      log.warn(`${message}; applying anyway because of --force`);
      bypassed.push('cursor_drift');
    }
  }
  return { exp, bypassed };
}

/**
 * What `rivet apply` hands the local driver (cli/local-driver.ts) to run an export from its
 * plan artifact: deps that resolve the artifact's export and no other (the config is not read
 * again), and — for a chunked export — the artifact's chunk ranges in place of the chunked
 * planner (no MIN/MAX or distribution queries). Other modes plan as `run` does (the
 * incremental window starts at the checked cursor snapshot). The driver then runs
 * startRun → runTasks → finishRun: the same header, the same ordered writes as `rivet run`.
 */
export function artifactRun(artifact: PlanArtifact, exp: ResolvedExport, deps: ApplyDeps): { deps: RunDeps; params: Record<string, string>; modePlanner?: ModePlanner } {
  const runDeps: RunDeps = {
    resolveExport: async (name) => {
      if (name !== exp.name) throw new RivetError('INTERNAL', `apply of '${exp.name}' asked for export '${name}'`);
      return exp;
    },
    openSource: deps.openSource,
    openDestination: deps.openDestination,
    state: deps.state,
    log: deps.log,
    now: deps.now,
    onProgress: deps.onProgress,
  };
  return {
    deps: runDeps,
    params: artifact.params,
    ...(exp.mode === 'chunked' && artifact.computed.chunk_count > 0 ? { modePlanner: precomputedChunks(artifact) } : {}),
  };
}

/** The chunked planner's place, taken by the artifact's ranges. */
function precomputedChunks(artifact: PlanArtifact): ModePlanner {
  return async ({ exp, source, state }) => {
    const settings = exp.chunk!;
    if (settings.checkpoint) await refuseUnfinishedCheckpoint(exp, state);
    const column = settings.column!;
    const build = await chunkQueryBuilder(exp, source, column);
    const predicates = artifact.computed.chunk_ranges.map(([s, e], i) => {
      const p = predicateFromKeys(settings, s === null ? 'NULL' : String(s), e === null ? 'NULL' : String(e));
      if (!p) {
        throw new RivetError('USAGE', `the plan for export '${exp.name}' has an unreadable chunk range #${i}: [${String(s)}, ${String(e)}]`, {
          hint: 'regenerate the plan with `rivet plan`',
        });
      }
      return p;
    });
    return {
      queries: predicates.map((p) => ({ sql: build(p), label: chunkLabel(column, p) })),
      ...(settings.checkpoint ? { checkpoint: { planHash: artifact.plan_fingerprint, chunks: predicates.map(keysOfPredicate) } } : {}),
    };
  };
}
