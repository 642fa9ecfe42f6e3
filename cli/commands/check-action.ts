import { loadConfig } from '../../shared/config/load.js';
import { parseParams } from '../../shared/config/params.js';
import { expandPlaceholders, utcDate } from '../../shared/config/placeholders.js';
import { diagnoseExport, renderDiagnostic } from '../../shared/check/preflight.js';
import { buildTypeReport, renderTypeReport, reportedColumns, reportRejected, type TypeReport } from '../../shared/check/type-report.js';
import { parseTarget, type WarehouseTarget } from '../../shared/check/warehouse-target.js';
import { openDestination, type DestinationTarget } from '../../shared/destination/registry.js';
import { configError, EXIT_EXPORT_FAILED, EXIT_OK, RivetError, errorChain, isRivetError } from '../../shared/errors/rivet-error.js';
import { createLogger } from '../../shared/log/logger.js';
import { redact } from '../../shared/log/redact.js';
import { resolveExport } from '../../shared/run/resolve-export.js';
import { catalogEngines, openCatalog, openSource, sourceEngine } from '../../shared/source/registry.js';
import type { SourceCatalog } from '../../shared/source/source-catalog.js';
import type { CommandIO } from './run-action.js';

export interface CheckOptions {
  config: string;
  export?: string;
  param?: string[];
  typeReport?: boolean;
  strict?: boolean;
  json?: boolean;
  target?: string;
}

/**
 * `rivet check`: read-only preflight of every selected export, then (with --type-report,
 * --json, --strict or a known --target) the type fidelity report. Config mistakes exit 2;
 * an unreachable source, a failing export query, a destination that cannot be set up, or a
 * report `--strict` rejects exit 1.
 */
export async function checkCommand(opts: CheckOptions, io: CommandIO): Promise<number> {
  const log = createLogger();
  // Not redacted: reports hold column names and types only, and masking a registered secret
  // that happens to be a common word would corrupt the JSON keys.
  const out = (text: string) => io.stdout.write(text);
  const params = parseParams(opts.param ?? []);
  const loaded = await loadConfig(opts.config, { params, log });
  const { config } = loaded;
  const selected = opts.export ? config.exports.filter((e) => e.name === opts.export) : config.exports;
  if (opts.export && selected.length === 0) {
    throw new RivetError('USAGE', `export '${opts.export}' is not in ${loaded.path}`, { hint: `exports in this config: ${config.exports.map((e) => e.name).join(', ')}` });
  }
  const engine = sourceEngine(config.source.type);
  if (!engine.openCatalog) {
    const supported = catalogEngines().map((e) => e.label).join(' and ');
    throw new RivetError('SOURCE_CONNECT', `${engine.label} preflight is not available yet (rivet check supports ${supported} sources)`, { exitCode: EXIT_EXPORT_FAILED });
  }
  const cliTarget = parseTarget(opts.target);
  const typeReport = Boolean(opts.typeReport || opts.json || opts.strict || cliTarget);
  // Resolve every export first: a config mistake in any of them exits 2 before a connection is made.
  const resolved = selected.map((exp) => ({ exp, r: resolveExport(loaded, exp.name, params, log) }));

  let failed = 0;
  const catalog: SourceCatalog = await openCatalog({ connection: resolved[0].r.connection, log });
  try {
    for (const { exp, r } of resolved) {
      try {
        const d = await diagnoseExport(catalog, { exp, sql: r.sql, table: r.table });
        if (!opts.json) out('\n' + renderDiagnostic(d));
      } catch (e) {
        failed++;
        if (!opts.json) out(`\nExport: ${exp.name}\n  Error:        ${message(e)}\n${isRivetError(e) && e.hint ? `  Hint:         ${e.hint}\n` : ''}`);
        else log.error(`export '${exp.name}': ${message(e)}`);
      }
    }

    const seen = new Set<string>();
    for (const { exp, r } of resolved) {
      const t = r.destination;
      if (t.kind === 'stdout') continue;
      const ctx = { date: utcDate(new Date()), exportName: exp.name, runId: 'check' };
      const target: DestinationTarget = { ...t, path: t.path && expandPlaceholders(t.path, ctx), prefix: t.prefix && expandPlaceholders(t.prefix, ctx) };
      const key = `${target.kind}:${target.bucket ?? '-'}:${target.endpoint ?? '-'}:${target.path ?? target.prefix ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        await openDestination(target, { logger: log });
      } catch (e) {
        failed++;
        log.error(`export '${exp.name}': destination preflight failed: ${message(e)}`);
      }
    }

    if (typeReport) {
      let rejected = false;
      for (const { exp, r } of resolved) {
        const target = cliTarget ?? exportTarget(exp.name, exp.target);
        let report: TypeReport;
        try {
          const source = await openSource({ connection: r.connection, columnOverrides: r.columnOverrides, log });
          try {
            const columns = await reportedColumns(source, catalog, r.sql);
            report = buildTypeReport(exp.name, columns, { strict: Boolean(opts.strict), target, format: r.format });
          } finally {
            await source.close().catch(() => {});
          }
        } catch (e) {
          if (isRivetError(e) && e.code === 'SOURCE_CONNECT') throw e;
          log.warn(`export '${exp.name}': type report failed: ${message(e)}`);
          continue;
        }
        out(opts.json ? JSON.stringify(report) + '\n' : '\n' + renderTypeReport(report));
        if (reportRejected(report, Boolean(opts.strict))) rejected = true;
      }
      if (rejected) {
        throw new RivetError('EXPORT_FAILED', '--strict rejected unsafe type mappings (details in the printed report)', {
          hint: 'add a `columns:` override (e.g. decimal(p,s)) or cast the column in the query, then run rivet check again',
        });
      }
    }
  } finally {
    await catalog.close();
  }
  if (failed > 0) {
    throw new RivetError('EXPORT_FAILED', `rivet check: ${failed} problem(s) found (see above)`, { hint: 'fix the failing query or destination before running the export' });
  }
  return EXIT_OK;
}

/** A per-export `target:` must name a known warehouse, but only matters when a type report runs. */
function exportTarget(name: string, raw: string | undefined): WarehouseTarget | undefined {
  if (raw === undefined) return undefined;
  const t = parseTarget(raw);
  if (!t) throw configError(`export '${name}': unknown target '${raw}'`, 'expected one of: bigquery, duckdb, snowflake');
  return t;
}

function message(e: unknown): string {
  return redact(isRivetError(e) ? e.message : errorChain(e));
}
