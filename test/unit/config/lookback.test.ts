import { describe, expect, it } from 'vitest';
import { parseLookback } from '../../../shared/config/lookback.js';
import { lookbackStep } from '../../../shared/source/lookback-step.js';
import { seededRandom } from '../../helpers/seeded-random.js';

describe('cursor_lookback', () => {
  it('reads durations as seconds and plain numbers as amounts; zero and absent mean none', () => {
    expect(parseLookback('90s', 'x')).toEqual({ unit: 'seconds', seconds: 90 });
    expect(parseLookback('15m', 'x')).toEqual({ unit: 'seconds', seconds: 900 });
    expect(parseLookback('2h', 'x')).toEqual({ unit: 'seconds', seconds: 7200 });
    expect(parseLookback('1d', 'x')).toEqual({ unit: 'seconds', seconds: 86_400 });
    expect(parseLookback(1000, 'x')).toEqual({ unit: 'number', amount: '1000' });
    expect(parseLookback('2.5', 'x')).toEqual({ unit: 'number', amount: '2.5' });
    expect(parseLookback(0, 'x')).toBeNull();
    expect(parseLookback('0m', 'x')).toBeNull();
    expect(parseLookback(undefined, 'x')).toBeNull();
  });

  it('refuses anything else as a config error (exit 2) naming the value', () => {
    for (const bad of ['15 minutes', '-5', '1w', 'm', '', '1e3', -1, Number.NaN]) {
      expect(() => parseLookback(bad, "export 'ev'"), String(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', exitCode: 2 }));
    }
  });

  it('random durations round-trip to the seconds they spell', () => {
    const rnd = seededRandom(77);
    const units = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
    for (let i = 0; i < 200; i++) {
      const n = 1 + Math.floor(rnd() * 10_000);
      const unit = (['s', 'm', 'h', 'd'] as const)[Math.floor(rnd() * 4)];
      expect(parseLookback(`${n}${unit}`, 'x')).toEqual({ unit: 'seconds', seconds: n * units[unit] });
    }
  });

  it('must fit the cursor: a duration for time, an amount for numbers, nothing for text', () => {
    expect(lookbackStep('time', 'timestamptz', { unit: 'seconds', seconds: 60 })).toBe('time');
    expect(lookbackStep('number', 'bigint', { unit: 'number', amount: '5' })).toBe('number');
    expect(() => lookbackStep('time', 'date', { unit: 'number', amount: '5' })).toThrow(/needs a unit/);
    expect(() => lookbackStep('number', 'integer', { unit: 'seconds', seconds: 5 })).toThrow(/not a duration/);
    expect(() => lookbackStep(null, 'text', { unit: 'seconds', seconds: 5 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
