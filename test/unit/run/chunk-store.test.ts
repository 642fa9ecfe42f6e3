import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStateStore } from '../../../shared/state/sqlite-state-store.js';

describe('SQLite chunk checkpoints (migration v3)', () => {
  it('tracks pending → running → completed | failed, resets, and deletes per export', async () => {
    const store = openSqliteStateStore(join(mkdtempSync(join(tmpdir(), 'rivet-chunks-')), 'state.db'));
    try {
      await store.createChunkRun({ runId: 'r1', exportName: 'e', planHash: 'abcd', maxChunkAttempts: 3, prefix: '/out', chunks: [{ startKey: '1', endKey: '10' }, { startKey: 'NULL', endKey: 'NULL' }] });
      expect((await store.inProgressChunkRun('e'))?.runId).toBe('r1');
      expect(await store.inProgressChunkExports()).toEqual(['e']);
      expect(await store.startChunkTask('r1', 0)).toBe(1);
      await store.failChunkTask('r1', 0, 'boom');
      expect(await store.startChunkTask('r1', 0)).toBe(2);
      await store.completeChunkTask('r1', 0, { rows: 10, fileName: 'part-000001.parquet' });
      await store.startChunkTask('r1', 1);
      expect(await store.resetRunningChunkTasks('r1')).toBe(1);
      const tasks = await store.chunkTasks('r1');
      expect(tasks.map((t) => [t.status, t.attempts, t.rowsWritten, t.fileName, t.lastError])).toEqual([
        ['completed', 2, 10, 'part-000001.parquet', null],
        ['pending', 1, null, null, null],
      ]);
      await store.resetChunkTask('r1', 0, 'M8 reset: gone');
      expect((await store.chunkTasks('r1'))[0]).toMatchObject({ status: 'pending', fileName: null, lastError: 'M8 reset: gone' });
      await store.completeChunkRun('r1');
      expect(await store.inProgressChunkRun('e')).toBeNull();
      expect((await store.latestChunkRun('e'))?.status).toBe('completed');
      expect(await store.deleteChunkRuns('e')).toBe(1);
      expect(await store.chunkTasks('r1')).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
