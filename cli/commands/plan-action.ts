import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../../shared/config/load.js';
import { parseParams } from '../../shared/config/params.js';
import { EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';
import { buildPlanArtifact } from '../../shared/run/build-plan-artifact.js';
import type { PlanArtifact } from '../../shared/run/plan-artifact.js';
import { openCatalog, openSource } from '../../shared/source/registry.js';
import { defaultStatePath } from '../../shared/state/sqlite-state-store.js';
import { openStateStore } from '../../shared/state/open-state-store.js';
import { thousands } from '../format-helpers.js';
import { selectedExports } from '../selected-exports.js';

export interface PlanCommandOptions {
  config: string;
  export?: string;
  param?: string[];
  output?: string;
  format?: 'pretty' | 'json';
}

export interface PlanIO {
  stdout: NodeJS.WritableStream;
  log?: Logger;
}

/** `rivet plan`: no data is read beyond bounds and counts, nothing is written but the artifact. */
export async function planCommand(opts: PlanCommandOptions, io: PlanIO): Promise<number> {
  const log = io.log ?? createLogger();
  const format = opts.format ?? 'pretty';
  const params = parseParams(opts.param ?? []);
  const loaded = await loadConfig(opts.config, { params, log });
  const names = selectedExports(loaded.config, opts.export, opts.config);
  if (opts.output && names.length > 1) {
    throw new RivetError('USAGE', `-o/--output writes one plan file, but ${opts.config} has ${names.length} exports`, {
      hint: 'add `-e <export>` and write one plan file per export',
    });
  }
  const state = openStateStore({ sqlitePath: defaultStatePath(loaded.path), log });
  try {
    for (const name of names) {
      const artifact = await buildPlanArtifact(loaded, name, params, { openSource, openCatalog, state, log, now: () => new Date() });
      // No redaction pass: the artifact is built from references only (plan-artifact.ts), and
      // masking registered secrets would also mangle any field that happens to equal one.
      const json = JSON.stringify(artifact, null, 2) + '\n';
      if (opts.output) {
        await writeFile(opts.output, json).catch((e) => {
          throw new RivetError('USAGE', `cannot write the plan to ${opts.output}: ${(e as Error).message}`);
        });
      }
      if (format === 'json') {
        io.stdout.write(opts.output ? `plan written to ${opts.output}\n` : json);
      } else {
        io.stdout.write(prettyPlan(artifact) + (opts.output ? `  Written  : ${opts.output}\n` : ''));
      }
    }
    return EXIT_OK;
  } finally {
    await state.close();
  }
}

const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

/** The human summary of docs/commands/plan.md. */
export function prettyPlan(a: PlanArtifact): string {
  const rp = a.resolved_plan;
  const lines = [
    '',
    `  Plan ID  : ${a.plan_id}`,
    `  Created  : ${utc(a.created_at)}`,
    `  Expires  : ${utc(a.expires_at)}`,
    `  Export   : ${a.export_name}`,
    `  Strategy : ${a.strategy}`,
  ];
  if (a.plan_fingerprint) lines.push(`  Fingerprint : ${a.plan_fingerprint}`);
  if (a.computed.chunk_count > 0) {
    const [first] = a.computed.chunk_ranges;
    const last = a.computed.chunk_ranges[a.computed.chunk_count - 1];
    lines.push(`  Chunks   : ${a.computed.chunk_count} (${String(first[0] ?? 'NULL')}..${String(first[1] ?? 'NULL')} … ${String(last[0] ?? 'NULL')}..${String(last[1] ?? 'NULL')})`);
  }
  if (a.computed.row_estimate !== null) lines.push(`  Row est. : ~${thousands(a.computed.row_estimate)}`);
  if (a.strategy === 'incremental') lines.push(`  Cursor   : ${a.computed.cursor_snapshot ?? '(none stored: first run exports every row)'}`);
  lines.push(`  Verdict  : ${a.diagnostics.verdict}`, `  Profile  : ${a.diagnostics.recommended_profile}`);
  if (a.diagnostics.warnings.length) {
    lines.push('  Warnings :', ...a.diagnostics.warnings.map((w) => `    • ${w}`));
  }
  const t = rp.tuning;
  const narrowMb = (t.batch_size * 200) / 1_048_576;
  const wideMb = (t.batch_size * 10_240) / 1_048_576;
  lines.push(
    '  Resources:',
    t.batch_size_memory_mb !== null
      ? `    Batch size   : adaptive (target ${t.batch_size_memory_mb} MB/batch)`
      : `    Batch size   : ${thousands(t.batch_size).padStart(7)} rows`,
    `    Batch memory : ~${narrowMb.toFixed(0)} MB (narrow) – ~${wideMb.toFixed(0)} MB (wide)`,
  );
  if (t.memory_threshold_mb > 0) lines.push(`    RSS guard    : ${thousands(t.memory_threshold_mb)} MB`);
  if (t.throttle_ms > 0) lines.push(`    Throttle     : ${t.throttle_ms} ms between batches`);
  if (wideMb > 128) {
    lines.push(`    ⚠ Wide tables may use up to ~${wideMb.toFixed(0)} MB per batch; consider \`batch_size_memory_mb\` or a lower \`batch_size\``);
  }
  const d = rp.destination as { kind: string; path?: string; bucket?: string; prefix?: string };
  const where = d.kind === 'local' ? (d.path ?? '.') : d.kind === 'stdout' ? '(stdout)' : `${d.bucket ?? '(default)'}${d.prefix ? `/${d.prefix}` : ''}`;
  lines.push(`  Output   : ${d.kind} → ${where}`);
  lines.push(`  Format   : ${rp.format} + ${rp.compression}${rp.compression_level !== null ? ` (level ${rp.compression_level})` : ''}`);
  return lines.join('\n') + '\n';
}
