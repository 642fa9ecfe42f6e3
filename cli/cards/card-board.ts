import { formatBytes, formatClock, formatDuration, formatRate, thousands } from '../format-helpers.js';
import type { IpcEvent } from './ipc-events.js';

/**
 * One card (one line) per export, on stderr. On a terminal every card is repainted in place
 * every 200 ms (cursor up, clear line): a running card shows a bar, chunks, rows, rate,
 * elapsed time and ETA; a finished card shows the export's final metrics instead. Elsewhere
 * (CI logs, pipes) nothing is repainted: a plain line when an export starts and its final
 * card when it ends — never an escape sequence in a log file.
 */
export interface CardBoard {
  /** Apply one event of the protocol (from a child's stdout or the in-process tracker). */
  handle(event: IpcEvent): void;
  /** A failure the export could not report itself (a child that died before `finished`). */
  fail(exportName: string, message: string): void;
  /** A log line printed above the cards, so it does not tear them. */
  note(line: string): void;
  /** Stop repainting and leave the final state on screen. */
  close(): void;
}

type Phase = 'waiting' | 'running' | 'success' | 'failed' | 'synthetic' | 'other';

interface Card {
  name: string;
  mode: string;
  phase: Phase;
  startedAt: number;
  totalChunks: number | null;
  chunksDone: number;
  rows: number;
  final: string;
}

const ICONS: Record<Phase, string> = { waiting: '•', running: '▸', success: '✓', failed: '✗', synthetic: '⚠', other: '•' };
const BAR_WIDTH = 16;

export function createCardBoard(
  exports: { name: string; mode: string }[],
  stream: NodeJS.WriteStream = process.stderr,
  interactive = stream.isTTY === true,
): CardBoard {
  const cards = new Map<string, Card>();
  for (const e of exports) cards.set(e.name, { name: e.name, mode: e.mode, phase: 'waiting', startedAt: Date.now(), totalChunks: null, chunksDone: 0, rows: 0, final: '' });
  const nameCol = Math.max(12, ...exports.map((e) => e.name.length));
  const modeCol = Math.max(7, ...exports.map((e) => e.mode.length));
  let drawn = 0;
  let closed = false;

  const width = () => {
    if (!interactive) return 80;
    const cols = stream.columns ?? 80;
    // Never let a card wrap: a wrapped line would throw the cursor-up arithmetic off.
    return Math.min(Math.max(60, Math.min(100, cols)), cols - 1);
  };

  const line = (c: Card) => {
    const head = `${ICONS[c.phase]} ${c.name.padEnd(nameCol)}  ${c.mode.padEnd(modeCol)}  `;
    const w = width();
    let text = head + body(c, true);
    // In a narrow terminal the bar goes first, so the ETA stays readable.
    if (text.length > w) text = head + body(c, false);
    return text.length > w ? text.slice(0, w - 1) + '…' : text;
  };

  const redraw = () => {
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const c of cards.values()) out += `\r\x1b[2K${line(c)}\n`;
    stream.write(out);
    drawn = cards.size;
  };

  const timer = interactive ? setInterval(redraw, 200) : null;
  timer?.unref();
  if (interactive) redraw();

  const settle = (c: Card, phase: Phase, final: string) => {
    if (isDone(c.phase)) return;
    c.phase = phase;
    c.final = final;
    if (interactive) redraw();
    else stream.write(line(c) + '\n');
  };

  return {
    handle(event) {
      const c = cards.get(event.export_name);
      if (!c || closed) return;
      switch (event.type) {
        case 'started':
          if (c.phase !== 'waiting') return;
          c.phase = 'running';
          c.mode = event.mode || c.mode;
          c.startedAt = Date.now();
          if (!interactive) stream.write(`rivet: ${c.name} (${c.mode}) started\n`);
          break;
        case 'progress_init':
          c.totalChunks = event.total_chunks;
          break;
        case 'progress':
          c.chunksDone = event.chunks_done;
          c.rows = event.rows;
          break;
        case 'finished': {
          const phase: Phase = event.status === 'success' ? 'success' : event.status === 'failed' ? 'failed' : 'other';
          const final =
            phase === 'failed'
              ? stripRecoveryHint(event.error_message ?? 'failed')
              : `${thousands(event.total_rows)} rows  ${event.files_produced} ${event.files_produced === 1 ? 'file' : 'files'}  ${formatBytes(event.bytes_written)}  ${formatDuration(event.duration_ms)}` +
                (event.peak_rss_mb > 0 ? `  RSS ${event.peak_rss_mb} MB` : '') +
                (phase === 'other' ? `  (${event.status})` : '');
          settle(c, phase, final);
          break;
        }
      }
    },
    fail(name, message) {
      const c = cards.get(name);
      if (c && !closed) settle(c, 'synthetic', message);
    },
    note(text) {
      if (!interactive || closed) {
        stream.write(text + '\n');
        return;
      }
      // Write over the top card, then draw the whole stack again below the note.
      stream.write((drawn > 0 ? `\x1b[${drawn}A` : '') + text.split('\n').map((l) => `\r\x1b[2K${l}\n`).join(''));
      drawn = 0;
      redraw();
    },
    close() {
      if (closed) return;
      if (timer) clearInterval(timer);
      if (interactive) redraw();
      closed = true;
    },
  };
}

function isDone(p: Phase): boolean {
  return p === 'success' || p === 'failed' || p === 'synthetic' || p === 'other';
}

function body(c: Card, withBar: boolean): string {
  if (isDone(c.phase)) return c.final;
  if (c.phase === 'waiting') return 'waiting';
  const elapsed = Date.now() - c.startedAt;
  const rate = elapsed >= 500 && c.rows > 0 ? `  ${formatRate((c.rows * 1000) / elapsed)}` : '';
  const rows = `${fmtRows(c.rows)}${rate}`;
  if (c.totalChunks === null) return `${c.rows > 0 ? 'streaming' : 'preparing…'}   ${rows}   ${formatClock(elapsed)}`;
  return `${withBar ? bar(c.chunksDone, c.totalChunks) + ' ' : ''}${c.chunksDone}/${c.totalChunks} chunks   ${rows}   ${formatClock(elapsed)}  ETA ${eta(elapsed, c.chunksDone, c.totalChunks)}`;
}

/** `[=======>--------]`: done part, head, rest. */
export function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR_WIDTH, Math.floor((done / total) * BAR_WIDTH)) : 0;
  if (filled >= BAR_WIDTH) return `[${'='.repeat(BAR_WIDTH)}]`;
  return `[${'='.repeat(filled)}>${'-'.repeat(BAR_WIDTH - filled - 1)}]`;
}

/** Remaining time extrapolated from the chunks done so far; unknown before the first one. */
export function eta(elapsedMs: number, done: number, total: number): string {
  if (done >= total) return '0s';
  if (done === 0) return '—';
  const s = Math.round((elapsedMs * (total / done) - elapsedMs) / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

export function fmtRows(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M rows`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}K rows`;
  return `${n} rows`;
}

/** A card has one line: a trailing `; … \`rivet …\`` recovery hint belongs to the summary, not the card. */
export function stripRecoveryHint(message: string): string {
  const oneLine = message.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
  const cut = oneLine.search(/; [^;]*`rivet [^`]*`[^;]*$/);
  return cut > 0 ? oneLine.slice(0, cut) : oneLine;
}
