import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { countWithDuckDB } from '../helpers/readers.js';
import { BIN, cardsConfig, cardsEnv, cardsSchema } from './cards-fixture.js';

/**
 * The cards UI in a real terminal: tmux runs the built CLI in a 100×40 pane, and the test
 * reads the pane the way a person sees it (`capture-pane -p` renders the screen, so a
 * cursor-movement bug shows up as duplicated or torn cards, and a stray escape sequence
 * as visible garbage).
 */
const SOCKET = `rivet-cards-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const CARD = /^([✓✗⚠▸•]) (customers|orders|events)\b/;
const cardLines = (pane: string) => pane.split('\n').filter((l) => CARD.test(l));

async function waitForPane(session: string, until: (pane: string) => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let pane = '';
  while (Date.now() < deadline) {
    pane = tmux('capture-pane', '-p', '-t', session);
    if (until(pane)) return pane;
    await sleep(100);
  }
  throw new Error(`timed out waiting for the pane; last capture:\n${pane}`);
}

let schema: string;
beforeAll(async () => {
  schema = await cardsSchema('e2e_cards_tmux');
});

// In-process, log lines (RIVET_LOG=info here) share the screen with the cards: they must be
// printed above the stack, never through it. Children's logs are held back instead.
describe.each([
  ['--parallel-export-processes', 'parallel-processes', 'warn'],
  ['--parallel-exports', 'parallel-threads', 'info'],
])('rivet run %s in a real terminal (tmux)', (flag, mode, logLevel) => {
  it('draws one live card per export with a bar, then the final metrics in place, and one summary', async () => {
    const { dir, out } = await cardsConfig(schema);
    const session = `cards-${mode}`;
    const env = Object.entries({ ...cardsEnv(), RIVET_LOG: logLevel }).map(([k, v]) => `${k}=${shq(v ?? '')}`).join(' ');
    const command = `cd ${shq(dir)} && env ${env} ${shq(process.execPath)} ${shq(BIN)} run -c rivet.yaml ${flag}; echo "EXIT=$?"; sleep 600`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '40', command);
    try {
      // While `orders` runs: its card has a bar, a chunk count and an ETA; every export has exactly one card.
      const live = await waitForPane(session, (p) => /▸ orders\s+chunked\s+\[[=>-]{16}\] [1-5]\/6 chunks .*ETA \S+/.test(p), 30_000);
      expect(cardLines(live).map((l) => CARD.exec(l)![2]).sort()).toEqual(['customers', 'events', 'orders']);
      expect(live).toMatch(/▸ orders\s+chunked\s+\[=*>-*\] \d\/6 chunks\s+\d+(K)? rows.*\d\d:\d\d:\d\d {2}ETA (\d+s|\d+m \d\ds)/);
      expect(live).not.toMatch(/Run summary/);

      const final = await waitForPane(session, (p) => /EXIT=\d+/.test(p), 60_000);
      expect(final).toMatch(/EXIT=0/);
      const cards = cardLines(final);
      // The stack was repainted in place: still exactly three cards, each replaced by its metrics.
      expect(cards).toHaveLength(3);
      expect(cards[0]).toMatch(/^✓ customers\s+full\s+500 rows {2}1 file {2}\d+(\.\d)? (B|KB) {2}\d+(ms|\.\ds)/);
      expect(cards[1]).toMatch(/^✓ orders\s+chunked\s+3,000 rows {2}6 files {2}\d+\.\d KB {2}\d+\.\ds/);
      expect(cards[2]).toMatch(/^✓ events\s+full\s+1,200 rows {2}1 file {2}/);
      expect(final).not.toMatch(/▸|waiting|preparing|ETA/);
      if (logLevel === 'info') {
        const lines = final.split('\n');
        const infos = lines.map((l, i) => (/^\[\d{4}-\d\d-\d\dT[\d:]+Z INFO /.test(l) ? i : -1)).filter((i) => i >= 0);
        expect(infos.length).toBeGreaterThan(0);
        expect(Math.max(...infos)).toBeLessThan(lines.findIndex((l) => CARD.test(l)));
      }
      expect(final.indexOf('Run summary')).toBeGreaterThan(final.indexOf('✓ events'));
      expect(final.match(/Run summary/g)).toHaveLength(1);
      expect(final).toMatch(/Run summary — 3 exports/);
      expect(final).toMatch(/status: +3 success · 0 failed/);
      expect(final).toMatch(/rows: +4700\n/);
      expect(final).toMatch(new RegExp(`mode: +${mode}`));
      // Nothing undrawn: no raw escape sequences or their visible leftovers.
      expect(final.includes('\x1b')).toBe(false);
      expect(final).not.toMatch(/\[\d*[AK]|\[\?25/);

      expect(await countWithDuckDB(`${out('orders')}/*.parquet`)).toBe(3000);
      expect(await countWithDuckDB(`${out('customers')}/*.parquet`)).toBe(500);
      expect((await readdir(out('events'))).some((f) => f.endsWith('.csv'))).toBe(true);
    } finally {
      tmux('kill-session', '-t', session);
    }
  }, 120_000);
});
