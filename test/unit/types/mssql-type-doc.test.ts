import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { arrowTypeName } from '../../../shared/types/arrow-type-name.js';
import { canonicalLabel, fidelityOf, toArrowType } from '../../../shared/types/rivet-type.js';
import { autodetectMssqlType, type MssqlColumnMetadata } from '../../../shared/source/mssql/mssql-types.js';

/**
 * docs/sources/sqlserver.md's type table is generated from the code: each row is the column
 * metadata tedious hands over for one SQL Server type (TDS type name, length, precision,
 * scale, CLR type name) run through the real autodetection (mssql-types.ts) and the
 * RivetType → Arrow mapping. Nullable columns arrive as the TDS "N" types, so those rows
 * show both forms. This test fails when the doc is stale;
 * `RIVET_UPDATE_DOCS=1 npx vitest run test/unit/types/mssql-type-doc.test.ts` rewrites the
 * table between its markers.
 */

const DOC = fileURLToPath(new URL('../../../docs/sources/sqlserver.md', import.meta.url));
const BEGIN = '<!-- generated:mssql-types (test/unit/types/mssql-type-doc.test.ts) -->';
const END = '<!-- /generated:mssql-types -->';
const MAX = 0xffff;

interface Probe {
  sql: string;
  /** tedious type name, plus the metadata that selects the SQL type. */
  meta: Omit<MssqlColumnMetadata, 'colName' | 'type'> & { type: string };
  note?: string;
}

const PROBES: Probe[] = [
  { sql: '`bit`', meta: { type: 'Bit' } },
  { sql: '`bit` (nullable)', meta: { type: 'BitN', dataLength: 1 } },
  { sql: '`tinyint`', meta: { type: 'TinyInt' }, note: '0..255 (SQL Server’s tinyint is unsigned)' },
  { sql: '`tinyint` (nullable)', meta: { type: 'IntN', dataLength: 1 } },
  { sql: '`smallint`', meta: { type: 'SmallInt' } },
  { sql: '`smallint` (nullable)', meta: { type: 'IntN', dataLength: 2 } },
  { sql: '`int`', meta: { type: 'Int' } },
  { sql: '`int` (nullable)', meta: { type: 'IntN', dataLength: 4 } },
  { sql: '`bigint`', meta: { type: 'BigInt' }, note: 'full range' },
  { sql: '`bigint` (nullable)', meta: { type: 'IntN', dataLength: 8 } },
  { sql: '`real`', meta: { type: 'Real' } },
  { sql: '`real` (nullable)', meta: { type: 'FloatN', dataLength: 4 } },
  { sql: '`float`', meta: { type: 'Float' } },
  { sql: '`float` (nullable)', meta: { type: 'FloatN', dataLength: 8 } },
  { sql: '`decimal(18,2)`', meta: { type: 'DecimalN', precision: 18, scale: 2 }, note: 'exact; declared p and s (the reference guesses the scale from the first batch)' },
  { sql: '`numeric(38,10)`', meta: { type: 'NumericN', precision: 38, scale: 10 }, note: 'exact' },
  { sql: '`smallmoney`', meta: { type: 'SmallMoney' }, note: 'exact' },
  { sql: '`money`', meta: { type: 'Money' }, note: 'exact' },
  { sql: '`smallmoney` (nullable)', meta: { type: 'MoneyN', dataLength: 4 } },
  { sql: '`money` (nullable)', meta: { type: 'MoneyN', dataLength: 8 } },
  { sql: '`date`', meta: { type: 'Date' }, note: '0001-01-01..9999-12-31' },
  { sql: '`time(7)`', meta: { type: 'Time', scale: 7 }, note: 'truncated to µs' },
  { sql: '`datetime`', meta: { type: 'DateTime' }, note: 'wall clock as stored; the 1/300 s ticks arrive as milliseconds (.003/.007)' },
  { sql: '`smalldatetime`', meta: { type: 'SmallDateTime' }, note: 'wall clock as stored' },
  { sql: '`datetime` (nullable)', meta: { type: 'DateTimeN', dataLength: 8 } },
  { sql: '`smalldatetime` (nullable)', meta: { type: 'DateTimeN', dataLength: 4 } },
  { sql: '`datetime2(7)`', meta: { type: 'DateTime2', scale: 7 }, note: 'wall clock as stored; truncated to µs' },
  { sql: '`datetimeoffset(7)`', meta: { type: 'DateTimeOffset', scale: 7 }, note: 'the instant, normalised to UTC (the offset itself is not kept)' },
  { sql: '`char(10)`', meta: { type: 'Char', dataLength: 10 }, note: 'keeps its trailing blanks' },
  { sql: '`varchar(50)`', meta: { type: 'VarChar', dataLength: 50 } },
  { sql: '`varchar(max)`', meta: { type: 'VarChar', dataLength: MAX } },
  { sql: '`nchar(10)`', meta: { type: 'NChar', dataLength: 20 }, note: 'keeps its trailing blanks' },
  { sql: '`nvarchar(50)`', meta: { type: 'NVarChar', dataLength: 100 } },
  { sql: '`nvarchar(max)`', meta: { type: 'NVarChar', dataLength: MAX } },
  { sql: '`text`', meta: { type: 'Text' } },
  { sql: '`ntext`', meta: { type: 'NText' } },
  { sql: '`xml`', meta: { type: 'Xml' }, note: 'the server’s serialisation' },
  { sql: '`binary(16)`', meta: { type: 'Binary', dataLength: 16 } },
  { sql: '`varbinary(max)`', meta: { type: 'VarBinary', dataLength: MAX } },
  { sql: '`image`', meta: { type: 'Image' } },
  {
    sql: '`uniqueidentifier`', meta: { type: 'UniqueIdentifier' },
    note: '`arrow.uuid` extension; canonical RFC 4122 byte order (SQL Server’s wire bytes are mixed-endian; they are reordered, so `6F9619FF-8B86-D011-…` reads back as that text)',
  },
  { sql: '`sql_variant`', meta: { type: 'Variant' }, note: 'CAST it to one type in the query' },
  { sql: '`geography`', meta: { type: 'UDT', udtInfo: { typeName: 'geography' } }, note: 'select `col.STAsText()` or `col.STAsBinary()`' },
  { sql: '`geometry`', meta: { type: 'UDT', udtInfo: { typeName: 'geometry' } }, note: 'select `col.STAsText()` or `col.STAsBinary()`' },
  { sql: '`hierarchyid`, other CLR types', meta: { type: 'UDT', udtInfo: { typeName: 'hierarchyid' } }, note: 'select `col.ToString()`' },
  { sql: 'bare `NULL` column', meta: { type: 'Null' }, note: 'CAST it in the query' },
];

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function metadata(p: Probe): MssqlColumnMetadata {
  const { type, ...rest } = p.meta;
  return { colName: 'col', type: { name: type }, ...rest };
}

