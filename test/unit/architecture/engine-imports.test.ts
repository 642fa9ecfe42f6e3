import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The import rules that keep engine knowledge in the engine folders (docs/architecture.md,
 * "How to add an engine"; ADR 0014):
 * 1. an engine folder (`shared/source/<engine>/`) imports no other engine folder;
 * 2. nothing outside `shared/source/` imports an engine folder: `shared/run`, `cli`,
 *    `functions` and the rest go through `shared/source/registry.ts`;
 * 3. inside `shared/source/`, only `registry.ts` imports an engine folder;
 * 4. the registry loads no driver: pg, mysql2 and tedious are reached only through a
 *    dynamic `import()`, so a PostgreSQL export never loads the other engines' drivers.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE = 'shared/source';
const SCANNED = ['shared', 'cli', 'functions', 'infra'];
const DRIVERS = ['pg', 'mysql2', 'tedious'];

/**
 * The one exception, and why: the PostgreSQL state store speaks to a PostgreSQL server with
 * the same driver and the same TLS options as the PostgreSQL source.
 */
const ALLOWED: { from: string; to: string }[] = [{ from: 'shared/state/postgres/', to: 'shared/source/postgres/pg-connect.ts' }];

interface Import {
  specifier: string;
  /** `import type` / `export type`: erased at build time. */
  typeOnly: boolean;
  dynamic: boolean;
}

function importsOf(text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    out.push({ specifier: m[3], typeOnly: Boolean(m[2]), dynamic: false });
  }
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ specifier: m[1], typeOnly: false, dynamic: true });
  return out;
}

/** Repository path a relative specifier points at (`.js` → `.ts`); null for a package. */
function target(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
}

/** `shared/source/<engine>/…` → `<engine>`; null outside an engine folder. */
function engineOf(file: string, engines: string[]): string | null {
  const m = /^shared\/source\/([^/]+)\//.exec(file);
  return m && engines.includes(m[1]) ? m[1] : null;
}

function violations(files: Map<string, string>, engines: string[]): string[] {
  const found: string[] = [];
  for (const [file, text] of files) {
    const own = engineOf(file, engines);
    for (const imp of importsOf(text)) {
      const to = target(file, imp.specifier);
      if (to === null) continue;
      const other = engineOf(to, engines);
      if (other === null || other === own) continue;
      if (ALLOWED.some((a) => file.startsWith(a.from) && to === a.to)) continue;
      if (own !== null) found.push(`${file}: engine '${own}' imports engine '${other}' (${imp.specifier})`);
      else if (!file.startsWith(`${SOURCE}/`)) found.push(`${file}: imports the engine folder '${other}' (${imp.specifier}); go through shared/source/registry.ts`);
      else if (file !== `${SOURCE}/registry.ts`) found.push(`${file}: only shared/source/registry.ts may import an engine folder ('${other}', ${imp.specifier})`);
    }
  }
  return found;
}

/** Driver packages reached from `entry` through static, non-type imports. */
function staticDrivers(files: Map<string, string>, entry: string): string[] {
  const seen = new Set<string>();
  const drivers = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imp of importsOf(files.get(file) ?? '')) {
      if (imp.dynamic || imp.typeOnly) continue;
      const to = target(file, imp.specifier);
      if (to === null) {
        const pkg = imp.specifier.startsWith('@') ? imp.specifier.split('/').slice(0, 2).join('/') : imp.specifier.split('/')[0];
        if (DRIVERS.includes(pkg)) drivers.add(`${pkg} (from ${file})`);
      } else {
        walk(to);
      }
    }
  };
  walk(entry);
  return [...drivers];
}

function tsFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (name === 'node_modules' || name === 'cdk.out') return [];
    if (statSync(path.join(ROOT, rel)).isDirectory()) return tsFiles(rel);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [rel] : [];
  });
}

const ENGINES = readdirSync(path.join(ROOT, SOURCE)).filter((n) => statSync(path.join(ROOT, SOURCE, n)).isDirectory());
const FILES = new Map(SCANNED.flatMap(tsFiles).map((f) => [f, readFileSync(path.join(ROOT, f), 'utf8')] as const));

describe('engine import rules', () => {
  it('finds the engine folders and the code to check', () => {
    expect(ENGINES).toEqual(expect.arrayContaining(['postgres', 'mysql', 'mssql']));
    expect(FILES.has(`${SOURCE}/registry.ts`)).toBe(true);
    expect(FILES.size).toBeGreaterThan(200);
  });

  it('catches each kind of violation (the checker itself)', () => {
    const bad = new Map([
      ['shared/source/mysql/mysql-x.ts', "import { SizeMemo } from '../postgres/column-builders.js';"],
      ['shared/run/x.ts', "import type { CsvTextEvent } from '../source/postgres/pg-csv-text.js';"],
      ['cli/commands/x.ts', "const m = await import('../../shared/source/mssql/mssql-source.js');"],
      ['functions/x.ts', "export { pgDialect } from '../shared/source/postgres/pg-dialect.js';"],
      ['shared/source/partition-sql.ts', "import { mysqlDialect } from './mysql/mysql-dialect.js';"],
      ['shared/source/mysql/mysql-ok.ts', "import { mysqlDialect } from './mysql-dialect.js';\nimport { defaultDialect } from '../default-dialect.js';"],
      ['shared/run/ok.ts', "import { openSource } from '../source/registry.js';"],
    ]);
    expect(violations(bad, ['postgres', 'mysql', 'mssql'])).toEqual([
      "shared/source/mysql/mysql-x.ts: engine 'mysql' imports engine 'postgres' (../postgres/column-builders.js)",
      "shared/run/x.ts: imports the engine folder 'postgres' (../source/postgres/pg-csv-text.js); go through shared/source/registry.ts",
      "cli/commands/x.ts: imports the engine folder 'mssql' (../../shared/source/mssql/mssql-source.js); go through shared/source/registry.ts",
      "functions/x.ts: imports the engine folder 'postgres' (../shared/source/postgres/pg-dialect.js); go through shared/source/registry.ts",
      "shared/source/partition-sql.ts: only shared/source/registry.ts may import an engine folder ('mysql', ./mysql/mysql-dialect.js)",
    ]);
    const heavy = new Map([
      ['shared/source/registry.ts', "import { mysqlEngine } from './mysql/mysql-engine.js';"],
      ['shared/source/mysql/mysql-engine.ts', "import mysql from 'mysql2';\nconst open = () => import('tedious');"],
    ]);
    expect(staticDrivers(heavy, 'shared/source/registry.ts')).toEqual(['mysql2 (from shared/source/mysql/mysql-engine.ts)']);
  });

  it('no engine folder imports another, and only the registry imports engine folders', () => {
    expect(violations(FILES, ENGINES)).toEqual([]);
  });

  it('the registry and the descriptors load no database driver until an engine is opened', () => {
    expect(staticDrivers(FILES, `${SOURCE}/registry.ts`)).toEqual([]);
  });
});
