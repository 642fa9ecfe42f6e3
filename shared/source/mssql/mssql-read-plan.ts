import { Schema, type Field } from 'apache-arrow';
import { RivetError } from '../../errors/rivet-error.js';
import { redact } from '../../log/redact.js';
import { rivetField, type RivetType } from '../../types/rivet-type.js';
import { mssqlDecoderFor, type MssqlColumnSpec } from './mssql-decoders.js';
import { autodetectMssqlType, type MssqlColumnMetadata } from './mssql-types.js';

/** The Arrow schema of a result and how to decode each of its columns. */
export interface MssqlReadPlan {
  schema: Schema;
  columns: MssqlColumnSpec[];
}

interface Unmappable {
  name: string;
  nativeType: string;
  reason: string;
}

function unsupportedError(bad: Unmappable[]): RivetError {
  const list = bad.map((b) => `\`${b.name}\` (SQL Server type ${b.nativeType}: ${b.reason})`).join('; ');
  const n = bad.length;
  return new RivetError('TYPE_UNSUPPORTED', redact(`${n} column${n === 1 ? '' : 's'} cannot be mapped safely: ${list}`), {
    hint: `add a \`columns:\` override to the export in rivet.yaml (e.g. \`columns: { ${bad[0].name}: string }\`), or convert the column in the query`,
  });
}

/**
 * Schema and decoders for a result's column metadata: autodetect (docs/reference/types.md), then `columns:`
 * overrides. Every column that cannot be mapped is reported at once, before any row.
 */
export function mssqlReadPlan(meta: readonly MssqlColumnMetadata[], overrides: ReadonlyMap<string, RivetType>, onUnmatchedOverride: (name: string) => void = () => undefined): MssqlReadPlan {
  const columns: MssqlColumnSpec[] = [];
  const fields: Field[] = [];
  const bad: Unmappable[] = [];
  for (const m of meta) {
    const auto = autodetectMssqlType(m);
    const override = overrides.get(m.colName);
    const rivetType = override ?? auto.rivetType;
    if (rivetType.kind === 'unsupported') {
      bad.push({ name: m.colName, nativeType: auto.nativeType, reason: rivetType.reason });
      continue;
    }
    const spec: MssqlColumnSpec = { name: m.colName, nativeType: auto.nativeType, rivetType, wire: auto.wire, ...(auto.wireScale !== undefined ? { wireScale: auto.wireScale } : {}) };
    const check = mssqlDecoderFor(spec, 1);
    if (typeof check === 'string') {
      bad.push({ name: m.colName, nativeType: auto.nativeType, reason: override ? `override not applicable: ${check}` : check });
      continue;
    }
    columns.push(spec);
    fields.push(rivetField(m.colName, rivetType, auto.nativeType));
  }
  for (const name of overrides.keys()) if (!meta.some((m) => m.colName === name)) onUnmatchedOverride(name);
  if (bad.length > 0) throw unsupportedError(bad);
  return { schema: new Schema(fields), columns };
}
