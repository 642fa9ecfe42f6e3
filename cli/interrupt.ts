/**
 * Ctrl-C. The first SIGINT asks the running export to stop: workers abort their reads,
 * open parts are dropped, and the run is recorded as interrupted (the previous dataset and
 * its `_SUCCESS` stay current). A second SIGINT exits at once (cli/main.ts).
 */
const controller = new AbortController();

export const interruptSignal: AbortSignal = controller.signal;

/** Returns true the first time (a graceful stop begins), false afterwards. */
export function requestInterrupt(): boolean {
  if (controller.signal.aborted) return false;
  controller.abort();
  return true;
}

export const EXIT_INTERRUPTED = 130;
