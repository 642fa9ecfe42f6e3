import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveBaseQuery } from '../../../shared/config/query.js';
import { ExportConfigSchema } from '../../../shared/config/schema.js';
import { parseTableName } from '../../../shared/config/table-name.js';
import { RivetError } from '../../../shared/errors/rivet-error.js';

const exp = (extra: object) => ExportConfigSchema.parse({ name: 'orders', format: 'csv', destination: { type: 'stdout' }, ...extra });

function refusal(fn: () => unknown): RivetError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RivetError);
    expect((e as RivetError).exitCode).toBe(2);
    return e as RivetError;
  }
  throw new Error('expected a refusal');
}

describe('table identifiers', () => {
  it('accepts name and schema.name', () => {
    expect(parseTableName('orders', 'x')).toEqual({ name: 'orders' });
    expect(parseTableName('_s1.T_2', 'x')).toEqual({ schema: '_s1', name: 'T_2' });
  });

  it('has a distinct error for each bad shape', () => {
    expect(refusal(() => parseTableName('', 'e')).message).toContain('`table` is empty');
    expect(refusal(() => parseTableName('a.b.c', 'e')).message).toContain("must be <name> or <schema>.<name>, got 'a.b.c'");
    expect(refusal(() => parseTableName('a.', 'e')).message).toContain("empty part in 'a.'");
    const digit = refusal(() => parseTableName('public.1orders', 'e'));
    expect(digit.message).toContain("part '1orders' must start with a letter or '_'");
    expect(digit.hint).toContain('query');
    const dash = refusal(() => parseTableName('my-table', 'e'));
    expect(dash.message).toContain("part 'my-table' contains characters other than letters, digits and '_'");
    expect(dash.hint).toContain('query: SELECT * FROM "my-table"');
  });
});

describe('resolveBaseQuery', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rivet-q-'));
  mkdirSync(path.join(dir, 'queries'));
  writeFileSync(path.join(dir, 'queries', 'orders.sql'), 'SELECT * FROM orders WHERE region = ${region} AND tz = ${TZ_NAME}\n');
  const outside = mkdtempSync(path.join(tmpdir(), 'rivet-outside-'));
  writeFileSync(path.join(outside, 'secret.sql'), 'SELECT 1');
  symlinkSync(path.join(outside, 'secret.sql'), path.join(dir, 'queries', 'escape.sql'));
  symlinkSync(outside, path.join(dir, 'linked'));
  const opts = { configDir: dir, params: { region: "'eu'" }, env: { TZ_NAME: "'UTC'" } };

  it('turns table: into SELECT * FROM', () => {
    expect(resolveBaseQuery(exp({ table: 'public.orders' }), opts)).toEqual({ sql: 'SELECT * FROM public.orders', table: { schema: 'public', name: 'orders' } });
  });

  it('validates table: with the export named', () => {
    expect(refusal(() => resolveBaseQuery(exp({ table: 'bad name' }), opts)).message).toMatch(/^export 'orders': `table` part 'bad name'/);
  });

  it('reads query_file relative to the config dir with params then env substitution', () => {
    expect(resolveBaseQuery(exp({ query_file: 'queries/orders.sql' }), opts).sql).toBe("SELECT * FROM orders WHERE region = 'eu' AND tz = 'UTC'\n");
  });

  it('refuses an unset variable in query_file, naming it', () => {
    const err = refusal(() => resolveBaseQuery(exp({ query_file: 'queries/orders.sql' }), { configDir: dir, params: {}, env: {} }));
    expect(err.message).toContain('${region}');
    expect(err.message).toContain('queries/orders.sql');
  });

  it('refuses absolute paths and .. components', () => {
    expect(refusal(() => resolveBaseQuery(exp({ query_file: '/etc/passwd' }), opts)).message).toContain("absolute paths are not allowed for query_file ('/etc/passwd')");
    expect(refusal(() => resolveBaseQuery(exp({ query_file: 'queries/../../x.sql' }), opts)).message).toContain("'..' components are not allowed");
  });

  it('refuses a symlink that escapes the config dir (file or directory)', () => {
    expect(refusal(() => resolveBaseQuery(exp({ query_file: 'queries/escape.sql' }), opts)).message).toContain('outside the config directory');
    expect(refusal(() => resolveBaseQuery(exp({ query_file: 'linked/secret.sql' }), opts)).message).toContain('outside the config directory');
  });

  it('reports a missing query file by path', () => {
    expect(refusal(() => resolveBaseQuery(exp({ query_file: 'queries/nope.sql' }), opts)).message).toContain("query_file 'queries/nope.sql' cannot be read (ENOENT)");
  });

  it('substitutes params in an inline query, keeping unknown names', () => {
    expect(resolveBaseQuery(exp({ query: 'SELECT ${region}, ${other}' }), opts).sql).toBe("SELECT 'eu', ${other}");
  });
});
