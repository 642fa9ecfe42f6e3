import { describe, expect, it } from 'vitest';
import { pgDialect, pgTextLiteral } from '../../../shared/source/postgres/pg-dialect.js';
import { timeWindowCutoff } from '../../../shared/run/modes/time-window.js';

describe('incremental cursor SQL (PostgreSQL dialect)', () => {
  const c = pgDialect.cursorSql('SELECT * FROM s.t; -- trailing', 'up"dated');

  it('quotes the column, wraps the base query without its trailing semicolon and comment', () => {
    expect(c.expr).toBe('_rivet."up""dated"');
    expect(c.from).toBe('FROM (\nSELECT * FROM s.t\n) AS _rivet');
  });

  it('coalesce compares COALESCE(primary, fallback)', () => {
    expect(pgDialect.cursorSql('SELECT 1', 'a', 'b').expr).toBe('COALESCE(_rivet."a", _rivet."b")');
  });

  it('literals survive quotes and backslashes under either standard_conforming_strings, cast to the cursor type', () => {
    expect(pgTextLiteral("it's a \\ path")).toBe("E'it''s a \\\\ path'");
    expect(pgDialect.typedLiteral('2024-03-01 08:30:00.5+00', 'timestamp with time zone')).toBe("CAST(E'2024-03-01 08:30:00.5+00' AS timestamp with time zone)");
  });

  it('the first run takes NULL cursors too; later runs take (from, to]', () => {
    expect(pgDialect.windowSql(c, null, 'U')).toBe(`SELECT _rivet.* ${c.from} WHERE (${c.expr} <= U OR ${c.expr} IS NULL) ORDER BY ${c.expr}`);
    expect(pgDialect.windowSql(c, 'L', 'U')).toBe(`SELECT _rivet.* ${c.from} WHERE ${c.expr} > L AND ${c.expr} <= U ORDER BY ${c.expr}`);
    expect(pgDialect.windowSql(c, null, null)).toBe(`SELECT _rivet.* ${c.from} ORDER BY ${c.expr}`);
  });

  it('the upper bound ignores NULLs (DESC would sort them first)', () => {
    expect(pgDialect.upperBoundSql(c, null)).toContain(`WHERE ${c.expr} IS NOT NULL ORDER BY ${c.expr} DESC LIMIT 1`);
    expect(pgDialect.upperBoundSql(c, 'L')).toContain(`WHERE ${c.expr} > L ORDER BY`);
  });
});

describe('time_window cutoff', () => {
  it('is UTC midnight of the day days_window days ago, whatever the time of day', () => {
    expect(timeWindowCutoff(new Date('2026-03-10T00:00:00Z'), 3).toISOString()).toBe('2026-03-07T00:00:00.000Z');
    expect(timeWindowCutoff(new Date('2026-03-10T23:59:59.999Z'), 3).toISOString()).toBe('2026-03-07T00:00:00.000Z');
    expect(timeWindowCutoff(new Date('2026-03-01T05:00:00Z'), 1).toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(timeWindowCutoff(new Date('2026-03-01T05:00:00Z'), 0).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });
});
