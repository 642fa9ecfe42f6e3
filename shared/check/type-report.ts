import type { DataType, Field } from 'apache-arrow';
import { isRivetError } from '../errors/rivet-error.js';
import { csvColumnRenderer } from '../format/csv-column-renderer.js';
import type { SourceCatalog } from '../source/source-catalog.js';
import type { Source } from '../source/source.js';
import { arrowTypeName } from '../types/arrow-type-name.js';
import { FIDELITY_ORDER, META_FIDELITY, META_NATIVE_TYPE, fidelityOf, typeReportLabel, type Fidelity, type RivetType } from '../types/rivet-type.js';
import { rivetTypeOfField } from './field-rivet-type.js';
import { bigqueryRecoverySql, targetColumn, type WarehouseTarget } from './warehouse-target.js';

/**
 * `rivet check --type-report` (docs/reference/types.md): per result column, the source's native type, the
 * Rivet type the export would use (overrides applied), its Arrow type and fidelity, and
 * optionally how it lands in a warehouse. Everything comes from `Source.describe`, the same
 * zero-row probe an export starts with, so the report cannot disagree with the export.
 */
export interface ReportedColumn {
  name: string;
  nativeType: string;
  rivetType: RivetType;
  /** null for unsupported columns. */
  arrowType: DataType | null;
  fidelity: Fidelity;
  field?: Field;
}

export interface TypeReportColumn {
  column: string;
  source_type: string;
  rivet_type: string;
  arrow_type: string;
  fidelity: Fidelity;
  warnings?: string[];
  target_type?: string;
  target_status?: 'ok' | 'warn' | 'fail';
  target_note?: string;
  autoload_type?: string;
  cast_sql?: string;
}

export interface TypeViolation {
  column_name: string;
  fidelity: Fidelity;
  message: string;
  fatal: boolean;
}

export interface TypeReport {
  export: string;
  target?: WarehouseTarget;
  columns: TypeReportColumn[];
  violations: TypeViolation[];
  target_failures?: true;
  recovery_sql?: string;
}

/**
 * The columns of `sql` as the export would map them. `describe` refuses a query with an
 * unmappable column, so in that case every column is described on its own, which tells the
 * unmappable ones apart (with the source's reason) from the rest.
 */
export async function reportedColumns(source: Source, catalog: SourceCatalog, sql: string): Promise<ReportedColumn[]> {
  try {
    const schema = await source.describe(sql);
    return schema.fields.map(fromField);
  } catch (e) {
    if (!isRivetError(e) || e.code !== 'TYPE_UNSUPPORTED') throw e;
  }
  const text = source.dialect.queryText(sql);
  const out: ReportedColumn[] = [];
  for (const col of await catalog.resultColumns(sql)) {
    try {
      const schema = await source.describe(`SELECT ${source.quoteIdent(col.name)} FROM (\n${text}\n) AS _rivet_type_probe`);
      const field = schema.fields[0];
      out.push(field ? fromField(field) : unsupportedColumn(col.name, col.nativeType, 'the column did not survive the probe'));
    } catch (e) {
      if (!isRivetError(e) || e.code !== 'TYPE_UNSUPPORTED') throw e;
      out.push(unsupportedColumn(col.name, col.nativeType, reasonFrom(e.message)));
    }
  }
  return out;
}

function fromField(field: Field): ReportedColumn {
  const rivetType = rivetTypeOfField(field);
  const declared = field.metadata.get(META_FIDELITY);
  const fidelity = declared && (FIDELITY_ORDER as readonly string[]).includes(declared) ? (declared as Fidelity) : fidelityOf(rivetType);
  return { name: field.name, nativeType: field.metadata.get(META_NATIVE_TYPE) ?? '-', rivetType, arrowType: field.type, fidelity, field };
}

function unsupportedColumn(name: string, nativeType: string, reason: string): ReportedColumn {
  return { name, nativeType, rivetType: { kind: 'unsupported', native_type: nativeType, reason }, arrowType: null, fidelity: 'unsupported' };
}

/** The reason part of a source's "cannot be mapped" message: `"c" (PG type numeric: <reason>)`. */
function reasonFrom(message: string): string {
  const m = /\([A-Za-z/ ]*type [^:]+: (.*)\)\s*$/.exec(message);
  return m ? m[1] : message;
}

