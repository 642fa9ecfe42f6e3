import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { BoundaryFilter, ID_BYTES, MAX_BOUNDARY_ROWS, identityLabel } from '../../../shared/run/cursor-boundary.js';
import type { CursorBoundary, CursorStore } from '../../../shared/state/cursor-store.js';
import { seededRandom } from '../../helpers/seeded-random.js';

/** A store that only answers getBoundary (the filter reads nothing else). */
const storeWith = (b: CursorBoundary | null) => ({ getBoundary: async () => b }) as unknown as CursorStore;

function batchOf(ids: number[], cursors: number[], flags: number[]): RecordBatch {
  return tableFromArrays({ id: BigInt64Array.from(ids.map(BigInt)), c: Int32Array.from(cursors), _rivet_boundary: Int32Array.from(flags) }).batches[0];
}

const idsOf = (batches: RecordBatch[]) => batches.flatMap((b) => Array.from({ length: b.numRows }, (_, i) => Number(b.getChild('id')!.get(i))));

describe('BoundaryFilter', () => {
  it('drops exactly the rows the stored multiset holds, keeps the rest in order, and strips the flag column (randomized)', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = seededRandom(seed);
      const n = 1 + Math.floor(rnd() * 60);
      // Keyless rows: duplicates (same id and cursor) are legitimate and must be counted, not merged.
      const ids = Array.from({ length: n }, () => Math.floor(rnd() * 8));
      const cursors = ids.map(() => 5);
      const identity = identityLabel(null);
      // Run 1 sees a random subset: its identities become the stored boundary.
      const seen = ids.map(() => rnd() < 0.5);
      const first = await BoundaryFilter.open('t', { baseRunId: null, from: null, identity }, ['c'], storeWith(null));
      const seenIdx = ids.map((_, i) => i).filter((i) => seen[i]);
      first.apply(batchOf(seenIdx.map((i) => ids[i]), seenIdx.map((i) => cursors[i]), seenIdx.map(() => 2)));
      const stored = { cursor: '5', since: '5', identity, ids: first.nextIds(), runId: 'r1' };
      expect(stored.ids.length).toBe(seenIdx.length * ID_BYTES);

      // Run 2 re-reads everything at the cursor: it must export exactly the rows run 1 did not see.
      const second = await BoundaryFilter.open('t', { baseRunId: 'r1', from: '5', identity }, ['c'], storeWith(stored));
      const out = second.apply(batchOf(ids, cursors, ids.map(() => 3)));
      expect(out.every((b) => b.schema.fields.map((f) => f.name).join() === 'id,c')).toBe(true);
      const expected = ids.filter((_, i) => !seen[i]);
      expect(idsOf(out).sort(), `seed ${seed}`).toEqual(expected.sort());
      // And it remembers every row at the boundary, seen before or now.
      expect(second.nextIds().length).toBe(n * ID_BYTES);
    }
  });

  it('refuses a stored boundary that changed after the plan', async () => {
    const stored = { cursor: '5', since: '5', identity: 'row', ids: new Uint8Array(), runId: 'r2' };
    await expect(BoundaryFilter.open('t', { baseRunId: 'r1', from: '5', identity: 'row' }, ['c'], storeWith(stored))).rejects.toMatchObject({ code: 'STATE' });
  });

  it(`fails once more than ${MAX_BOUNDARY_ROWS} rows lie at the boundary`, async () => {
    const f = await BoundaryFilter.open('t', { baseRunId: null, from: null, identity: 'key:["id"]' }, ['c'], storeWith(null));
    const n = MAX_BOUNDARY_ROWS + 1;
    const ids = Array.from({ length: n }, (_, i) => i);
    expect(() => f.apply(batchOf(ids, ids.map(() => 1), ids.map(() => 2)))).toThrow(expect.objectContaining({ code: 'EXPORT_FAILED', message: expect.stringMatching(/cursor did not move/) }));
  });
});
