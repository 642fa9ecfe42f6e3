import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger, LogLevel } from '../shared/log/logger.js';
import { redact } from '../shared/log/redact.js';

/** What every log line of one invocation carries (run id, chunk, request id). */
export type LogFields = Record<string, string | number | undefined>;

const fields = new AsyncLocalStorage<LogFields>();

/** Run `f` with these fields added to every line it logs (concurrent invocations in one process keep theirs apart). */
export function withLogFields<T>(extra: LogFields, f: () => Promise<T>): Promise<T> {
  return fields.run({ ...fields.getStore(), ...extra }, f);
}

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * One JSON object per line on stderr, for CloudWatch Logs Insights
 * (`filter runId = "…" and chunk = 3`). The whole line is redacted after serialisation, so
 * a secret cannot hide in a field either.
 */
export function createJsonLogger(options: { fn: string; level?: LogLevel; sink?: (line: string) => void }): Logger {
  const raw = (process.env.RIVET_LOG ?? 'info').toLowerCase().trim();
  const level: LogLevel = options.level ?? (raw in ORDER ? (raw as LogLevel) : 'info');
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const once = new Set<string>();
  const emit = (lvl: LogLevel, msg: string) => {
    if (ORDER[lvl] > ORDER[level]) return;
    sink(redact(JSON.stringify({ time: new Date().toISOString(), level: lvl, fn: options.fn, ...fields.getStore(), msg })));
  };
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
    warnOnce: (key, m) => {
      if (once.has(key)) return;
      once.add(key);
      emit('warn', m);
    },
  };
}