export interface TypeReportOptions {
  strict: boolean;
  target?: WarehouseTarget;
  format: 'parquet' | 'csv';
}

export function buildTypeReport(exportName: string, columns: ReportedColumn[], options: TypeReportOptions): TypeReport {
  const violations: TypeViolation[] = [];
  const rows: TypeReportColumn[] = [];
  const specs = [];
  for (const c of columns) {
    const row: TypeReportColumn = {
      column: c.name,
      source_type: c.nativeType,
      rivet_type: typeReportLabel(c.rivetType),
      arrow_type: c.arrowType ? arrowTypeName(c.arrowType) : '-',
      fidelity: c.fidelity,
    };
    if (c.fidelity === 'lossy' || c.fidelity === 'unsupported') {
      const reason = c.rivetType.kind === 'unsupported' ? `: ${c.rivetType.reason}` : '';
      violations.push({ column_name: c.name, fidelity: c.fidelity, message: `column "${c.name}" (${c.nativeType}) maps with fidelity ${c.fidelity}${reason}`, fatal: options.strict });
    }
    if (options.format === 'csv' && c.field && !csvSerializable(c.field)) {
      const message = `column "${c.name}" has Arrow type ${row.arrow_type}, which has no CSV representation; use format: parquet or leave the column out of the SELECT`;
      violations.push({ column_name: c.name, fidelity: c.fidelity, message, fatal: options.strict });
      row.warnings = [message];
    }
    if (options.target) {
      const spec = targetColumn(options.target, c.name, c.rivetType, c.fidelity);
      specs.push(spec);
      row.target_type = spec.target_type;
      row.target_status = spec.status;
      if (spec.note) row.target_note = spec.note;
      if (spec.autoload_type !== spec.target_type) row.autoload_type = spec.autoload_type;
      if (spec.cast_sql) row.cast_sql = spec.cast_sql;
    }
    rows.push(row);
  }
  const report: TypeReport = { export: exportName, ...(options.target ? { target: options.target } : {}), columns: rows, violations };
  if (specs.some((s) => s.status === 'fail')) report.target_failures = true;
  if (options.target === 'bigquery') {
    const sql = bigqueryRecoverySql(exportName, specs);
    if (sql) report.recovery_sql = sql;
  }
  return report;
}

function csvSerializable(field: Field): boolean {
  try {
    csvColumnRenderer(field);
    return true;
  } catch {
    return false;
  }
}

/** Under `--strict`: a fatal violation or a target `fail` row rejects the report. */
export function reportRejected(report: TypeReport, strict: boolean): boolean {
  return strict && (report.violations.some((v) => v.fatal) || report.target_failures === true);
}

/** The human-readable table (seeds' layout), then violations, target notes and recovery SQL. */
export function renderTypeReport(report: TypeReport): string {
  const head = ['Column', 'Source type', 'Rivet type', 'Arrow type', 'Fidelity'];
  if (report.target) head.push('Target type', 'Status');
  const body = report.columns.map((c) => {
    const cells = [c.column, c.source_type, c.rivet_type, c.arrow_type, c.fidelity];
    if (report.target) cells.push(c.target_type ?? '-', c.target_status ?? '-');
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => ('  ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('   ')).trimEnd();
  const out = [`Export: ${report.export}${report.target ? `  [target: ${report.target}]` : ''}`, ''];
  out.push(line(head), line(widths.map((w) => '-'.repeat(w))));
  for (const r of body) out.push(line(r));
  if (report.violations.length > 0) {
    out.push('');
    for (const v of report.violations) out.push(`  ${v.fatal ? 'FAIL' : 'WARN'}: ${v.message}`);
  }
  const notes = report.columns.filter((c) => c.target_note || c.autoload_type);
  if (notes.length > 0) {
    out.push('');
    for (const c of notes) {
      const parts = [c.autoload_type ? `autoloads as ${c.autoload_type}` : '', c.target_note ?? '', c.cast_sql ? `recover with ${c.cast_sql}` : ''].filter(Boolean);
      out.push(`  ${c.target_status === 'fail' ? 'FAIL' : 'note'}: ${c.column}: ${parts.join('; ')}`);
    }
  }
  if (report.recovery_sql) out.push('', '  Recovery SQL:', ...report.recovery_sql.split('\n').map((l) => `    ${l}`));
  return out.join('\n') + '\n';
}
