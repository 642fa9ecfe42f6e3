import { Utf8, Int32, vectorFromArray, makeData, RecordBatch, Schema, Field, Struct } from 'apache-arrow';
import { describe, expect, it, vi } from 'vitest';
import { BatchControls, arrowBytes } from '../../../shared/run/batch-controls.js';
import { ConcurrencyGovernor, governedPool } from '../../../shared/run/concurrency-governor.js';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import type { Logger } from '../../../shared/log/logger.js';
import type { Source } from '../../../shared/source/source.js';

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  return { lines, error: push, warn: push, info: push, debug: push, warnOnce: (_k, m) => push(m) };
}

/** `rows` rows of an int and a `width`-byte text. */
function batch(rows: number, width: number): RecordBatch {
  const id = vectorFromArray(Array.from({ length: rows }, (_, i) => i), new Int32());
  const text = vectorFromArray(Array.from({ length: rows }, () => 'x'.repeat(width)), new Utf8());
  const schema = new Schema([new Field('id', new Int32()), new Field('s', new Utf8())]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: [id.data[0], text.data[0]] }));
}

const MIB = 1024 * 1024;

describe('arrowBytes', () => {
  it('counts only the rows of a slice, offsets and values included', () => {
    const b = batch(1000, 1000);
    const whole = arrowBytes(b);
    expect(whole).toBe(1000 * 4 + 1001 * 4 + 1000 * 1000);
    expect(arrowBytes(b.slice(0, 500))).toBe(500 * 4 + 501 * 4 + 500 * 1000);
    expect(arrowBytes(b.slice(500))).toBe(500 * 4 + 501 * 4 + 500 * 1000);
  });
});

describe('BatchControls: max_batch_memory_mb', () => {
  const base = { label: "export 'e' task 0", batchSize: 5000, adaptive: false, openMonitor: () => Promise.reject(new Error('unused')) };

  it('warn: the batch as it is, one WARN with the size, the cap, the rows and a batch_size that fits', () => {
    const log = logger();
    const c = new BatchControls({ ...base, maxBatchMemoryMb: 1, onExceeded: 'warn', log });
    const b = batch(3000, 1000);
    expect(c.cap(b)).toEqual([b]);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/a batch of 3000 rows holds 2\.9 MB of Arrow memory, over max_batch_memory_mb 1 MB; a batch_size of about 10\d\d would fit/);
    expect(c.rowCeiling()).toBe(5000);
  });

  it('fail: BATCH_MEMORY_EXCEEDED (exit 1) with a hint naming batch_size and auto_shrink', () => {
    const c = new BatchControls({ ...base, maxBatchMemoryMb: 1, onExceeded: 'fail', log: logger() });
    let err: RivetError | null = null;
    try {
      c.cap(batch(3000, 1000));
    } catch (e) {
      err = e as RivetError;
    }
    expect(err?.code).toBe('BATCH_MEMORY_EXCEEDED');
    expect(err?.exitCode).toBe(1);
    expect(err?.hint).toMatch(/lower tuning\.batch_size to about \d+, or set tuning\.on_batch_memory_exceeded: auto_shrink/);
  });

  it('auto_shrink: halves until each piece fits, rows kept in order, and later batches capped', () => {
    const c = new BatchControls({ ...base, maxBatchMemoryMb: 1, onExceeded: 'auto_shrink', log: logger() });
    const pieces = c.cap(batch(3000, 1000));
    expect(pieces.length).toBe(4);
    expect(pieces.reduce((n, p) => n + p.numRows, 0)).toBe(3000);
    for (const p of pieces) expect(arrowBytes(p)).toBeLessThanOrEqual(MIB);
    expect(pieces.flatMap((p) => [p.getChildAt(0)!.get(0), p.getChildAt(0)!.get(p.numRows - 1)])).toEqual([0, 749, 750, 1499, 1500, 2249, 2250, 2999]);
    expect(c.rowCeiling()).toBeLessThan(1100);
    expect(c.rowCeiling()).toBeGreaterThan(900);
  });

  it('auto_shrink: a single row over the cap is written as it is, with a WARN', () => {
    const log = logger();
    const c = new BatchControls({ ...base, maxBatchMemoryMb: 1, onExceeded: 'auto_shrink', log });
    const pieces = c.cap(batch(2, 2 * MIB));
    expect(pieces.map((p) => p.numRows)).toEqual([1, 1]);
    expect(log.lines.filter((l) => l.includes('a single row holds'))).toHaveLength(2);
  });
});

