import type { Logger } from '../log/logger.js';
import type { Source } from '../source/source.js';
import type { ResolvedExport, RunDeps } from './run-deps.js';

/**
 * Adaptive parallelism for a chunked export (`adaptive: true`, `parallel` > 1; docs/modes.md): a
 * separate monitoring connection samples the source's pressure counter every interval
 * (`RIVET_GOVERNOR_INTERVAL_MS`, default 1500 ms). Pressure rising, or the process's memory
 * above `memory_threshold_mb`, takes one permit away (never below `min_parallel`); a quiet
 * interval gives one back (never above `parallel`). An unreadable sample changes nothing; a
 * monitoring connection that fails leaves the parallelism static, with a WARN. Each change is
 * logged with its reason. Tasks already running finish; only new ones wait for a permit.
 */
export interface GovernorOptions {
  exportName: string;
  parallel: number;
  minParallel: number;
  intervalMs: number;
  /** RSS ceiling in MiB (`memory_threshold_mb`); 0 = memory does not count. */
  memoryThresholdMb: number;
  log: Logger;
  openMonitor: () => Promise<Source>;
  rssMb?: () => number;
}

export const DEFAULT_GOVERNOR_INTERVAL_MS = 1500;

export class ConcurrencyGovernor {
  private permits: number;
  private running = 0;
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private monitor: Source | null = null;
  private last: number | null = null;
  private sampling = false;
  private stopped = false;
  /** Every change, in order: `{from, to, reason}` (tests and summaries read it). */
  readonly adjustments: { from: number; to: number; reason: string }[] = [];

  constructor(private readonly o: GovernorOptions) {
    this.permits = o.parallel;
  }

  /** The governor for `exp`, or null when its parallelism is static. */
  static forExport(exp: ResolvedExport, parallel: number, log: Logger, openMonitor: () => Promise<Source>): ConcurrencyGovernor | null {
    if (!exp.tuning.adaptive || parallel <= 1) return null;
    const env = Number(process.env.RIVET_GOVERNOR_INTERVAL_MS);
    return new ConcurrencyGovernor({
      exportName: exp.name,
      parallel,
      minParallel: Math.min(parallel, Math.max(1, exp.tuning.minParallel ?? 1)),
      intervalMs: Number.isFinite(env) && env > 0 ? env : DEFAULT_GOVERNOR_INTERVAL_MS,
      memoryThresholdMb: exp.tuning.memoryThresholdMb ?? 0,
      log,
      openMonitor,
    });
  }

  get parallelism(): number {
    return this.permits;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const w of this.waiters.splice(0)) w();
    const m = this.monitor;
    this.monitor = null;
    await m?.close().catch(() => {});
  }

  /** Wait for a permit. */
  async acquire(): Promise<void> {
    while (!this.stopped && this.running >= this.permits) await new Promise<void>((res) => this.waiters.push(res));
    this.running++;
  }

  release(): void {
    this.running--;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async tick(): Promise<void> {
    if (this.sampling || this.stopped) return;
    this.sampling = true;
    try {
      const rss = (this.o.rssMb ?? (() => process.memoryUsage().rss / (1024 * 1024)))();
      const overMemory = this.o.memoryThresholdMb > 0 && rss > this.o.memoryThresholdMb;
      const now = await this.sample();
      const rose = now !== null && this.last !== null && now > this.last;
      if (now !== null) this.last = now;
      if (overMemory) this.adjust(-1, `memory ${Math.round(rss)} MB is over memory_threshold_mb ${this.o.memoryThresholdMb}, backing off`);
      else if (rose) this.adjust(-1, 'source pressure rose, backing off');
      else if (now !== null && this.last !== null) this.adjust(+1, 'source pressure eased, recovering');
    } finally {
      this.sampling = false;
    }
  }

  private async sample(): Promise<number | null> {
    try {
      this.monitor ??= await this.o.openMonitor();
      return (await this.monitor.pressure?.()) ?? null;
    } catch (e) {
      this.o.log.warn(`export '${this.o.exportName}': adaptive parallelism cannot watch the source (${(e as Error).message}); parallelism stays at ${this.permits}`);
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return null;
    }
  }

  private adjust(delta: number, reason: string): void {
    const from = this.permits;
    const to = Math.min(this.o.parallel, Math.max(this.o.minParallel, from + delta));
    if (to === from) return;
    this.permits = to;
    this.adjustments.push({ from, to, reason });
    this.o.log.info(`export '${this.o.exportName}': parallelism ${from} → ${to}: ${reason}`);
    this.wake();
  }
}

/** Run `work` over `items` with at most `size` at once, or as many as `governor` permits. */
export async function governedPool<T>(items: T[], size: number, governor: ConcurrencyGovernor | null, work: (item: T) => Promise<void>): Promise<void> {
  if (!governor) {
    let next = 0;
    const lanes = Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    });
    await Promise.all(lanes);
    return;
  }
  governor.start();
  try {
    const running: Promise<void>[] = [];
    for (const item of items) {
      await governor.acquire();
      running.push(work(item).finally(() => governor.release()));
    }
    await Promise.all(running);
  } finally {
    await governor.stop();
  }
}

/** `adaptive: true` on a parallel export: a governor over its pool of tasks, else null. */
export async function governorFor(deps: RunDeps, exportName: string, params: Record<string, string>, parallel: number): Promise<ConcurrencyGovernor | null> {
  if (parallel <= 1) return null;
  const exp = await deps.resolveExport(exportName, params).catch(() => null);
  if (!exp) return null;
  return ConcurrencyGovernor.forExport(exp, parallel, deps.log, () => deps.openSource({ connection: exp.connection, columnOverrides: exp.columnOverrides, log: deps.log }));
}
