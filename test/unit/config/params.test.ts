import { describe, expect, it } from 'vitest';
import { parseParams, unusedParams } from '../../../shared/config/params.js';
import { RivetError } from '../../../shared/errors/rivet-error.js';

describe('parseParams', () => {
  it('splits at the first = and keeps the rest of the value', () => {
    expect(parseParams(['a=1', 'expr=x=y', 'empty='])).toEqual({ a: '1', expr: 'x=y', empty: '' });
  });

  it('lets the last occurrence win', () => {
    expect(parseParams(['a=1', 'a=2'])).toEqual({ a: '2' });
  });

  it('refuses an item without = as a usage error (exit 2)', () => {
    try {
      parseParams(['ok=1', 'region']);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RivetError);
      expect((e as RivetError).code).toBe('USAGE');
      expect((e as RivetError).exitCode).toBe(2);
      expect((e as RivetError).message).toContain("'region'");
      expect((e as RivetError).hint).toContain('name=value');
    }
  });

  it('refuses an empty key', () => {
    expect(() => parseParams(['=x'])).toThrow(/empty KEY/);
  });
});

describe('unusedParams', () => {
  it('matches the whole ${name} token only and sorts', () => {
    expect(unusedParams({ max: '1', max_id: '2', b: '3', a: '4' }, 'where id > ${max_id}')).toEqual(['a', 'b', 'max']);
  });
});
