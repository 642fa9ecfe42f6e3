import type { CommittedProgression, CursorStore, ProgressionBoundary, ProgressionRecord } from '../cursor-store.js';
import { NorNull, S, SorNull, numOrNull, str, strOrNull, type DynamoStateDb, type Item } from './dynamo-state-table.js';

/**
 * Cursors and progression on DynamoDB (key design: dynamo-state-table.ts): one item per
 * export in the `CURSOR` and `PROGRESSION` partitions, so listing them is one Query in
 * export-name (byte) order, like SQLite's.
 */

/** RFC 3339 with an explicit `+00:00` offset, the reference's spelling for state timestamps. */
function stateNow(): string {
  return new Date().toISOString().replace(/Z$/, '+00:00');
}

function boundary(i: Item, side: 'committed' | 'verified'): ProgressionBoundary | null {
  const strategy = strOrNull(i, `${side}Strategy`);
  const at = strOrNull(i, `${side}At`);
  // A boundary exists only when both its strategy and a parseable time are there (spec 05 §3.7).
  if (strategy === null || at === null || Number.isNaN(Date.parse(at))) return null;
  return {
    strategy,
    cursor: strOrNull(i, `${side}Cursor`),
    chunkIndex: numOrNull(i, `${side}ChunkIndex`),
    runId: strOrNull(i, `${side}RunId`),
    at,
  };
}

export function dynamoCursors(db: DynamoStateDb): CursorStore {
  const cursorKey = (exportName: string) => ({ pk: 'CURSOR', sk: exportName });
  const cursorItem = (exportName: string, value: string): Item => ({
    pk: S('CURSOR'), sk: S(exportName), cursor: S(value), lastRunAt: S(stateNow()),
  });

  /** One side of the progression item; the other side's attributes are left as they are. */
  const recordSide = async (side: 'committed' | 'verified', p: CommittedProgression) => {
    await db.update(
      { pk: 'PROGRESSION', sk: p.exportName },
      `SET #s = :s, #c = :c, #i = :i, #r = :r, #a = :a`,
      {
        names: { '#s': `${side}Strategy`, '#c': `${side}Cursor`, '#i': `${side}ChunkIndex`, '#r': `${side}RunId`, '#a': `${side}At` },
        values: { ':s': S(p.strategy), ':c': SorNull(p.cursor), ':i': NorNull(p.chunkIndex), ':r': S(p.runId), ':a': S(stateNow()) },
      },
    );
  };

  return {
    async getCursor(exportName) {
      const i = await db.get(cursorKey(exportName));
      return i ? strOrNull(i, 'cursor') : null;
    },
    async setCursor(exportName, value) {
      await db.put(cursorItem(exportName, value));
    },
    async advanceCursor(exportName, expected, next) {
      // A conditional put: DynamoDB evaluates the condition and writes atomically, so of two
      // advances from the same value exactly one succeeds.
      return db.put(
        cursorItem(exportName, next),
        expected === null ? { condition: 'attribute_not_exists(pk)' } : { condition: '#c = :expected', names: { '#c': 'cursor' }, values: { ':expected': S(expected) } },
      );
    },
    async resetCursor(exportName) {
      return (await db.del(cursorKey(exportName))) !== null;
    },
    async listCursors() {
      const items = await db.query('CURSOR');
      return items.map((i) => ({ exportName: str(i, 'sk'), cursor: strOrNull(i, 'cursor'), lastRunAt: strOrNull(i, 'lastRunAt') }));
    },
    recordCommittedProgression: (p) => recordSide('committed', p),
    recordVerifiedProgression: (p) => recordSide('verified', p),
    async listProgression(exportName) {
      const items = exportName ? [await db.get({ pk: 'PROGRESSION', sk: exportName })].filter((i): i is Item => i !== null) : await db.query('PROGRESSION');
      return items
        .map((i): ProgressionRecord => ({ exportName: str(i, 'sk'), committed: boundary(i, 'committed'), verified: boundary(i, 'verified') }))
        .filter((r) => r.committed !== null || r.verified !== null);
    },
  };
}
