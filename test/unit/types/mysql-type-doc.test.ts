import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { arrowTypeName } from '../../../shared/types/arrow-type-name.js';
import { canonicalLabel, fidelityOf, toArrowType } from '../../../shared/types/rivet-type.js';
import { autodetectMysqlType, BINARY_CHARSET, MyFlag, MyType, type MyField } from '../../../shared/source/mysql/mysql-types.js';

/**
 * docs/sources/mysql.md's type table is generated from the code: each row describes one
 * column the way the server does (protocol type code, flags, character set, length, MariaDB's
 * extended metadata) and runs the real autodetection (mysql-types.ts) and RivetType → Arrow
 * mapping. This test fails when the doc is stale;
 * `RIVET_UPDATE_DOCS=1 npx vitest run test/unit/types/mysql-type-doc.test.ts` rewrites the
 * table between its markers.
 */

const DOC = fileURLToPath(new URL('../../../docs/sources/mysql.md', import.meta.url));
const BEGIN = '<!-- generated:mysql-types (test/unit/types/mysql-type-doc.test.ts) -->';
const END = '<!-- /generated:mysql-types -->';

const UTF8MB4 = 45;
const U = MyFlag.UNSIGNED;

interface Probe {
  my: string;
  field: Partial<MyField> & { columnType: number };
  note?: string;
}

const PROBES: Probe[] = [
  { my: '`TINYINT(1)`, `BOOL`, `BOOLEAN`', field: { columnType: MyType.TINY, columnLength: 1 }, note: 'any non-zero value is true' },
  { my: '`TINYINT`', field: { columnType: MyType.TINY, columnLength: 4 } },
  { my: '`TINYINT UNSIGNED`', field: { columnType: MyType.TINY, columnLength: 3, flags: U } },
  { my: '`SMALLINT`', field: { columnType: MyType.SHORT, columnLength: 6 } },
  { my: '`SMALLINT UNSIGNED`', field: { columnType: MyType.SHORT, columnLength: 5, flags: U } },
  { my: '`MEDIUMINT`', field: { columnType: MyType.INT24, columnLength: 9 } },
  { my: '`MEDIUMINT UNSIGNED`', field: { columnType: MyType.INT24, columnLength: 8, flags: U } },
  { my: '`INT`', field: { columnType: MyType.LONG, columnLength: 11 } },
  { my: '`INT UNSIGNED`', field: { columnType: MyType.LONG, columnLength: 10, flags: U } },
  { my: '`BIGINT`', field: { columnType: MyType.LONGLONG, columnLength: 20 }, note: 'full range, exact' },
  { my: '`BIGINT UNSIGNED`', field: { columnType: MyType.LONGLONG, columnLength: 20, flags: U }, note: 'full range, exact' },
  { my: '`FLOAT`', field: { columnType: MyType.FLOAT, columnLength: 12, decimals: 31 } },
  { my: '`DOUBLE`', field: { columnType: MyType.DOUBLE, columnLength: 22, decimals: 31 } },
  { my: '`DECIMAL(12,2)`', field: { columnType: MyType.NEWDECIMAL, columnLength: 14, decimals: 2 }, note: 'exact; p from the wire length' },
  { my: '`DECIMAL(20,0) UNSIGNED`', field: { columnType: MyType.NEWDECIMAL, columnLength: 20, decimals: 0, flags: U } },
  { my: '`DECIMAL(65,10)`', field: { columnType: MyType.NEWDECIMAL, columnLength: 67, decimals: 10 }, note: 'precision > 38 → Decimal256 (Parquet only)' },
  { my: '`DATE`', field: { columnType: MyType.DATE, columnLength: 10 }, note: 'zero dates → NULL, see below' },
  { my: '`DATETIME(n)`', field: { columnType: MyType.DATETIME, columnLength: 26, decimals: 6 }, note: 'wall clock, as stored' },
  { my: '`TIMESTAMP(n)`', field: { columnType: MyType.TIMESTAMP, columnLength: 26, decimals: 6 }, note: 'the instant, read in a UTC session' },
  { my: '`TIME(n)`', field: { columnType: MyType.TIME, columnLength: 17, decimals: 6 }, note: 'only 00:00:00–23:59:59.999999; see below' },
  { my: '`YEAR`', field: { columnType: MyType.YEAR, columnLength: 4 }, note: '`0000` → 0' },
  { my: '`CHAR(n)`', field: { columnType: MyType.STRING, columnLength: 40, characterSet: UTF8MB4 }, note: 'utf8mb4 on the wire' },
  { my: '`VARCHAR(n)`', field: { columnType: MyType.VAR_STRING, columnLength: 200, characterSet: UTF8MB4 }, note: 'utf8mb4 on the wire' },
  { my: '`TINYTEXT`…`LONGTEXT`', field: { columnType: MyType.BLOB, columnLength: 262140, characterSet: UTF8MB4 }, note: 'spec 03 names every BLOB/TEXT kind `blob`' },
  { my: '`BINARY(n)`', field: { columnType: MyType.STRING, columnLength: 16, characterSet: BINARY_CHARSET, flags: MyFlag.BINARY }, note: 'bytes as stored (zero-padded)' },
  { my: '`VARBINARY(n)`', field: { columnType: MyType.VAR_STRING, columnLength: 100, characterSet: BINARY_CHARSET, flags: MyFlag.BINARY } },
  { my: '`TINYBLOB`…`LONGBLOB`', field: { columnType: MyType.BLOB, columnLength: 65535, characterSet: BINARY_CHARSET, flags: MyFlag.BINARY } },
  { my: '`JSON` (MySQL 8)', field: { columnType: MyType.JSON, columnLength: 4294967295, characterSet: UTF8MB4 }, note: '`arrow.json` extension (Parquet JSON type); the server’s normalised text' },
  {
    my: '`JSON` (MariaDB)', field: { columnType: MyType.BLOB, columnLength: 4294967295, characterSet: UTF8MB4, extendedFormat: 'json' },
    note: '`arrow.json` extension (Parquet JSON type); LONGTEXT recognised by extended metadata (10.5+); text as written; see MariaDB vs MySQL',
  },
  { my: '`UUID` (MariaDB 10.7+)', field: { columnType: MyType.STRING, columnLength: 144, characterSet: UTF8MB4, extendedTypeName: 'uuid' }, note: 'the text form; `columns: { c: uuid }` gives fixed_size_binary(16) + `arrow.uuid`' },
  { my: '`INET6` (MariaDB 10.5+)', field: { columnType: MyType.STRING, columnLength: 156, characterSet: UTF8MB4, extendedTypeName: 'inet6' }, note: 'the text form' },
  { my: '`ENUM`', field: { columnType: MyType.STRING, columnLength: 20, characterSet: UTF8MB4, flags: MyFlag.ENUM }, note: '`rivet.logical_type: enum`' },
  { my: '`SET`', field: { columnType: MyType.STRING, columnLength: 20, characterSet: UTF8MB4, flags: MyFlag.SET }, note: 'as `a,b,c`' },
  { my: '`BIT(1)`', field: { columnType: MyType.BIT, columnLength: 1 } },
  { my: '`BIT(n)`, n > 1', field: { columnType: MyType.BIT, columnLength: 8 }, note: 'big-endian bytes; `BIT(64)` with the top bit set is negative' },
  { my: '`GEOMETRY` and spatial types', field: { columnType: MyType.GEOMETRY, characterSet: BINARY_CHARSET }, note: 'select `ST_AsText(c)` or `ST_AsWKB(c)`' },
  { my: 'bare `NULL` column', field: { columnType: MyType.NULL }, note: 'CAST it in SQL' },
];

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function field(p: Probe): MyField {
  return { name: 'c', flags: 0, characterSet: UTF8MB4, columnLength: 0, decimals: 0, ...p.field };
}

