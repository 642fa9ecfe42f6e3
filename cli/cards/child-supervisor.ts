import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseIpcLine, type FinishedEvent, type IpcEvent } from './ipc-events.js';

/**
 * `--parallel-export-processes`: one `rivet run --export NAME` child per export, all at
 * once. A child prints protocol events on stdout (`RIVET_IPC_EVENTS=1`); its stderr is held
 * back (up to MAX_STDERR_LINES) so it does not tear the live cards, and shown after the
 * summary. Children run in their own process group: a Ctrl-C in the terminal reaches only
 * the parent, which forwards exactly one SIGINT to each child — each then stops the way a
 * single `rivet run` does. A child still alive when the parent exits is killed.
 */
export interface ChildOutcome {
  exportName: string;
  finished: FinishedEvent | null;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the child could not be started at all. */
  spawnError?: string;
  stderr: string[];
  droppedStderrLines: number;
}

export interface SuperviseOptions {
  exportNames: string[];
  /** argv after the node executable for one export's child. */
  childArgs(exportName: string): string[];
  onEvent(event: IpcEvent): void;
  /** The child is gone; `outcome.finished` is null when it never reported. */
  onExit(outcome: ChildOutcome): void;
  interrupt: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

const MAX_STDERR_LINES = 5000;

export async function superviseChildren(options: SuperviseOptions): Promise<ChildOutcome[]> {
  const live = new Set<ChildProcess>();
  const killAll = () => {
    for (const c of live) c.kill('SIGKILL');
  };
  const forward = () => {
    for (const c of live) c.kill('SIGINT');
  };
  process.on('exit', killAll);
  options.interrupt.addEventListener('abort', forward);
  try {
    return await Promise.all(options.exportNames.map((name) => runChild(name, options, live)));
  } finally {
    options.interrupt.removeEventListener('abort', forward);
    process.off('exit', killAll);
  }
}

function runChild(exportName: string, options: SuperviseOptions, live: Set<ChildProcess>): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const outcome: ChildOutcome = { exportName, finished: null, exitCode: null, signal: null, stderr: [], droppedStderrLines: 0 };
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, options.childArgs(exportName), {
        env: { ...(options.env ?? process.env), RIVET_IPC_EVENTS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (e) {
      outcome.spawnError = (e as Error).message;
      options.onExit(outcome);
      resolve(outcome);
      return;
    }
    live.add(child);
    if (options.interrupt.aborted) child.kill('SIGINT');

    const stdoutDone = new Promise<void>((done) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const event = parseIpcLine(line);
        // A child reports only its own export; anything else on its stdout is not ours to draw.
        if (!event || event.export_name !== exportName) return;
        if (event.type === 'finished') outcome.finished = event;
        options.onEvent(event);
      });
      lines.on('close', done);
    });
    const stderrDone = new Promise<void>((done) => {
      const lines = createInterface({ input: child.stderr! });
      lines.on('line', (line) => {
        if (outcome.stderr.length < MAX_STDERR_LINES) outcome.stderr.push(line);
        else outcome.droppedStderrLines++;
      });
      lines.on('close', done);
    });

    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      live.delete(child);
      options.onExit(outcome);
      resolve(outcome);
    };
    child.on('error', (e) => {
      outcome.spawnError = e.message;
      finish();
    });
    child.on('exit', (code, signal) => {
      outcome.exitCode = code;
      outcome.signal = signal;
      void Promise.all([stdoutDone, stderrDone]).then(finish);
    });
  });
}

/** Why an export whose child did not end cleanly failed, in one line. */
export function childFailureMessage(o: ChildOutcome): string | null {
  if (o.spawnError) return `could not start the child process for export '${o.exportName}': ${o.spawnError}`;
  const how = o.signal ? `killed by ${o.signal}` : `exit status ${o.exitCode ?? '?'}`;
  if (!o.finished) return `the child process ended before reporting its final summary (${how})`;
  if (o.finished.status !== 'failed' && o.exitCode !== 0) return `the child process for export '${o.exportName}' failed (${how})`;
  return null;
}
