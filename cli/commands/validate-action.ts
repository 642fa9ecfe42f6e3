import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../../shared/config/load.js';
import { expandPlaceholders, utcDate } from '../../shared/config/placeholders.js';
import type { ExportConfig } from '../../shared/config/schema.js';
import { openDestination, type DestinationTarget } from '../../shared/destination/registry.js';
import { EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';
import { redact } from '../../shared/log/redact.js';
import { destinationTarget } from '../../shared/run/destination-target.js';
import { targetRoot } from '../../shared/run/plan.js';
import { verificationFailed, verifyPrefix, type PrefixVerification } from '../../shared/run/verify-prefix.js';
import { verificationBlock } from '../verification-block.js';

export interface ValidateCommandOptions {
  config: string;
  export?: string;
  date?: string;
  runId?: string;
  prefix?: string;
  format?: 'pretty' | 'json';
  output?: string;
}

export interface ValidateIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  log?: Logger;
}

interface ExportVerdict {
  export_name: string;
  resolved_prefix: string;
  /** Null when the export was skipped (stdout destination: nothing was stored). */
  verification: PrefixVerification | null;
  skipped?: string;
}

interface HardFailure {
  export_name: string;
  error: string;
}

/** `rivet validate`: returns the exit status; throws RivetError for usage errors and failed verdicts. */
export async function validateCommand(opts: ValidateCommandOptions, io: ValidateIO): Promise<number> {
  const log = io.log ?? createLogger();
  const format = opts.format ?? 'pretty';
  // Flag rules first: a usage error must not wait for a slow destination.
  if (opts.prefix !== undefined && (opts.date !== undefined || opts.runId !== undefined)) {
    throw new RivetError('USAGE', '--prefix cannot be combined with --date or --run-id: --prefix is used as written, without placeholders', {
      hint: 'drop --prefix to resolve the configured destination, or drop --date/--run-id',
    });
  }
  if (opts.output !== undefined && format !== 'json') {
    throw new RivetError('USAGE', '-o/--output writes the JSON report and needs --format json', { hint: 'add --format json' });
  }
  const date = opts.date === undefined ? utcDate(new Date()) : parseDateFlag(opts.date);

  // No params: validate never runs a query, and the destination must not depend on one.
  const loaded = await loadConfig(opts.config, { params: {}, log });
  const all = loaded.config.exports;
  let selected: ExportConfig[] = all;
  if (opts.export !== undefined) {
    selected = all.filter((e) => e.name === opts.export);
    if (selected.length === 0) {
      throw new RivetError('USAGE', `export '${opts.export}' is not found in ${opts.config}`, {
        hint: `exports in this config: ${all.map((e) => e.name).join(', ') || '(none)'}`,
      });
    }
  }
  if (opts.prefix !== undefined && selected.length !== 1) {
    throw new RivetError('USAGE', `--prefix needs --export <name>: one prefix cannot apply to ${selected.length} exports`, {
      hint: `pick one of: ${selected.map((e) => e.name).join(', ')}`,
    });
  }

  const verdicts: ExportVerdict[] = [];
  const errors: HardFailure[] = [];
  for (const exp of selected) {
    const target = resolveTarget(destinationTarget(exp.destination), exp.name, { date, runId: opts.runId, prefix: opts.prefix });
    const root = targetRoot(target);
    if (target.kind === 'stdout') {
      verdicts.push({ export_name: exp.name, resolved_prefix: '', verification: null, skipped: 'stdout destination: nothing is stored, nothing to verify' });
      continue;
    }
    if (root.includes('{run_id}')) {
      errors.push({ export_name: exp.name, error: `the destination ${root} contains {run_id}: pass --run-id <id> (run ids are listed by \`rivet metrics\`)` });
      continue;
    }
    try {
      const dest = await openDestination(target);
      verdicts.push({ export_name: exp.name, resolved_prefix: root, verification: await verifyPrefix(dest) });
    } catch (e) {
      errors.push({ export_name: exp.name, error: redact(e instanceof Error ? e.message : String(e)) });
    }
  }

  if (format === 'json') {
    const json = JSON.stringify({ exports: verdicts, errors }, null, 2) + '\n';
    if (opts.output !== undefined) {
      await writeFile(opts.output, json).catch((e) => {
        throw new RivetError('USAGE', `cannot write -o ${opts.output}: ${(e as Error).message}`);
      });
      io.stderr.write(`  written:     ${opts.output}\n`);
    } else {
      io.stdout.write(json);
    }
  } else {
    const blocks = verdicts.map((v) =>
      v.verification ? verificationBlock(v.export_name, v.resolved_prefix, v.verification) : `── ${v.export_name} ──\n  status:    skipped (${v.skipped})\n`,
    );
    io.stdout.write(blocks.join('\n'));
    if (errors.length) io.stdout.write(`\n── errors ──\n${errors.map((e) => `  ${e.export_name}: ${e.error}\n`).join('')}`);
  }

  const failed = verdicts.filter((v) => v.verification && verificationFailed(v.verification)).length + errors.length;
  if (failed > 0) {
    const total = verdicts.filter((v) => v.verification).length + errors.length;
    throw new RivetError('EXPORT_FAILED', `rivet validate: ${failed} of ${total} export${total === 1 ? '' : 's'} failed verification`, {
      hint: format === 'json' ? 'see "failures" and "errors" in the JSON report' : 'see the failure lines above',
    });
  }
  return EXIT_OK;
}

/** --date must be a real calendar day: `2026-02-30` would otherwise resolve to a prefix nobody wrote. */
function parseDateFlag(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || utcDate(d) !== value) {
    throw new RivetError('USAGE', `--date '${value}' is not a date: YYYY-MM-DD is expected (a real calendar day, e.g. 2026-05-21)`);
  }
  return value;
}

function resolveTarget(t: DestinationTarget, exportName: string, ctx: { date: string; runId?: string; prefix?: string }): DestinationTarget {
  if (ctx.prefix !== undefined) {
    return t.kind === 'local' ? { ...t, path: ctx.prefix } : { ...t, prefix: ctx.prefix };
  }
  const x = (s: string | undefined) => (s === undefined ? undefined : expandPlaceholders(s, { date: ctx.date, exportName, runId: ctx.runId }));
  return { ...t, path: x(t.path), prefix: x(t.prefix) };
}
