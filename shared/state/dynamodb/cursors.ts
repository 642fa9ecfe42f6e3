import type { CommittedProgression, CursorStore, ProgressionBoundary, ProgressionRecord } from '../cursor-store.js';
import { randomBytes } from 'node:crypto';
import { N, NorNull, S, SorNull, num, numOrNull, pad, str, strOrNull, type DynamoStateDb, type Expr, type Item } from './dynamo-state-table.js';

/**
 * Cursors and progression on DynamoDB (key design: dynamo-state-table.ts): one item per
 * export in the `CURSOR` and `PROGRESSION` partitions, so listing them is one Query in
 * export-name (byte) order, like SQLite's.
 */

/**
 * A boundary's identities can outgrow one item (400 KB): they are split into items
 * `BOUNDARY#<export>` / `PART#<gen>#<n>` written first, and the cursor item, which names the
 * generation, is switched to them in one conditional write. Parts of a generation that lost
 * (or was replaced) are deleted afterwards; until then nothing points at them.
 */
const BOUNDARY_PART_BYTES = 350_000;

/** RFC 3339 with an explicit `+00:00` offset, the reference's spelling for state timestamps. */
function stateNow(): string {
  return new Date().toISOString().replace(/Z$/, '+00:00');
}

function boundary(i: Item, side: 'committed' | 'verified'): ProgressionBoundary | null {
  const strategy = strOrNull(i, `${side}Strategy`);
  const at = strOrNull(i, `${side}At`);
  // A boundary exists only when both its strategy and a parseable time are there (docs/reference/state.md).
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

  const dropBoundaryParts = async (exportName: string, gen: string) => {
    const pk = `BOUNDARY#${exportName}`;
    const parts = await db.query(pk, { prefix: `PART#${gen}#` });
    await db.batchWrite(parts.map((p) => ({ delete: { pk, sk: str(p, 'sk') } })));
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
      const old = await db.del(cursorKey(exportName));
      if (old && strOrNull(old, 'boundaryGen') !== null) await dropBoundaryParts(exportName, str(old, 'boundaryGen'));
      return old !== null;
    },
    async getBoundary(exportName) {
      const i = await db.get(cursorKey(exportName));
      const gen = i ? strOrNull(i, 'boundaryGen') : null;
      if (!i || gen === null) return null;
      const parts = await db.query(`BOUNDARY#${exportName}`, { prefix: `PART#${gen}#` });
      if (parts.length !== num(i, 'boundaryParts')) return null;
      return {
        cursor: str(i, 'boundaryCursor'),
        since: str(i, 'boundarySince'),
        identity: str(i, 'boundaryIdentity'),
        ids: new Uint8Array(Buffer.concat(parts.map((p) => p.data?.B ?? new Uint8Array()))),
        runId: str(i, 'boundaryRunId'),
      };
    },
    async commitBoundary(exportName, expected, next) {
      const gen = `${pad(Date.now(), 14)}-${randomBytes(4).toString('hex')}`;
      const partCount = Math.max(1, Math.ceil(next.ids.length / BOUNDARY_PART_BYTES));
      const pk = `BOUNDARY#${exportName}`;
      await db.batchWrite(
        Array.from({ length: partCount }, (_, n) => ({
          put: { pk: S(pk), sk: S(`PART#${gen}#${pad(n, 6)}`), data: { B: next.ids.subarray(n * BOUNDARY_PART_BYTES, (n + 1) * BOUNDARY_PART_BYTES) } },
        })),
      );
      const old = await db.get(cursorKey(exportName));
      const expr: Expr = {
        condition: [
          expected.cursor === null ? 'attribute_not_exists(#c)' : '#c = :c',
          expected.runId === null ? 'attribute_not_exists(#r)' : '#r = :r',
        ].join(' AND '),
        names: { '#c': 'cursor', '#r': 'boundaryRunId' },
        values: { ...(expected.cursor === null ? {} : { ':c': S(expected.cursor) }), ...(expected.runId === null ? {} : { ':r': S(expected.runId) }) },
      };
      const item: Item = {
        ...cursorItem(exportName, next.cursor),
        boundaryCursor: S(next.cursor), boundarySince: S(next.since), boundaryIdentity: S(next.identity), boundaryRunId: S(next.runId),
        boundaryGen: S(gen), boundaryParts: N(partCount),
      };
      const switched = await db.put(item, expr);
      const stale = switched ? (old ? strOrNull(old, 'boundaryGen') : null) : gen;
      if (stale !== null) await dropBoundaryParts(exportName, stale);
      return switched;
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
