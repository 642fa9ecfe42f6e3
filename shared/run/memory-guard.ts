import { setTimeout as sleep } from 'node:timers/promises';

/** How long a task waits when the process is above `memory_threshold_mb` (the reference's 5 s). */
export const MEMORY_GUARD_PAUSE_MS = 5_000;

/**
 * The RSS guard of chunked exports (`tuning.memory_threshold_mb`, 0 = off): before a chunk
 * starts, a process above the threshold warns and pauses once, so tasks already running can
 * finish and release their batches and row groups; then the chunk goes ahead. It never
 * fails a run — memory that does not come back is reported, not guessed at.
 */
export async function memoryGuard(
  thresholdMb: number,
  what: string,
  io: { warn: (msg: string) => void; rssMb?: () => number; pause?: (ms: number, signal?: AbortSignal) => Promise<unknown>; signal?: AbortSignal },
): Promise<boolean> {
  if (!(thresholdMb > 0)) return false;
  const rss = io.rssMb ?? (() => process.memoryUsage.rss() / (1024 * 1024));
  const before = rss();
  if (before <= thresholdMb) return false;
  io.warn(
    `${what}: process RSS ${before.toFixed(0)} MB is above tuning.memory_threshold_mb (${thresholdMb} MB); ` +
      `pausing ${MEMORY_GUARD_PAUSE_MS / 1000} s before starting it (lower parallel or batch_size_memory_mb if this repeats)`,
  );
  await (io.pause ?? ((ms, signal) => sleep(ms, undefined, { signal })))(MEMORY_GUARD_PAUSE_MS, io.signal);
  return true;
}
