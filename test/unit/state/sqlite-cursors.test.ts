import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStateStore } from '../../../shared/state/sqlite-state-store.js';

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'rivet-cursors-')), '.rivet_state.db');

describe('SQLite cursor store', () => {
  it('gets, sets, lists and resets cursors in export_state', async () => {
    const path = dbPath();
    const s = openSqliteStateStore(path);
    expect(await s.getCursor('a')).toBeNull();
    await s.setCursor('b', '10');
    await s.setCursor('a', '2024-01-01 00:00:00+00');
    await s.setCursor('b', '11');
    expect(await s.getCursor('b')).toBe('11');
    const list = await s.listCursors();
    expect(list.map((c) => [c.exportName, c.cursor])).toEqual([['a', '2024-01-01 00:00:00+00'], ['b', '11']]);
    expect(list[0].lastRunAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    expect(await s.resetCursor('a')).toBe(true);
    expect(await s.resetCursor('a')).toBe(false);
    expect(await s.getCursor('a')).toBeNull();
    await s.close();
  });

  it('records the committed progression (replaced each time) and reads it back; migration v2 adds the table', async () => {
    const path = dbPath();
    const s = openSqliteStateStore(path);
    expect(await s.listProgression()).toEqual([]);
    await s.recordCommittedProgression({ exportName: 'x', strategy: 'incremental', cursor: '9', runId: 'x_1' });
    await s.recordCommittedProgression({ exportName: 'x', strategy: 'incremental', cursor: '10', runId: 'x_2' });
    await s.recordCommittedProgression({ exportName: 'y', strategy: 'chunked', chunkIndex: 4, runId: 'y_1' });
    const rows = await s.listProgression();
    expect(rows.map((r) => [r.exportName, r.committed?.strategy, r.committed?.cursor, r.committed?.chunkIndex, r.committed?.runId, r.verified])).toEqual([
      ['x', 'incremental', '10', null, 'x_2', null],
      ['y', 'chunked', null, 4, 'y_1', null],
    ]);
    expect((await s.listProgression('y')).map((r) => r.exportName)).toEqual(['y']);
    await s.close();
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v).toBeGreaterThanOrEqual(2);
    db.close();
  });
});
