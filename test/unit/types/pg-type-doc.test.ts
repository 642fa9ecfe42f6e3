import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { arrowTypeName } from '../../../shared/types/arrow-type-name.js';
import { parseColumnOverride } from '../../../shared/types/column-override.js';
import { canonicalLabel, fidelityOf, toArrowType } from '../../../shared/types/rivet-type.js';
import { autodetectPgType, PgOid, STRING_OVERRIDE_ONLY, type PgTypeCatalog, type PgTypeInfo } from '../../../shared/source/postgres/pg-types.js';

/**
 * docs/reference/types.md's PostgreSQL table is generated from the code: each row runs the
 * real autodetection (pg-types.ts) and the real RivetType → Arrow mapping. This test fails
 * when the doc is stale; `RIVET_UPDATE_DOCS=1 npx vitest run test/unit/types/pg-type-doc.test.ts`
 * rewrites the table between its markers.
 */

const DOC = fileURLToPath(new URL('../../../docs/reference/types.md', import.meta.url));
const BEGIN = '<!-- generated:pg-types (test/unit/types/pg-type-doc.test.ts) -->';
const END = '<!-- /generated:pg-types -->';

/** numeric(p,s) type modifier as the server sends it. */
const typmod = (p: number, s: number) => ((p << 16) | (s & 0x7ff)) + 4;

// Catalog rows for types that only exist per database (enums, extension types, ranges…).
const ENUM_OID = 90001;
const ENUM_ARRAY_OID = 90002;
const HSTORE_OID = 90003;
const CATALOG: PgTypeCatalog = new Map<number, PgTypeInfo>([
  [ENUM_OID, { oid: ENUM_OID, name: 'mood', typtype: 'e', elem: 0, base: 0 }],
  [ENUM_ARRAY_OID, { oid: ENUM_ARRAY_OID, name: '_mood', typtype: 'b', elem: ENUM_OID, base: 0 }],
  [HSTORE_OID, { oid: HSTORE_OID, name: 'hstore', typtype: 'b', elem: 0, base: 0 }],
  [90004, { oid: 90004, name: 'int4multirange', typtype: 'm', elem: 0, base: 0 }],
  [600, { oid: 600, name: 'point', typtype: 'b', elem: 701, base: 0 }],
]);

interface Probe {
  pg: string;
  oid: number;
  typmod?: number;
  note?: string;
}

