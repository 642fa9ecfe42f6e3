// The module object tedious's row parser calls readValue through (CommonJS exports, mutable),
// imported statically so that bundlers carry it: a createRequire lookup finds no tedious/ beside
// a bundle.
import valueParser from 'tedious/lib/value-parser.js';

/**
 * tedious turns DECIMAL/NUMERIC and MONEY values into JavaScript numbers (a double), which
 * silently rounds anything beyond ~15 significant digits. rivet promises exact decimals, so
 * the value parser is wrapped: tedious still reads the value (bounds checks, waiting for
 * more packet data), then the same bytes are re-read as an exact unscaled BigInt.
 *
 * Result: NUMERIC/DECIMAL values arrive as `bigint` = value × 10^scale (the column's scale),
 * MONEY/SMALLMONEY as `bigint` = value × 10^4. Only this process's tedious is affected, and
 * rivet is its only user. `tedious` is pinned (package.json); the unit tests check the
 * wrapper against tedious's own row parser, so an upgrade that moves the hook fails loudly.
 */

interface ParsedValue {
  value: unknown;
  offset: number;
}
type ReadValue = (buf: Buffer, offset: number, metadata: { type: { name: string } }, options: unknown) => ParsedValue;
interface ValueParserModule {
  readValue: ReadValue & { rivetExact?: true };
}

/** Little-endian unsigned magnitude of `n` bytes. */
function readUnsignedLE(buf: Buffer, start: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[start + i]);
  return v;
}

/** TDS MONEY: high int32 then low uint32, both little-endian, as one signed 64-bit count of 1/10000. */
function readMoney(buf: Buffer, at: number): bigint {
  return (BigInt(buf.readInt32LE(at)) << 32n) | BigInt(buf.readUInt32LE(at + 4));
}

/** The exact value of a decimal/money cell whose bytes start at `offset`; undefined for other types. */
export function exactValueAt(buf: Buffer, offset: number, typeName: string): bigint | null | undefined {
  switch (typeName) {
    case 'NumericN':
    case 'DecimalN': {
      const len = buf[offset];
      if (len === 0) return null;
      const mag = readUnsignedLE(buf, offset + 2, len - 1);
      return buf[offset + 1] === 1 ? mag : -mag;
    }
    case 'Money':
      return readMoney(buf, offset);
    case 'SmallMoney':
      return BigInt(buf.readInt32LE(offset));
    case 'MoneyN': {
      const len = buf[offset];
      if (len === 0) return null;
      return len === 4 ? BigInt(buf.readInt32LE(offset + 1)) : readMoney(buf, offset + 1);
    }
    default:
      return undefined;
  }
}

const EXACT_TYPES = new Set(['NumericN', 'DecimalN', 'Money', 'SmallMoney', 'MoneyN']);

/** Wrap tedious's value parser once per process (idempotent). */
export function installExactDecimals(): void {
  const mod = valueParser as unknown as ValueParserModule;
  if (mod.readValue.rivetExact) return;
  const original = mod.readValue;
  const wrapped: ReadValue & { rivetExact?: true } = (buf, offset, metadata, options) => {
    const result = original(buf, offset, metadata, options);
    if (EXACT_TYPES.has(metadata.type.name)) {
      const exact = exactValueAt(buf, offset, metadata.type.name);
      if (exact !== undefined) result.value = exact;
    }
    return result;
  };
  wrapped.rivetExact = true;
  mod.readValue = wrapped;
}
