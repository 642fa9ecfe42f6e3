import { redact } from './redact.js';

/**
 * Leveled logging to stderr. The default level is `warn`, like the reference; `RIVET_LOG`
 * (or `RUST_LOG`, for compatibility) selects another. Every line is redacted.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** Warn only the first time this key is seen in the process. */
  warnOnce(key: string, msg: string): void;
}

export type LogSink = (line: string) => void;

/** A level name as written in `RIVET_LOG`; anything else is `fallback`. */
export function parseLogLevel(raw: string | undefined, fallback: LogLevel): LogLevel {
  const t = (raw ?? '').toLowerCase().trim();
  return t in ORDER ? (t as LogLevel) : fallback;
}

function levelFromEnv(): LogLevel {
  return parseLogLevel(process.env.RIVET_LOG ?? process.env.RUST_LOG, 'warn');
}

/**
 * A Logger over one line writer: drops what is below `level` and keeps `warnOnce` keys.
 * The writer formats the line (text here, JSON for Lambda) and must redact it.
 */
export function leveledLogger(level: LogLevel, write: (lvl: LogLevel, msg: string) => void): Logger {
  const once = new Set<string>();
  const emit = (lvl: LogLevel, msg: string) => {
    if (ORDER[lvl] <= ORDER[level]) write(lvl, msg);
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

export function createLogger(options: { level?: LogLevel; sink?: LogSink; scope?: string } = {}): Logger {
  const level = options.level ?? levelFromEnv();
  const sink: LogSink = options.sink ?? ((line) => process.stderr.write(line + '\n'));
  const scope = options.scope ?? 'rivet';
  return leveledLogger(level, (lvl, msg) => {
    const ts = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    sink(redact(`[${ts} ${lvl.toUpperCase()} ${scope}] ${msg}`));
  });
}

/** A logger that drops everything (tests, quiet helpers). */
export const silentLogger: Logger = createLogger({ sink: () => {} });