describe('BatchControls: adaptive', () => {
  it('samples every 10 batches: a rise shrinks to 3/4 (floor 500), a quiet sample grows by 1/4 up to batch_size', async () => {
    const samples = [1, 2, 3, 3, 3, 3, 3, 3, 3, 3];
    const monitor = { pressure: vi.fn(async () => samples.shift() ?? 3), close: vi.fn(async () => {}) } as unknown as Source;
    const log = logger();
    const c = new BatchControls({ label: 't', batchSize: 1000, maxBatchMemoryMb: null, onExceeded: 'warn', adaptive: true, log, openMonitor: async () => monitor });
    const ceilings: number[] = [];
    for (let i = 0; i < 100; i++) {
      await c.afterBatch();
      if ((i + 1) % 10 === 0) ceilings.push(c.rowCeiling());
    }
    expect(ceilings).toEqual([1000, 750, 562, 702, 877, 1000, 1000, 1000, 1000, 1000]);
    expect(log.lines[0]).toBe('t: adaptive batch size 1000 → 750 rows: source pressure rose, backing off');
    await c.close();
    expect(monitor.close).toHaveBeenCalled();
  });
});

describe('ConcurrencyGovernor', () => {
  it('takes a permit away while the pressure rises, never below min_parallel, gives them back when it eases', async () => {
    vi.useFakeTimers();
    try {
      const samples = [10, 11, 12, 13, 14, 14, 14];
      const monitor = { pressure: async () => samples.shift() ?? 14, close: async () => {} } as unknown as Source;
      const log = logger();
      const g = new ConcurrencyGovernor({ exportName: 'e', parallel: 4, minParallel: 2, intervalMs: 100, memoryThresholdMb: 0, log, openMonitor: async () => monitor, rssMb: () => 10 });
      g.start();
      const seen: number[] = [];
      for (let i = 0; i < 7; i++) {
        await vi.advanceTimersByTimeAsync(100);
        seen.push(g.parallelism);
      }
      await g.stop();
      expect(seen).toEqual([4, 3, 2, 2, 2, 3, 4]);
      expect(g.adjustments.map((a) => `${a.from}→${a.to}`)).toEqual(['4→3', '3→2', '2→3', '3→4']);
      expect(log.lines[0]).toBe("export 'e': parallelism 4 → 3: source pressure rose, backing off");
    } finally {
      vi.useRealTimers();
    }
  });

  it('backs off on memory over memory_threshold_mb even when the counter is quiet; the pool never runs more than the permits', async () => {
    vi.useFakeTimers();
    try {
      const monitor = { pressure: async () => 5, close: async () => {} } as unknown as Source;
      const g = new ConcurrencyGovernor({ exportName: 'e', parallel: 3, minParallel: 1, intervalMs: 50, memoryThresholdMb: 100, log: logger(), openMonitor: async () => monitor, rssMb: () => 500 });
      let running = 0;
      let most = 0;
      const work = async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 200));
        running--;
      };
      const pool = governedPool(Array.from({ length: 12 }, (_, i) => i), 3, g, work);
      await vi.advanceTimersByTimeAsync(5000);
      await pool;
      expect(g.adjustments.map((a) => a.reason)).toEqual([expect.stringContaining('memory 500 MB is over memory_threshold_mb 100'), expect.stringContaining('memory')]);
      expect(g.parallelism).toBe(1);
      expect(most).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