function tdsLabel(p: Probe): string {
  const { type, dataLength } = p.meta;
  return dataLength !== undefined && /N$/.test(type) ? `${type}, length ${dataLength}` : type;
}

function mssqlTypeTable(): string {
  const lines = ['| SQL Server | TDS type (tedious) | `rivet.native_type` | Rivet type | Arrow type | Fidelity | Notes |', '|---|---|---|---|---|---|---|'];
  for (const p of PROBES) {
    const c = autodetectMssqlType(metadata(p));
    const a = toArrowType(c.rivetType);
    const arrow = a === null ? '-' : arrowTypeName(a);
    lines.push(`| ${cell(p.sql)} | ${cell(tdsLabel(p))} | \`${cell(c.nativeType)}\` | ${cell(canonicalLabel(c.rivetType))} | ${cell(arrow)} | ${fidelityOf(c.rivetType)} | ${cell(p.note ?? '')} |`);
  }
  return lines.join('\n');
}

describe('docs/sources/sqlserver.md', () => {
  it('type table matches what the code maps (RIVET_UPDATE_DOCS=1 regenerates it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, `markers ${BEGIN} … ${END} in ${DOC}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const current = doc.slice(start + BEGIN.length, end).trim();
    const table = mssqlTypeTable();
    if (process.env.RIVET_UPDATE_DOCS === '1' && current !== table) {
      writeFileSync(DOC, `${doc.slice(0, start + BEGIN.length)}\n${table}\n${doc.slice(end)}`);
      return;
    }
    expect(current).toBe(table);
  });

  it('every TDS type name the mapping handles has a row', () => {
    // The case labels of autodetectMssqlType, read from its source so a new case needs a row.
    const src = readFileSync(fileURLToPath(new URL('../../../shared/source/mssql/mssql-types.ts', import.meta.url)), 'utf8');
    const fn = src.slice(src.indexOf('export function autodetectMssqlType'));
    const handled = new Set([...fn.matchAll(/^ {4}case '([A-Za-z0-9]+)':/gm)].map((m) => m[1]));
    expect(handled.size).toBeGreaterThan(30);
    const documented = new Set(PROBES.map((p) => p.meta.type));
    // The plain Decimal/Numeric TDS types (non-nullable legacy form) share the DecimalN/NumericN branch.
    for (const t of handled) {
      if (t === 'Decimal' || t === 'Numeric') {
        expect(autodetectMssqlType({ colName: 'c', type: { name: t }, precision: 18, scale: 2 }).rivetType).toEqual({ kind: 'decimal', precision: 18, scale: 2 });
        continue;
      }
      expect(documented.has(t), `TDS type ${t} has a row in the doc table`).toBe(true);
    }
  });
});
