/**
 * Peak resident memory of this process, sampled every 100 ms while a run is in progress
 * (the reference tool's `peak_rss_mb`). Cheap: one syscall per sample.
 */
let peak = 0;
let timer: NodeJS.Timeout | null = null;
let users = 0;

const sample = () => {
  const rss = process.memoryUsage.rss();
  if (rss > peak) peak = rss;
};

/** Start sampling; returns a function that stops this user's sampling. */
export function startRssSampler(): () => void {
  users += 1;
  sample();
  if (!timer) {
    timer = setInterval(sample, 100);
    timer.unref();
  }
  return () => {
    users -= 1;
    if (users === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** Highest RSS seen so far (MiB, rounded), including right now. */
export function peakRssMb(): number {
  sample();
  return Math.round(peak / 1048576);
}