const PROBES: Probe[] = [
  { pg: 'bool', oid: PgOid.bool },
  { pg: 'int2 (smallint)', oid: PgOid.int2 },
  { pg: 'int4 (integer)', oid: PgOid.int4 },
  { pg: 'int8 (bigint)', oid: PgOid.int8 },
  { pg: 'oid', oid: PgOid.oid, note: 'widened (unsigned 32-bit)' },
  { pg: 'float4 (real)', oid: PgOid.float4, note: 'NaN, ±Infinity and -0 kept' },
  { pg: 'float8 (double precision)', oid: PgOid.float8, note: 'NaN, ±Infinity and -0 kept' },
  { pg: 'numeric(18,2)', oid: PgOid.numeric, typmod: typmod(18, 2), note: 'exact; NaN/±Infinity values fail the export' },
  { pg: 'numeric(60,10)', oid: PgOid.numeric, typmod: typmod(60, 10), note: 'precision > 38 → Decimal256 (Parquet only)' },
  { pg: 'numeric (no precision)', oid: PgOid.numeric, note: 'needs `columns: { c: "decimal(p,s)" }` or `string`' },
  { pg: 'date', oid: PgOid.date, note: '±infinity fails the export' },
  { pg: 'time', oid: PgOid.time },
  { pg: 'timestamp', oid: PgOid.timestamp, note: 'wall clock; ±infinity fails the export' },
  { pg: 'timestamptz', oid: PgOid.timestamptz, note: 'UTC instant; ±infinity fails the export' },
  { pg: 'text', oid: PgOid.text },
  { pg: 'varchar(n)', oid: PgOid.varchar },
  { pg: 'char(n) (bpchar)', oid: PgOid.bpchar, note: 'blank-padded to n, as stored' },
  { pg: 'name', oid: PgOid.name },
  { pg: 'bytea', oid: PgOid.bytea },
  { pg: 'json', oid: PgOid.json, note: 'whitespace outside strings removed; numbers and key order kept' },
  { pg: 'jsonb', oid: PgOid.jsonb, note: 'the server’s jsonb text, whitespace removed' },
  { pg: 'uuid', oid: PgOid.uuid },
  { pg: 'interval', oid: PgOid.interval, note: 'ISO-8601 duration, e.g. `P1Y2M3DT4H5M6.789000S`' },
  { pg: 'enum type', oid: ENUM_OID, note: 'label text' },
  { pg: 'domain', oid: PgOid.int4, note: 'the server describes it by its base type (here int4)' },
  { pg: 'int4[]', oid: PgOid._int4, note: '1-D; NULL elements kept; multi-dimensional values fail the export' },
  { pg: 'text[]', oid: PgOid._text },
  { pg: 'numeric(10,2)[]', oid: PgOid._numeric, typmod: typmod(10, 2) },
  { pg: 'uuid[]', oid: PgOid._uuid },
  { pg: 'date[]', oid: PgOid._date },
  { pg: 'timestamptz[]', oid: PgOid._timestamptz },
  { pg: 'jsonb[]', oid: PgOid._jsonb },
  { pg: 'enum[]', oid: ENUM_ARRAY_OID },
  { pg: 'inet', oid: PgOid.inet },
  { pg: 'cidr', oid: PgOid.cidr },
  { pg: 'macaddr', oid: PgOid.macaddr },
  { pg: 'macaddr8', oid: PgOid.macaddr8 },
  { pg: 'bit(n)', oid: PgOid.bit },
  { pg: 'varbit', oid: PgOid.varbit },
  { pg: 'timetz', oid: PgOid.timetz },
  { pg: 'xml', oid: PgOid.xml },
  { pg: '"char"', oid: PgOid.char },
  { pg: 'int4range', oid: PgOid.int4range },
  { pg: 'int8range', oid: PgOid.int8range },
  { pg: 'numrange', oid: PgOid.numrange },
  { pg: 'daterange', oid: PgOid.daterange },
  { pg: 'tsrange', oid: PgOid.tsrange },
  { pg: 'tstzrange', oid: PgOid.tstzrange, note: 'bounds in UTC (`+00`)' },
  { pg: 'money', oid: PgOid.money, note: 'export with `columns: { c: "decimal(19,2)" }` (fraction digits of the server’s lc_monetary; the error suggests the right scale)' },
  { pg: 'multiranges, user-defined ranges', oid: 90004, note: 'cast in SQL: `c::text`' },
  { pg: 'point (geometric types)', oid: 600, note: 'cast in SQL: `c::text`' },
  { pg: 'hstore (extension types)', oid: HSTORE_OID, note: 'cast in SQL: `c::text` or `hstore_to_jsonb(c)`' },
];

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function pgTypeTable(): string {
  const lines = ['| PostgreSQL type | Rivet type | Arrow type | Fidelity | Notes |', '|---|---|---|---|---|'];
  for (const p of PROBES) {
    const t = autodetectPgType(p.oid, p.typmod ?? -1, CATALOG);
    let rivet: string;
    let arrow: string;
    let fidelity: string;
    let note = p.note ?? '';
    if (t.kind === 'unsupported' && STRING_OVERRIDE_ONLY.has(p.oid)) {
      // Not autodetected (docs/reference/types.md); the `string` override reads the server's text form.
      rivet = 'unsupported → `string` with override';
      arrow = arrowTypeName(toArrowType({ kind: 'string' })!);
      fidelity = `${fidelityOf(t)} → ${fidelityOf({ kind: 'string' })}`;
      note = ['export with `columns: { c: string }` (the server’s text form)', note].filter(Boolean).join('; ');
    } else {
      rivet = canonicalLabel(t);
      const a = toArrowType(t);
      arrow = a === null ? '-' : arrowTypeName(a).replace(/Field \{ name: "item", data_type: (.*), nullable: true \}/, '$1');
      fidelity = fidelityOf(t);
    }
    lines.push(`| ${cell(p.pg)} | ${cell(rivet)} | ${cell(arrow)} | ${fidelity} | ${cell(note)} |`);
  }
  return lines.join('\n');
}

describe('docs/reference/types.md', () => {
  it('PostgreSQL table matches what the code maps (RIVET_UPDATE_DOCS=1 regenerates it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, `markers ${BEGIN} … ${END} in ${DOC}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const current = doc.slice(start + BEGIN.length, end).trim();
    const table = pgTypeTable();
    if (process.env.RIVET_UPDATE_DOCS === '1' && current !== table) {
      writeFileSync(DOC, `${doc.slice(0, start + BEGIN.length)}\n${table}\n${doc.slice(end)}`);
      return;
    }
    expect(current).toBe(table);
  });

  it('every override keyword the doc lists is one the parser accepts', () => {
    const doc = readFileSync(DOC, 'utf8');
    const section = doc.slice(doc.indexOf('## Column overrides'), doc.indexOf('## PostgreSQL'));
    const firstCells = [...section.matchAll(/^\| (`[^|]+`) \|/gm)].map((m) => m[1]);
    const keywords = firstCells.flatMap((c) => [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    expect(keywords.length).toBeGreaterThan(40);
    for (const k of keywords) expect(() => parseColumnOverride('c', k.replace('(p,s)', '(18,2)'))).not.toThrow();
  });
});
