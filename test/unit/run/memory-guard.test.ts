import { describe, expect, it } from 'vitest';
import { MEMORY_GUARD_PAUSE_MS, memoryGuard } from '../../../shared/run/memory-guard.js';

function io(rss: number) {
  const warnings: string[] = [];
  const pauses: number[] = [];
  return {
    warnings,
    pauses,
    io: { warn: (m: string) => warnings.push(m), rssMb: () => rss, pause: async (ms: number) => void pauses.push(ms) },
  };
}

describe('memoryGuard', () => {
  it('does nothing when the threshold is off or not reached', async () => {
    for (const [threshold, rss] of [[0, 9_999], [4096, 300], [300, 300]]) {
      const t = io(rss);
      expect(await memoryGuard(threshold, 'task 1', t.io)).toBe(false);
      expect(t.warnings).toEqual([]);
      expect(t.pauses).toEqual([]);
    }
  });

  it('warns with the figures and pauses once above the threshold', async () => {
    const t = io(612.4);
    expect(await memoryGuard(512, "export 'orders' task 3", t.io)).toBe(true);
    expect(t.pauses).toEqual([MEMORY_GUARD_PAUSE_MS]);
    expect(t.warnings).toHaveLength(1);
    expect(t.warnings[0]).toContain("export 'orders' task 3: process RSS 612 MB is above tuning.memory_threshold_mb (512 MB)");
  });
});
