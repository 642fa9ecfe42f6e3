/**
 * Date/time text for CSV with chrono's conventions (`%Y-%m-%d`, `%H:%M:%S%.6f`): years
 * 0..9999 as four digits, others signed (`-0001`, `+10000`). Integer arithmetic only, and
 * floor division throughout so instants before 1970 with a sub-second part come out right
 * (the reference writer left those cells empty).
 */
const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_DAY_N = 86_400_000_000n;
// Below this magnitude µs and day arithmetic stays exact in doubles (2^53 with margin).
const SAFE_MICROS = 2 ** 52;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function yearText(y: number): string {
  if (y >= 0 && y <= 9999) return pad(y, 4);
  return (y < 0 ? '-' : '+') + pad(Math.abs(y), 4);
}

/** Days since 1970-01-01 → `YYYY-MM-DD` (proleptic Gregorian, civil-from-days). */
export function dateText(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${yearText(y)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** Microseconds since midnight → `HH:MM:SS.ffffff`. */
export function timeText(micros: number): string {
  const secs = Math.floor(micros / 1_000_000);
  const frac = micros - secs * 1_000_000;
  return `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}.${pad(frac, 6)}`;
}

/** Microseconds since the epoch → `YYYY-MM-DDTHH:MM:SS.ffffff` (no offset, for naive and UTC alike). */
export function timestampText(micros: bigint): string {
  let days: number;
  let rest: number;
  const n = Number(micros);
  if (Math.abs(n) < SAFE_MICROS) {
    days = Math.floor(n / MICROS_PER_DAY);
    rest = n - days * MICROS_PER_DAY;
  } else {
    let d = micros / MICROS_PER_DAY_N;
    if (micros % MICROS_PER_DAY_N < 0n) d -= 1n;
    days = Number(d);
    rest = Number(micros - d * MICROS_PER_DAY_N);
  }
  return `${dateText(days)}T${timeText(rest)}`;
}
