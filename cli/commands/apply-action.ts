import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EXIT_EXPORT_FAILED, EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';
import { openDestination } from '../../shared/destination/registry.js';
import { artifactRun, checkPlanArtifact } from '../../shared/run/apply-plan.js';
import { parsePlanArtifact } from '../../shared/run/plan-artifact.js';
import { startRssSampler } from '../../shared/run/rss-sampler.js';
import { openSource } from '../../shared/source/registry.js';
import { defaultStatePath } from '../../shared/state/sqlite-state-store.js';
import { openStateStore } from '../../shared/state/open-state-store.js';
import { EXIT_INTERRUPTED, interruptSignal } from '../interrupt.js';
import { createProgress } from '../progress.js';
import { exportBlock } from '../summary.js';
import { writeRunReport } from '../run-report.js';
import { runExportLocally } from '../local-driver.js';
import { formatBytes, formatDuration, thousands } from '../format-helpers.js';

export interface ApplyCommandOptions {
  force?: boolean;
}

export interface ApplyIO {
  stderr: NodeJS.WriteStream;
  log?: Logger;
}

/** `rivet apply PLAN`: gates (staleness, fingerprint, cursor drift), then the export. */
export async function applyCommand(planFile: string, opts: ApplyCommandOptions, io: ApplyIO): Promise<number> {
  const log = io.log ?? createLogger();
  let text: string;
  try {
    text = await readFile(planFile, 'utf8');
  } catch (e) {
    throw new RivetError('USAGE', `cannot read the plan file ${planFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'pass the file written by `rivet plan --format json -o <file>`',
    });
  }
  const artifact = parsePlanArtifact(text, planFile);
  // State lives next to the plan file, as documented: keep the plan beside its config.
  const state = openStateStore({ sqlitePath: defaultStatePath(resolve(planFile)), log });
  const progress = createProgress(io.stderr);
  try {
    const { exp, bypassed } = await checkPlanArtifact(artifact, { force: opts.force === true, now: new Date(), state, log });
    if (bypassed.length) log.info(`apply of plan ${artifact.plan_id}: --force bypassed ${bypassed.join(', ')}`);
    log.info(`applying plan ${artifact.plan_id} (export '${exp.name}', state ${dirname(resolve(planFile))})`);
    const stopSampler = startRssSampler();
    progress.start(exp.name, exp.mode);
    const run = artifactRun(artifact, exp, {
      openSource,
      openDestination: (t) => openDestination(t, { logger: log }),
      state,
      log,
      now: () => new Date(),
      onProgress: (e) => progress.rows(e.exportName, e.rowsDelta),
    });
    const { result: r } = await runExportLocally({ exportName: exp.name, mode: exp.mode, interrupt: interruptSignal, ...run });
    stopSampler();
    progress.finish(
      exp.name,
      r.status !== 'failed',
      r.status === 'failed' ? (r.error?.message ?? 'failed') : `${thousands(r.rows)} rows  ${r.files} ${r.files === 1 ? 'file' : 'files'}  ${formatBytes(r.bytes)}  ${formatDuration(r.durationMs)}`,
    );
    progress.close();
    io.stderr.write(
      exportBlock(r, {
        tuning: `profile=${exp.tuning.profileLabel}, batch_size=${thousands(exp.tuning.batchSize)}`,
        compression: exp.compression,
        format: exp.format,
        checks: [['plan', `${artifact.plan_id}${bypassed.length ? ` (forced: ${bypassed.join(', ')})` : ''}`]],
      }),
    );
    // The run report (docs/reference/cli.md) goes beside the plan file, as the state does.
    const retries = (await state.recentMetrics({ exportName: exp.name, limit: 20 }).catch(() => [])).find((m) => m.runId === r.runId)?.retries ?? null;
    const resumeCommand = exp.chunk?.checkpoint ? `rivet run --config <CONFIG> --export ${exp.name} --resume` : null;
    const report = await writeRunReport(dirname(resolve(planFile)), r, {
      exp,
      retries,
      validation: null,
      applyContext: { plan_id: artifact.plan_id, forced: bypassed.length > 0, force_bypassed: bypassed },
      resumeCommand,
      finishedAt: new Date(),
    }).catch((e: unknown) => {
      log.warn(`apply of plan ${artifact.plan_id}: could not write the run report: ${(e as Error).message}`);
      return null;
    });
    if (report) io.stderr.write(`report:    ${report}\n`);
    if (report && r.status === 'failed' && r.files > 0 && resumeCommand) io.stderr.write(`resume:    ${resumeCommand}\n`);
    if (interruptSignal.aborted) return EXIT_INTERRUPTED;
    return r.status === 'failed' ? EXIT_EXPORT_FAILED : EXIT_OK;
  } finally {
    progress.close();
    await state.close();
  }
}
