import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunJournal, RunMetrics, StateStore } from '../../../shared/state/state-store.js';
import { dynamoBackend, postgresBackend, sqliteBackend, type BackendUnderTest } from './state-backends.js';

/**
 * One contract, three backends: SQLite (a temp file), PostgreSQL (the test server, a fresh
 * schema) and DynamoDB (DynamoDB Local, a fresh table). Every backend must answer every
 * call the same way, and none may let two racing writers both win a chunk or a cursor.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$/;
let seq = 0;
/** Names unique within the backend's namespace, so the tests of one backend do not see each other's rows. */
const uniq = (what: string) => `${what}_${++seq}`;

function metrics(exportName: string, runId: string, extra: Partial<RunMetrics> = {}): RunMetrics {
  return {
    runId, exportName, durationMs: 1234, totalRows: 42, peakRssMb: 99, status: 'success', errorMessage: null,
    tuningProfile: 'balanced', format: 'parquet', mode: 'incremental', filesProduced: 2, bytesWritten: 5000, retries: 1, ...extra,
  };
}

function journal(exportName: string, runId: string, events: number, payload = ''): RunJournal {
  return {
    run_id: runId,
    export_name: exportName,
    entries: Array.from({ length: events }, (_, i) => ({ recorded_at: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, event: { kind: 'FileWritten', i, payload } })),
  };
}

