import type { RunResult } from '../../shared/run/run-plan.js';
import type { IpcEvent } from './ipc-events.js';

/** Where events go: stdout as NDJSON in a child, the card board in-process. */
export type EventSink = (event: IpcEvent) => void;

/** A sink writing one compact JSON object per line (the child side of the IPC protocol). */
export function ndjsonSink(stream: NodeJS.WritableStream): EventSink {
  return (event) => {
    stream.write(JSON.stringify(event) + '\n');
  };
}

export interface ExportStartInfo {
  mode: string;
  tuningProfile: string;
  batchSize: number;
}

/** The hooks of one export's local run (see LocalRunOptions.onPlanned / onTaskDone). */
export interface RunHooks {
  onPlanned(info: { runId: string; tasks: number }): void;
  onTaskDone(done: number): void;
}

interface Tracked {
  info: ExportStartInfo;
  started: boolean;
  chunked: boolean;
  chunksDone: number;
  rows: number;
  lastProgressAt: number;
}

/** Rows stream far more often than anyone can read; progress events are spaced by this much. */
const PROGRESS_EVERY_MS = 200;

/**
 * Turns the driver's callbacks (planned, rows streamed, task done, result) into the event
 * sequence of the protocol, once per export. Several exports may be tracked at once.
 */
export class ExportEventTracker {
  private readonly exports = new Map<string, Tracked>();

  constructor(private readonly sink: EventSink) {}

  begin(name: string, info: ExportStartInfo): RunHooks {
    const t: Tracked = { info, started: false, chunked: false, chunksDone: 0, rows: 0, lastProgressAt: 0 };
    this.exports.set(name, t);
    return {
      onPlanned: ({ runId, tasks }) => {
        this.started(name, t, runId);
        // A single task has no chunk count worth showing; several are chunks of a chunked run.
        if (tasks > 1 || info.mode === 'chunked') {
          t.chunked = true;
          this.sink({ type: 'progress_init', export_name: name, total_chunks: tasks });
        }
      },
      onTaskDone: (done) => {
        t.chunksDone = done;
        this.progress(name, t);
      },
    };
  }

  rows(name: string, delta: number): void {
    const t = this.exports.get(name);
    if (!t) return;
    t.rows += delta;
    if (Date.now() - t.lastProgressAt >= PROGRESS_EVERY_MS) this.progress(name, t);
  }

  finish(r: RunResult): void {
    const t = this.exports.get(r.exportName);
    if (t) this.started(r.exportName, t, r.runId);
    this.sink({
      type: 'finished',
      export_name: r.exportName,
      run_id: r.runId,
      status: r.status,
      total_rows: r.rows,
      files_produced: r.files,
      bytes_written: r.bytes,
      duration_ms: r.durationMs,
      peak_rss_mb: r.peakRssMb,
      error_message: r.error?.message ?? null,
    });
    this.exports.delete(r.exportName);
  }

  private started(name: string, t: Tracked, runId: string): void {
    if (t.started) return;
    t.started = true;
    this.sink({ type: 'started', export_name: name, run_id: runId, mode: t.info.mode, tuning_profile: t.info.tuningProfile, batch_size: t.info.batchSize });
  }

  private progress(name: string, t: Tracked): void {
    if (!t.started) return;
    t.lastProgressAt = Date.now();
    this.sink({ type: 'progress', export_name: name, chunks_done: t.chunksDone, rows: t.rows });
  }
}
