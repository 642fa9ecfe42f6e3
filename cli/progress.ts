import { formatClock, formatRate, thousands } from './format-helpers.js';

/**
 * Live progress on stderr. On a terminal one line per export is redrawn in place every
 * 200 ms (rows, rate, elapsed); elsewhere (CI logs, pipes) a plain line is printed at
 * start, every 10 s while rows flow, and at the end — never escape codes in a log file.
 */
export interface ProgressReporter {
  start(exportName: string, mode: string): void;
  rows(exportName: string, delta: number): void;
  finish(exportName: string, ok: boolean, detail: string): void;
  close(): void;
}

interface Line {
  name: string;
  mode: string;
  rows: number;
  startedAt: number;
  lastPlain: number;
  done?: { ok: boolean; detail: string };
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, interactive = stream.isTTY === true): ProgressReporter {
  const lines = new Map<string, Line>();
  let drawn = 0;
  let timer: NodeJS.Timeout | null = null;
  const width = () => Math.max(60, Math.min(100, stream.columns ?? 80));

  const render = (l: Line) => {
    const elapsed = Date.now() - l.startedAt;
    const icon = l.done ? (l.done.ok ? '✓' : '✗') : '▸';
    const rate = elapsed >= 500 && l.rows > 0 ? `  ${formatRate((l.rows * 1000) / elapsed)}` : '';
    const body = l.done ? l.done.detail : `${thousands(l.rows)} rows${rate}   ${formatClock(elapsed)}`;
    const text = `${icon} ${l.name.padEnd(12)}  ${l.mode.padEnd(7)}  ${body}`;
    return text.length > width() ? text.slice(0, width() - 1) + '…' : text;
  };

  const redraw = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A`);
    for (const l of lines.values()) stream.write(`\x1b[2K${render(l)}\n`);
    drawn = lines.size;
  };

  return {
    start(name, mode) {
      const l: Line = { name, mode, rows: 0, startedAt: Date.now(), lastPlain: Date.now() };
      lines.set(name, l);
      if (interactive) {
        timer ??= setInterval(redraw, 200);
        timer.unref();
        redraw();
      } else {
        stream.write(`rivet: ${name} (${mode}) started\n`);
      }
    },
    rows(name, delta) {
      const l = lines.get(name);
      if (!l) return;
      l.rows += delta;
      if (!interactive && Date.now() - l.lastPlain >= 10_000) {
        l.lastPlain = Date.now();
        stream.write(`rivet: ${name}: ${thousands(l.rows)} rows, ${formatClock(Date.now() - l.startedAt)} elapsed\n`);
      }
    },
    finish(name, ok, detail) {
      const l = lines.get(name);
      if (!l) return;
      l.done = { ok, detail };
      if (interactive) redraw();
      else stream.write(`${render(l)}\n`);
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      if (interactive && lines.size) redraw();
    },
  };
}
