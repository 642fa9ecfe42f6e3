import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rivetVersion } from '../../../shared/run/rivet-version.js';

describe('rivetVersion', () => {
  it('is the version in package.json (plan artifacts and reports carry it), not the 0.0.0 fallback', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(pkg.version).not.toBe('0.0.0');
    expect(rivetVersion()).toBe(pkg.version);
  });
});
