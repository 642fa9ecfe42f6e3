import { describe, expect, it } from 'vitest';
import { parseDouble, smallScaledDecimal } from '../../../shared/source/mysql/mysql-decoders.js';

/** The text placed inside a larger buffer, so offsets other than 0 are exercised. */
function framed(text: string): [Buffer, number, number] {
  const b = Buffer.from(`\xfb${text}\xfc`, 'latin1');
  return [b, 1, b.length - 1];
}

describe('parseDouble (MySQL DOUBLE/FLOAT text without a string)', () => {
  it('gives exactly what Number(text) gives, on edges and on the fast path', () => {
    const texts = [
      '0', '-0', '1', '-1', '0.1', '0.2', '0.30000000000000004', '1.5', '-3.40282e38', '1.17549e-38', '5e-324',
      '1.7976931348623157e308', '-1.7976931348623157e308', '2.2250738585072014e-308', '1.2345678901234568e20',
      '123456789012345', '1234567890123456', '0.000000000000000000001', '0.0000000000000000000000001', '14285.714285714286',
      '999999999999999', '9007199254740993', '0.142857142', '100', '5.', '.5', 'inf', '-inf', 'nan', '', '-', '.', '1e5', '+5',
    ];
    for (const t of texts) expect(Object.is(parseDouble(...framed(t)), Number(t)), t).toBe(true);
  });

  it('agrees with Number(text) on 200 000 generated values of up to 17 significant digits', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let k = 0; k < 200_000; k++) {
      const digits = 1 + Math.floor(rnd() * 17);
      let s = '';
      for (let d = 0; d < digits; d++) s += Math.floor(rnd() * 10);
      const point = Math.floor(rnd() * (digits + 1));
      const t = (rnd() < 0.5 ? '-' : '') + s.slice(0, point) + (point < digits ? '.' + s.slice(point) : '');
      const got = parseDouble(...framed(t));
      if (!Object.is(got, Number(t))) expect(got, t).toBe(Number(t));
    }
  });
});

describe('smallScaledDecimal (MySQL DECIMAL text to an exact scaled integer)', () => {
  it('scales, truncates extra fraction digits and keeps the sign', () => {
    expect(smallScaledDecimal(...framed('-0.0001'), 4)).toBe(-1);
    expect(smallScaledDecimal(...framed('1234.5'), 4)).toBe(12345000);
    expect(smallScaledDecimal(...framed('-99999999999.9999'), 4)).toBe(-999999999999999);
    expect(smallScaledDecimal(...framed('12.34567'), 2)).toBe(1234);
    expect(smallScaledDecimal(...framed('-12.349'), 2)).toBe(-1234);
    expect(smallScaledDecimal(...framed('42'), 0)).toBe(42);
    expect(smallScaledDecimal(...framed('0.00'), 2)).toBe(0);
    expect(smallScaledDecimal(...framed('+7.5'), 1)).toBe(75);
    expect(smallScaledDecimal(...framed('.5'), 1)).toBe(5);
  });

  it('declines (NaN) what it cannot hold exactly or does not parse, so the BigInt path decides', () => {
    expect(smallScaledDecimal(...framed('9999999999999999'), 0)).toBeNaN(); // 16 digits
    expect(smallScaledDecimal(...framed('99999999999.99999'), 5)).toBeNaN();
    expect(smallScaledDecimal(...framed('1.5'), 15)).toBeNaN(); // 16 digits once scaled
    expect(smallScaledDecimal(...framed('1.2.3'), 2)).toBeNaN();
    expect(smallScaledDecimal(...framed('12a'), 2)).toBeNaN();
    expect(smallScaledDecimal(...framed('1.5x'), 2)).toBeNaN();
    expect(smallScaledDecimal(...framed(''), 2)).toBeNaN();
    expect(smallScaledDecimal(...framed('-'), 2)).toBeNaN();
    expect(smallScaledDecimal(...framed('.'), 2)).toBeNaN();
    expect(smallScaledDecimal(...framed('1e5'), 2)).toBeNaN();
  });

  it('agrees with BigInt arithmetic on generated values', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let k = 0; k < 50_000; k++) {
      const scale = Math.floor(rnd() * 8);
      const intDigits = Math.floor(rnd() * 12);
      const fracDigits = Math.floor(rnd() * 10);
      let i = '';
      for (let d = 0; d < intDigits; d++) i += Math.floor(rnd() * 10);
      let f = '';
      for (let d = 0; d < fracDigits; d++) f += Math.floor(rnd() * 10);
      if (i === '' && f === '') i = '0';
      const neg = rnd() < 0.5;
      const t = (neg ? '-' : '') + i + (f ? '.' + f : '');
      const expected = BigInt((i || '0') + f.slice(0, scale).padEnd(scale, '0')) * (neg ? -1n : 1n);
      const got = smallScaledDecimal(...framed(t), scale);
      if (Number.isNaN(got)) expect((expected < 0n ? -expected : expected).toString().replace(/^0+/, '').length, t).toBeGreaterThan(15);
      else if (BigInt(got) !== expected) expect(got, t).toBe(Number(expected));
    }
  });
});