describe.each([sqliteBackend(), postgresBackend(), dynamoBackend()])('state store contract: $name', (backend: BackendUnderTest) => {
  let store: StateStore;
  beforeAll(async () => {
    await backend.setup();
    store = backend.open();
  });
  afterAll(async () => {
    await store?.close();
    await backend.teardown();
  });

  describe('history', () => {
    it('round-trips metrics newest first, per export, with limits and the --validate verdict', async () => {
      const [a, b] = [uniq('orders'), uniq('users')];
      await store.recordMetrics(metrics(a, `${a}_r1`));
      await store.recordMetrics(metrics(b, `${b}_r1`, { status: 'failed', errorMessage: 'boom: connection refused', totalRows: 0 }));
      await store.recordMetrics(metrics(a, `${a}_r2`, { mode: 'full', format: 'csv' }));

      const newest = await store.recentMetrics({ limit: 3 });
      expect(newest.map((m) => m.runId)).toEqual([`${a}_r2`, `${b}_r1`, `${a}_r1`]);
      expect(newest[0].id).toBeGreaterThan(newest[1].id);
      expect(newest[1].id).toBeGreaterThan(newest[2].id);
      expect(newest[1]).toMatchObject({ exportName: b, status: 'failed', errorMessage: 'boom: connection refused', totalRows: 0, validated: null });
      expect(newest[2]).toMatchObject({
        exportName: a, durationMs: 1234, totalRows: 42, peakRssMb: 99, status: 'success', errorMessage: null, tuningProfile: 'balanced',
        format: 'parquet', mode: 'incremental', filesProduced: 2, bytesWritten: 5000, retries: 1, validated: null,
      });
      expect(newest[0].runAt).toMatch(RFC3339);

      expect((await store.recentMetrics({ exportName: a })).map((m) => m.runId)).toEqual([`${a}_r2`, `${a}_r1`]);
      expect((await store.recentMetrics({ exportName: a, limit: 1 })).map((m) => m.runId)).toEqual([`${a}_r2`]);
      expect(await store.recentMetrics({ exportName: a, limit: 0 })).toEqual([]);
      expect(await store.recentMetrics({ exportName: uniq('never_ran') })).toEqual([]);

      await store.markValidated(`${a}_r1`, false);
      await store.markValidated(`${b}_r1`, true);
      const [r2, r1] = await store.recentMetrics({ exportName: a });
      expect([r2.validated, r1.validated]).toEqual([null, false]);
      expect((await store.recentMetrics({ limit: 3 }))[1].validated).toBe(true);
    });

    it('stores schema_changed with the metrics: changed, unchanged, or not judged (null)', async () => {
      const a = uniq('drift');
      await store.recordMetrics(metrics(a, `${a}_r1`, { schemaChanged: false }));
      await store.recordMetrics(metrics(a, `${a}_r2`, { schemaChanged: true }));
      await store.recordMetrics(metrics(a, `${a}_r3`));
      expect((await store.recentMetrics({ exportName: a })).map((m) => m.schemaChanged)).toEqual([null, true, false]);
    });

    it('round-trips run aggregates newest first; an id stored twice is refused', async () => {
      const id = uniq('agg');
      const agg = (n: number, finished: string) => ({
        run_aggregate_id: `${id}_${n}`, started_at: '2026-01-01T00:00:00.000Z', finished_at: finished, duration_ms: 1500, config_path: 'rivet.yaml',
        parallel_mode: 'sequential', total_exports: 2, success_count: 1, failed_count: 1, skipped_count: 0, total_rows: 10, total_files: 1, total_bytes: 300,
        per_export: [
          { export_name: 'a', status: 'success', run_id: 'a_1', rows: 10, files: 1, bytes: 300, duration_ms: 700, mode: 'full', error_message: null },
          { export_name: 'b', status: 'failed', run_id: 'b_1', rows: 0, files: 0, bytes: 0, duration_ms: 800, mode: 'chunked', error_message: 'boom' },
        ],
      });
      await store.recordAggregate(agg(1, '2099-01-01T00:00:01.000Z'));
      await store.recordAggregate(agg(2, '2099-01-01T00:00:02.000Z'));
      const [newest, older] = await store.recentAggregates(2);
      expect(newest).toEqual(agg(2, '2099-01-01T00:00:02.000Z'));
      expect(older.run_aggregate_id).toBe(`${id}_1`);
      await expect(store.recordAggregate(agg(2, '2099-01-01T00:00:02.000Z'))).rejects.toThrow();
      expect(await store.recentAggregates(0)).toEqual([]);
    });

    it('round-trips the file log newest first, per export, with limits', async () => {
      const [a, b] = [uniq('orders'), uniq('users')];
      const file = (exportName: string, n: number) => ({
        runId: `${exportName}_run`, exportName, fileName: `part-${String(n).padStart(6, '0')}.parquet`, rowCount: n * 10, bytes: n * 1000, format: 'parquet' as const, compression: 'zstd',
      });
      await store.recordFiles([file(a, 1), file(a, 2), file(b, 1)]);
      await store.recordFiles([]);
      await store.recordFiles([file(a, 3)]);

      const all = await store.recentFiles({ limit: 4 });
      expect(all.map((f) => `${f.exportName}/${f.fileName}`)).toEqual([`${a}/part-000003.parquet`, `${b}/part-000001.parquet`, `${a}/part-000002.parquet`, `${a}/part-000001.parquet`]);
      expect(all[3]).toMatchObject({ runId: `${a}_run`, rowCount: 10, bytes: 1000, format: 'parquet', compression: 'zstd' });
      expect(all[0].createdAt).toMatch(RFC3339);
      expect((await store.recentFiles({ exportName: a, limit: 2 })).map((f) => f.fileName)).toEqual(['part-000003.parquet', 'part-000002.parquet']);
      expect((await store.recentFiles({ exportName: b })).map((f) => f.fileName)).toEqual(['part-000001.parquet']);
      expect(await store.recentFiles({ exportName: uniq('none') })).toEqual([]);
    });

    it('stores journals by run id, lists them newest first, and a re-save replaces and moves to the front', async () => {
      const a = uniq('orders');
      const [j1, j2, j3] = [journal(a, `${a}_1`, 3), journal(a, `${a}_2`, 1), journal(a, `${a}_3`, 2)];
      for (const j of [j1, j2, j3]) await store.saveJournal(j);
      expect(await store.getJournal(`${a}_2`)).toEqual(j2);
      expect(await store.getJournal(uniq('unknown_run'))).toBeNull();
      expect((await store.recentJournals(a, 5)).map((j) => j.run_id)).toEqual([`${a}_3`, `${a}_2`, `${a}_1`]);
      expect((await store.recentJournals(a, 2)).map((j) => j.run_id)).toEqual([`${a}_3`, `${a}_2`]);
      expect(await store.recentJournals(a, 0)).toEqual([]);

      // A resumed run adopts its run id: the new journal replaces the old one and is now the newest.
      await new Promise((r) => setTimeout(r, 5));
      const resumed = journal(a, `${a}_1`, 7);
      await store.saveJournal(resumed);
      expect(await store.getJournal(`${a}_1`)).toEqual(resumed);
      expect((await store.recentJournals(a, 5)).map((j) => [j.run_id, j.entries.length])).toEqual([[`${a}_1`, 7], [`${a}_3`, 2], [`${a}_2`, 1]]);
    });

    it('keeps a journal far larger than a DynamoDB item (400 KB) whole', async () => {
      const a = uniq('big');
      // Random hex barely compresses: ~2.4 MB of JSON, still > 1 MB gzipped, several parts.
      const big = journal(a, `${a}_1`, 1200, randomBytes(1000).toString('hex'));
      expect(JSON.stringify(big).length).toBeGreaterThan(2_000_000);
      await store.saveJournal(big);
      expect(await store.getJournal(`${a}_1`)).toEqual(big);
      const smaller = journal(a, `${a}_1`, 2);
      await store.saveJournal(smaller);
      expect(await store.getJournal(`${a}_1`)).toEqual(smaller);
      expect(await store.recentJournals(a, 5)).toEqual([smaller]);
    });
  });

  describe('cursors', () => {
    it('gets, sets, lists in name order, and resets', async () => {
      const [lower, upper] = [uniq('cur_a'), uniq('CUR_B')];
      expect(await store.getCursor(lower)).toBeNull();
      await store.setCursor(lower, '10');
      await store.setCursor(upper, '2024-01-01 00:00:00+00');
      await store.setCursor(lower, '11');
      expect(await store.getCursor(lower)).toBe('11');

      const mine = (await store.listCursors()).filter((c) => c.exportName === lower || c.exportName === upper);
      // Byte order: upper-case before lower-case, as SQLite's BINARY collation sorts.
      expect(mine.map((c) => [c.exportName, c.cursor])).toEqual([[upper, '2024-01-01 00:00:00+00'], [lower, '11']]);
      expect(mine[0].lastRunAt).toMatch(/\+00:00$/);
      expect(Number.isNaN(Date.parse(mine[0].lastRunAt!))).toBe(false);

      expect(await store.resetCursor(lower)).toBe(true);
      expect(await store.resetCursor(lower)).toBe(false);
      expect(await store.getCursor(lower)).toBeNull();
      expect(await store.getCursor(upper)).toBe('2024-01-01 00:00:00+00');
    });

    it('advances a cursor only from the value the caller expects (compare-and-set)', async () => {
      const e = uniq('cas');
      expect(await store.advanceCursor(e, null, '1')).toBe(true);
      expect(await store.advanceCursor(e, null, '2')).toBe(false);
      expect(await store.advanceCursor(e, '1', '2')).toBe(true);
      expect(await store.advanceCursor(e, '1', '3')).toBe(false);
      expect(await store.getCursor(e)).toBe('2');
      await store.resetCursor(e);
      expect(await store.advanceCursor(e, '2', '3')).toBe(false);
      expect(await store.getCursor(e)).toBeNull();
    });

    it('commits cursor and boundary together, only from the cursor and boundary run the caller expects', async () => {
      const e = uniq('boundary');
      expect(await store.getBoundary(e)).toBeNull();
      const ids = (n: number, seed: number) => Uint8Array.from({ length: n * 16 }, (_, i) => (i * 31 + seed) & 0xff);
      const b1 = { cursor: '2026-01-01 10:00:00+00', since: '2026-01-01 09:45:00+00', identity: 'key:["id"]', ids: ids(3, 1), runId: `${e}_r1` };
      expect(await store.commitBoundary(e, { cursor: null, runId: null }, b1)).toBe(true);
      expect(await store.getCursor(e)).toBe(b1.cursor);
      expect(await store.getBoundary(e)).toEqual(b1);
      // A second commit from the same expectation (an overlapping run) loses and changes nothing.
      expect(await store.commitBoundary(e, { cursor: null, runId: null }, { ...b1, runId: `${e}_x` })).toBe(false);
      // The cursor may stay where it is (late rows at the same value): the boundary's run is what moves.
      const b2 = { ...b1, ids: ids(5, 2), runId: `${e}_r2` };
      expect(await store.commitBoundary(e, { cursor: b1.cursor, runId: `${e}_wrong` }, b2)).toBe(false);
      expect(await store.commitBoundary(e, { cursor: b1.cursor, runId: b1.runId }, b2)).toBe(true);
      expect(await store.commitBoundary(e, { cursor: b1.cursor, runId: b1.runId }, { ...b2, runId: `${e}_y` })).toBe(false);
      expect(await store.getBoundary(e)).toEqual(b2);
      // An empty boundary is a boundary (no row at or above since), not the absence of one.
      const b3 = { cursor: '2026-01-02 00:00:00+00', since: '2026-01-02 00:00:00+00', identity: 'row', ids: new Uint8Array(), runId: `${e}_r3` };
      expect(await store.commitBoundary(e, { cursor: b2.cursor, runId: b2.runId }, b3)).toBe(true);
      expect(await store.getBoundary(e)).toEqual(b3);
      expect(await store.getCursor(e)).toBe(b3.cursor);
      expect(await store.resetCursor(e)).toBe(true);
      expect(await store.getBoundary(e)).toBeNull();
      expect(await store.getCursor(e)).toBeNull();
    });

    it('keeps a boundary of 100 000 identities (1.6 MB, far larger than a DynamoDB item) whole', async () => {
      const e = uniq('boundary_big');
      const ids = new Uint8Array(100_000 * 16);
      for (let i = 0; i < ids.length; i++) ids[i] = (i * 2654435761) >>> 24;
      const b = { cursor: '42', since: '40', identity: 'row', ids, runId: `${e}_r1` };
      expect(await store.commitBoundary(e, { cursor: null, runId: null }, b)).toBe(true);
      const got = await store.getBoundary(e);
      expect(got?.ids.length).toBe(ids.length);
      expect(Buffer.from(got!.ids).equals(Buffer.from(ids))).toBe(true);
      const small = { ...b, cursor: '43', ids: ids.subarray(0, 32), runId: `${e}_r2` };
      expect(await store.commitBoundary(e, { cursor: '42', runId: `${e}_r1` }, small)).toBe(true);
      expect(await store.getBoundary(e)).toEqual({ ...small, ids: Uint8Array.from(small.ids) });
    });

    it('a legacy cursor (no boundary yet) gets its first boundary only from that cursor', async () => {
      const e = uniq('boundary_legacy');
      await store.setCursor(e, '7');
      const b = { cursor: '9', since: '9', identity: 'row', ids: new Uint8Array(16), runId: `${e}_r1` };
      expect(await store.commitBoundary(e, { cursor: '6', runId: null }, b)).toBe(false);
      expect(await store.commitBoundary(e, { cursor: '7', runId: 'other' }, b)).toBe(false);
      expect(await store.getBoundary(e)).toBeNull();
      expect(await store.commitBoundary(e, { cursor: '7', runId: null }, b)).toBe(true);
      expect(await store.getCursor(e)).toBe('9');
    });

    it('records committed and verified progression independently', async () => {
      const [inc, ch] = [uniq('prog_inc'), uniq('prog_chunk')];
      await store.recordCommittedProgression({ exportName: inc, strategy: 'incremental', cursor: '100', runId: `${inc}_r1` });
      await store.recordCommittedProgression({ exportName: ch, strategy: 'chunked', chunkIndex: 7, runId: `${ch}_r1` });
      await store.recordVerifiedProgression({ exportName: ch, strategy: 'chunked', chunkIndex: 5, runId: `${ch}_r0` });
      await store.recordCommittedProgression({ exportName: inc, strategy: 'incremental', cursor: '200', runId: `${inc}_r2` });

      const [p] = await store.listProgression(inc);
      expect(p.exportName).toBe(inc);
      expect(p.committed).toMatchObject({ strategy: 'incremental', cursor: '200', chunkIndex: null, runId: `${inc}_r2` });
      expect(p.committed!.at).toMatch(RFC3339);
      expect(p.verified).toBeNull();

      const all = (await store.listProgression()).filter((r) => r.exportName === inc || r.exportName === ch);
      expect(all.map((r) => r.exportName)).toEqual([ch, inc].sort());
      const c = all.find((r) => r.exportName === ch)!;
      expect(c.committed).toMatchObject({ strategy: 'chunked', cursor: null, chunkIndex: 7, runId: `${ch}_r1` });
      expect(c.verified).toMatchObject({ strategy: 'chunked', chunkIndex: 5, runId: `${ch}_r0` });
      expect(await store.listProgression(uniq('none'))).toEqual([]);
    });
  });

  describe('chunk checkpoints', () => {
    const chunks = [{ startKey: '1', endKey: '10' }, { startKey: '11', endKey: '20' }, { startKey: 'NULL', endKey: 'NULL' }];

    it('claims lowest index first, retries failures up to the limit, completes, resets, finishes and deletes', async () => {
      const e = uniq('chunked');
      const run1 = `${e}_run1`;
      expect(await store.inProgressChunkRun(e)).toBeNull();
      await store.createChunkRun({ runId: run1, exportName: e, planHash: 'abcdef0123456789', maxChunkAttempts: 2, prefix: `/out/${e}`, chunks });
      expect(await store.inProgressChunkRun(e)).toMatchObject({ runId: run1, exportName: e, planHash: 'abcdef0123456789', status: 'in_progress', maxChunkAttempts: 2, prefix: `/out/${e}` });
      expect(await store.inProgressChunkExports()).toContain(e);
      const fresh = await store.chunkTasks(run1);
      expect(fresh.map((t) => [t.chunkIndex, t.startKey, t.endKey, t.status, t.attempts, t.rowsWritten, t.fileName, t.lastError])).toEqual([
        [0, '1', '10', 'pending', 0, null, null, null],
        [1, '11', '20', 'pending', 0, null, null, null],
        [2, 'NULL', 'NULL', 'pending', 0, null, null, null],
      ]);

      expect(await store.claimChunkTask(run1)).toEqual({ chunkIndex: 0, startKey: '1', endKey: '10', attempts: 1 });
      await store.failChunkTask(run1, 0, 'timeout');
      // A failed task with attempts left is claimed again before later pending ones.
      expect(await store.claimChunkTask(run1)).toMatchObject({ chunkIndex: 0, attempts: 2 });
      await store.failChunkTask(run1, 0, 'timeout again');
      expect(await store.claimChunkTask(run1)).toMatchObject({ chunkIndex: 1, attempts: 1 });
      await store.completeChunkTask(run1, 1, { rows: 10, fileName: 'part-000002.parquet' });
      expect(await store.claimChunkTask(run1)).toMatchObject({ chunkIndex: 2, startKey: 'NULL', attempts: 1 });
      // The worker died: its running task goes back to pending and is claimed again.
      expect(await store.resetRunningChunkTasks(run1)).toBe(1);
      expect(await store.resetRunningChunkTasks(run1)).toBe(0);
      expect(await store.claimChunkTask(run1)).toMatchObject({ chunkIndex: 2, attempts: 2 });
      await store.completeChunkTask(run1, 2, { rows: 0, fileName: null });
      expect(await store.claimChunkTask(run1)).toBeNull(); // task 0 exhausted its 2 attempts

      let tasks = await store.chunkTasks(run1);
      expect(tasks.map((t) => [t.status, t.attempts, t.rowsWritten, t.fileName, t.lastError])).toEqual([
        ['failed', 2, null, null, 'timeout again'],
        ['completed', 1, 10, 'part-000002.parquet', null],
        ['completed', 2, 0, null, null],
      ]);
      expect(tasks[0].updatedAt).toMatch(RFC3339);

      // startChunkTask (the local driver's own assignment) takes any task and counts the attempt.
      expect(await store.startChunkTask(run1, 0)).toBe(3);
      await store.completeChunkTask(run1, 0, { rows: 5, fileName: 'part-000001.parquet' });
      expect(await store.startChunkTask(run1, 99)).toBe(0);
      await store.resetChunkTask(run1, 1, 'M8: part-000002.parquet is missing');
      tasks = await store.chunkTasks(run1);
      expect(tasks[1]).toMatchObject({ status: 'pending', rowsWritten: null, fileName: null, lastError: 'M8: part-000002.parquet is missing' });
      expect(await store.claimChunkTask(run1)).toMatchObject({ chunkIndex: 1, attempts: 2 });

      // One in_progress run per export.
      await expect(store.createChunkRun({ runId: `${e}_run2`, exportName: e, planHash: 'x', maxChunkAttempts: 1, prefix: '/p', chunks })).rejects.toThrow(/in progress/);
      expect(await store.chunkTasks(`${e}_run2`)).toEqual([]);

      await store.completeChunkRun(run1);
      expect(await store.inProgressChunkRun(e)).toBeNull();
      expect(await store.inProgressChunkExports()).not.toContain(e);
      expect(await store.latestChunkRun(e)).toMatchObject({ runId: run1, status: 'completed' });
      expect(await store.claimChunkTask(run1)).toBeNull(); // a completed run hands out nothing

      await new Promise((r) => setTimeout(r, 5));
      await store.createChunkRun({ runId: `${e}_run2`, exportName: e, planHash: 'x', maxChunkAttempts: 1, prefix: '/p', chunks: chunks.slice(0, 1) });
      expect(await store.latestChunkRun(e)).toMatchObject({ runId: `${e}_run2`, status: 'in_progress' });
      expect(await store.inProgressChunkRun(e)).toMatchObject({ runId: `${e}_run2` });
      // A task change bumps its run: the older run becomes the latest again.
      await new Promise((r) => setTimeout(r, 5));
      await store.failChunkTask(run1, 1, 'late');
      expect((await store.latestChunkRun(e))?.runId).toBe(run1);

      expect(await store.deleteChunkRuns(e)).toBe(2);
      expect(await store.chunkTasks(run1)).toEqual([]);
      expect(await store.chunkTasks(`${e}_run2`)).toEqual([]);
      expect(await store.latestChunkRun(e)).toBeNull();
      expect(await store.inProgressChunkRun(e)).toBeNull();
      expect(await store.deleteChunkRuns(e)).toBe(0);
      // The export is free again.
      await store.createChunkRun({ runId: `${e}_run3`, exportName: e, planHash: 'x', maxChunkAttempts: 1, prefix: '/p', chunks });
      expect((await store.inProgressChunkRun(e))?.runId).toBe(`${e}_run3`);
    });

    it('handles a run of many chunks (more than one write batch)', async () => {
      const e = uniq('many');
      const many = Array.from({ length: 1205 }, (_, i) => ({ startKey: String(i * 10 + 1), endKey: String(i * 10 + 10) }));
      await store.createChunkRun({ runId: `${e}_r`, exportName: e, planHash: 'h', maxChunkAttempts: 1, prefix: '/p', chunks: many });
      const tasks = await store.chunkTasks(`${e}_r`);
      expect(tasks.length).toBe(1205);
      expect(tasks.map((t) => t.chunkIndex)).toEqual(many.map((_, i) => i));
      expect(tasks[1204]).toMatchObject({ startKey: '12041', endKey: '12050', status: 'pending' });
      expect(await store.deleteChunkRuns(e)).toBe(1);
    });
  });

  describe('concurrency: two stores on the same backend', () => {
    let other: StateStore;
    beforeAll(() => {
      other = backend.open();
    });
    afterAll(async () => {
      await other?.close();
    });

    it('two workers racing for the same chunk: exactly one wins', async () => {
      for (let round = 0; round < 5; round++) {
        const e = uniq('race_claim');
        await store.createChunkRun({ runId: `${e}_r`, exportName: e, planHash: 'h', maxChunkAttempts: 3, prefix: '/p', chunks: [{ startKey: '1', endKey: '9' }] });
        const results = await Promise.all([store.claimChunkTask(`${e}_r`), other.claimChunkTask(`${e}_r`)]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        expect((await store.chunkTasks(`${e}_r`))[0]).toMatchObject({ status: 'running', attempts: 1 });
      }
    });

    it('two workers draining one run: every chunk is claimed exactly once', async () => {
      const e = uniq('race_drain');
      const n = 24;
      await store.createChunkRun({ runId: `${e}_r`, exportName: e, planHash: 'h', maxChunkAttempts: 1, prefix: '/p', chunks: Array.from({ length: n }, (_, i) => ({ startKey: String(i), endKey: String(i) })) });
      const drain = async (s: StateStore) => {
        const got: number[] = [];
        for (let c = await s.claimChunkTask(`${e}_r`); c; c = await s.claimChunkTask(`${e}_r`)) {
          got.push(c.chunkIndex);
          await s.completeChunkTask(`${e}_r`, c.chunkIndex, { rows: 1, fileName: `part-${c.chunkIndex}` });
        }
        return got;
      };
      const [mine, theirs] = await Promise.all([drain(store), drain(other)]);
      expect([...mine, ...theirs].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      const tasks = await store.chunkTasks(`${e}_r`);
      expect(tasks.every((t) => t.status === 'completed' && t.attempts === 1)).toBe(true);
    });

    it('two runs advancing the same cursor from the same value: one wins, its value stays', async () => {
      for (const start of [null, '100']) {
        const e = uniq('race_cursor');
        if (start !== null) await store.setCursor(e, start);
        const [a, b] = await Promise.all([store.advanceCursor(e, start, '150'), other.advanceCursor(e, start, '175')]);
        expect([a, b].filter(Boolean)).toHaveLength(1);
        expect(await other.getCursor(e)).toBe(a ? '150' : '175');
      }
    });

    it('two runs committing a boundary from the same state: one wins, its boundary stays', async () => {
      for (const start of [null, { cursor: '100', runId: 'r0' }]) {
        const e = uniq('race_boundary');
        if (start) await store.commitBoundary(e, { cursor: null, runId: null }, { cursor: start.cursor, since: '100', identity: 'row', ids: new Uint8Array(16), runId: start.runId });
        const expected = start ?? { cursor: null, runId: null };
        const next = (runId: string) => ({ cursor: '100', since: '100', identity: 'row', ids: new Uint8Array(32).fill(runId.length), runId });
        const [a, b] = await Promise.all([store.commitBoundary(e, expected, next('run_a')), other.commitBoundary(e, expected, next('run_bb'))]);
        expect([a, b].filter(Boolean)).toHaveLength(1);
        expect(await other.getBoundary(e)).toEqual(next(a ? 'run_a' : 'run_bb'));
      }
    });

    it('two runs starting the same checkpointed export: only one creates its run', async () => {
      const e = uniq('race_create');
      const create = (s: StateStore, runId: string) =>
        s.createChunkRun({ runId, exportName: e, planHash: 'h', maxChunkAttempts: 1, prefix: '/p', chunks: [{ startKey: '1', endKey: '2' }] }).then(
          () => runId,
          (err: Error) => err,
        );
      const outcomes = await Promise.all([create(store, `${e}_a`), create(other, `${e}_b`)]);
      const won = outcomes.filter((o) => typeof o === 'string');
      expect(won).toHaveLength(1);
      expect((outcomes.find((o) => o instanceof Error) as Error).message).toMatch(/in progress/);
      expect((await other.inProgressChunkRun(e))?.runId).toBe(won[0]);
    });
  });
});