function mysqlTypeTable(): string {
  const lines = ['| MySQL / MariaDB | `rivet.native_type` | Rivet type | Arrow type | Fidelity | Notes |', '|---|---|---|---|---|---|'];
  for (const p of PROBES) {
    const c = autodetectMysqlType(field(p));
    const a = toArrowType(c.rivetType);
    const arrow = a === null ? '-' : arrowTypeName(a);
    lines.push(`| ${cell(p.my)} | \`${cell(c.nativeType)}\` | ${cell(canonicalLabel(c.rivetType))} | ${cell(arrow)} | ${fidelityOf(c.rivetType)} | ${cell(p.note ?? '')} |`);
  }
  return lines.join('\n');
}

describe('docs/sources/mysql.md', () => {
  it('type table matches what the code maps (RIVET_UPDATE_DOCS=1 regenerates it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, `markers ${BEGIN} … ${END} in ${DOC}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const current = doc.slice(start + BEGIN.length, end).trim();
    const table = mysqlTypeTable();
    if (process.env.RIVET_UPDATE_DOCS === '1' && current !== table) {
      writeFileSync(DOC, `${doc.slice(0, start + BEGIN.length)}\n${table}\n${doc.slice(end)}`);
      return;
    }
    expect(current).toBe(table);
  });

  it('every protocol type code rivet names is covered by a row', () => {
    const covered = new Set(PROBES.map((p) => p.field.columnType));
    // Codes the server reports only for older or internal column forms map like their modern twin.
    const twins: Record<number, number> = {
      [MyType.DECIMAL]: MyType.NEWDECIMAL,
      [MyType.NEWDATE]: MyType.DATE,
      [MyType.TIME2]: MyType.TIME,
      [MyType.DATETIME2]: MyType.DATETIME,
      [MyType.TIMESTAMP2]: MyType.TIMESTAMP,
      [MyType.VARCHAR]: MyType.VAR_STRING,
      [MyType.TINY_BLOB]: MyType.BLOB,
      [MyType.MEDIUM_BLOB]: MyType.BLOB,
      [MyType.LONG_BLOB]: MyType.BLOB,
      [MyType.ENUM]: MyType.STRING,
      [MyType.SET]: MyType.STRING,
    };
    for (const [name, code] of Object.entries(MyType)) {
      const twin = twins[code];
      expect(covered.has(code) || twin !== undefined, `MyType.${name} has a doc row or a twin`).toBe(true);
      if (twin === undefined || covered.has(code)) continue;
      // The twin's row stands for this code too: same RivetType for the same description.
      const row = PROBES.find((p) => p.field.columnType === twin && !(p.field.flags && p.field.flags & (MyFlag.ENUM | MyFlag.SET)))!;
      const viaTwin = autodetectMysqlType(field({ ...row, field: { ...row.field, columnType: code } }));
      if (code === MyType.ENUM || code === MyType.SET) {
        expect(viaTwin.rivetType).toEqual({ kind: 'enum' });
      } else {
        expect(viaTwin.rivetType, `MyType.${name} maps like its twin`).toEqual(autodetectMysqlType(field(row)).rivetType);
      }
    }
  });
});
