/**
 * Shortest decimal text that reads back as the same float, never in exponent notation, the
 * way Rust's `Display` prints f32/f64 (and so the reference CSV writer): `1`, `0.1`, `-0`,
 * `NaN`, `inf`, `-inf`, `1000000000000000000000`.
 */
export function floatText(x: number, single: boolean): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  // JS `String` is shortest round-trip for f64; for f32 find the fewest significant digits
  // that still round to the same f32 (integers up to 2^24 are exact and already shortest).
  let s: string;
  if (!single || (Number.isInteger(x) && Math.abs(x) <= 16_777_216)) s = String(x);
  else {
    s = String(x);
    for (let p = 1; p <= 9; p++) {
      const candidate = Number(x.toPrecision(p));
      if (Math.fround(candidate) === x) {
        s = String(candidate);
        break;
      }
    }
  }
  return s.includes('e') ? expandExponent(s) : s;
}

/** `1.5e-7` → `0.00000015`, `1e+21` → `1000000000000000000000`. */
function expandExponent(s: string): string {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const [mantissa, expText] = body.split('e');
  const exp = Number(expText);
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot < 0 ? mantissa.length : dot) + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return neg ? `-${out}` : out;
}
