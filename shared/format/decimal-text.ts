/**
 * Exact text of a scaled decimal (docs/reference/types.md): `-`? integer `.` fraction padded to `scale` digits;
 * scale 0 → integer; negative scale → integer × 10^|scale|. Never through floating point.
 */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale <= 0) return String(scale === 0 ? unscaled : unscaled * 10n ** BigInt(-scale));
  const neg = unscaled < 0n;
  const digits = String(neg ? -unscaled : unscaled).padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}
