import { AsyncLocalStorage } from 'node:async_hooks';
import { leveledLogger, parseLogLevel, type Logger, type LogLevel } from '../shared/log/logger.js';
import { redact } from '../shared/log/redact.js';

/** What every log line of one invocation carries (run id, chunk, request id). */
export type LogFields = Record<string, string | number | undefined>;

const fields = new AsyncLocalStorage<LogFields>();

/** Run `f` with these fields added to every line it logs (concurrent invocations in one process keep theirs apart). */
export function withLogFields<T>(extra: LogFields, f: () => Promise<T>): Promise<T> {
  return fields.run({ ...fields.getStore(), ...extra }, f);
}

/**
 * One JSON object per line on stderr, for CloudWatch Logs Insights
 * (`filter runId = "…" and chunk = 3`). The whole line is redacted after serialisation, so
 * a secret cannot hide in a field either.
 */
export function createJsonLogger(options: { fn: string; level?: LogLevel; sink?: (line: string) => void }): Logger {
  const level = options.level ?? parseLogLevel(process.env.RIVET_LOG, 'info');
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  return leveledLogger(level, (lvl, msg) =>
    sink(redact(JSON.stringify({ time: new Date().toISOString(), level: lvl, fn: options.fn, ...fields.getStore(), msg }))),
  );
}
