import { z } from 'zod';

/**
 * The NDJSON events a `rivet run` child prints on stdout when `RIVET_IPC_EVENTS` is set
 * (one compact object per line, tag `type`). The same events drive the in-process cards of
 * `--parallel-exports`, so both parallel modes draw the same screen.
 * Order per export: started → progress_init → progress* → finished.
 */
export const StartedEventSchema = z.object({
  type: z.literal('started'),
  export_name: z.string(),
  run_id: z.string(),
  mode: z.string(),
  tuning_profile: z.string(),
  batch_size: z.number().int().nonnegative(),
});

/** Only exports split into several tasks (chunked) announce a total. */
export const ProgressInitEventSchema = z.object({
  type: z.literal('progress_init'),
  export_name: z.string(),
  total_chunks: z.number().int().nonnegative(),
});

/** After each completed chunk, and while rows stream; `rows` is cumulative. */
export const ProgressEventSchema = z.object({
  type: z.literal('progress'),
  export_name: z.string(),
  chunks_done: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
});

export const FinishedEventSchema = z.object({
  type: z.literal('finished'),
  export_name: z.string(),
  run_id: z.string(),
  status: z.string(),
  total_rows: z.number().int().nonnegative(),
  files_produced: z.number().int().nonnegative(),
  bytes_written: z.number().int().nonnegative(),
  duration_ms: z.number().int().nonnegative(),
  peak_rss_mb: z.number().int().nonnegative(),
  error_message: z.string().nullable(),
});

export const IpcEventSchema = z.discriminatedUnion('type', [StartedEventSchema, ProgressInitEventSchema, ProgressEventSchema, FinishedEventSchema]);
export type IpcEvent = z.infer<typeof IpcEventSchema>;
export type StartedEvent = z.infer<typeof StartedEventSchema>;
export type FinishedEvent = z.infer<typeof FinishedEventSchema>;

/** One line of a child's stdout: the event, or null for anything else (unparsable lines are ignored). */
export function parseIpcLine(line: string): IpcEvent | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  try {
    const parsed = IpcEventSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** `RIVET_IPC_EVENTS` non-empty: this process is a child of `--parallel-export-processes`. */
export function ipcEventsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.RIVET_IPC_EVENTS ?? '') !== '';
}
