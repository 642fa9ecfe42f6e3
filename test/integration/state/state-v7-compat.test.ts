import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStateStore } from '../../../shared/state/postgres-state-store.js';
import { openSqliteStateStore } from '../../../shared/state/sqlite-state-store.js';
import type { StateStore } from '../../../shared/state/state-store.js';
import { pgExec, testPgUrl } from '../../helpers/pg.js';

/**
 * State written before the SQL store was one (schema v7, the code of ADR 0013's parent
 * commit) must open and keep working. The fixtures are that code's own output: a `.dump` of
 * the SQLite file and a `pg_dump --inserts` of the PostgreSQL schema (`{{schema}}` stands for
 * its name), holding history, cursors with a boundary, progression, a completed and an
 * in-progress chunk run, and a lease.
 */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

interface OldState {
  name: 'sqlite' | 'postgres';
  /** Load the fixture; returns a store on it. */
  setup(): Promise<StateStore>;
  /** The schema as the database describes it: must be the same after the new store has used it. */
  schema(): Promise<unknown>;
  /** The schema the new store creates from nothing, described the same way. */
  freshSchema(): Promise<unknown>;
  teardown(): Promise<void>;
}

function describeSqlite(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return {
      objects: db.prepare(`SELECT type, name, sql FROM sqlite_master ORDER BY type, name`).all(),
      versions: db.prepare(`SELECT version FROM schema_version ORDER BY version`).all(),
    };
  } finally {
    db.close();
  }
}

/** Columns, defaults and indexes of a PostgreSQL state schema, with its name written as `{{schema}}`. */
async function describePg(schema: string): Promise<unknown> {
  const described = {
    columns: await pgExec(
      `SELECT table_name, column_name, data_type, column_default, is_nullable FROM information_schema.columns WHERE table_schema = $1 ORDER BY 1, 2`,
      [schema],
    ),
    indexes: await pgExec(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, [schema]),
    versions: await pgExec(`SELECT version FROM ${schema}.rivet_schema_version ORDER BY 1`),
  };
  return JSON.parse(JSON.stringify(described).replaceAll(schema, '{{schema}}'));
}

function sqliteState(): OldState {
  const dir = mkdtempSync(join(tmpdir(), 'rivet-state-v7-'));
  const path = join(dir, '.rivet_state.db');
  return {
    name: 'sqlite',
    async setup() {
      const db = new Database(path);
      db.exec(fixture('state-v7.sqlite.sql'));
      db.close();
      return openSqliteStateStore(path);
    },
    schema: async () => describeSqlite(path),
    async freshSchema() {
      const fresh = join(dir, 'fresh.db');
      const s = openSqliteStateStore(fresh);
      await s.listCursors();
      await s.close();
      return describeSqlite(fresh);
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresState(): OldState {
  const schema = `state_v7_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  return {
    name: 'postgres',
    async setup() {
      await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pgExec(fixture('state-v7.postgres.sql').replaceAll('{{schema}}', schema));
      return openPostgresStateStore({ url: testPgUrl(), schema });
    },
    schema: () => describePg(schema),
    async freshSchema() {
      const fresh = `${schema}_fresh`;
      const s = openPostgresStateStore({ url: testPgUrl(), schema: fresh });
      try {
        await s.listCursors();
        return await describePg(fresh);
      } finally {
        await s.close();
        await pgExec(`DROP SCHEMA IF EXISTS ${fresh} CASCADE`);
      }
    },
    async teardown() {
      await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

describe.each([sqliteState(), postgresState()])('state written by schema v7 code: $name', (old: OldState) => {
  let store: StateStore;
  let schemaBefore: unknown;
  beforeAll(async () => {
    store = await old.setup();
    schemaBefore = await old.schema();
  });
  afterAll(async () => {
    await store?.close();
    await old.teardown();
  });

  it('reads the history as it was written', async () => {
    const metrics = await store.recentMetrics();
    expect(metrics.map((m) => [m.id, m.runId, m.status, m.validated, m.schemaChanged])).toEqual([
      [3, 'users_r1', 'success', null, null],
      [2, 'orders_r2', 'failed', null, true],
      [1, 'orders_r1', 'success', true, false],
    ]);
    expect(metrics[2]).toMatchObject({ exportName: 'orders', durationMs: 1500, totalRows: 120, peakRssMb: 80, format: 'parquet', mode: 'incremental', bytesWritten: 4096 });
    expect((await store.recentFiles({ exportName: 'orders' })).map((f) => [f.fileName, f.rowCount, f.compression])).toEqual([
      ['part-000001.parquet', 20, 'zstd'],
      ['part-000000.parquet', 100, 'zstd'],
    ]);
    // Both journals carry the same millisecond: the later insert comes first.
    expect((await store.recentJournals('orders', 10)).map((j) => j.run_id)).toEqual(['orders_r2', 'orders_r1']);
    expect((await store.getJournal('orders_r1'))?.entries[0].event).toEqual({ kind: 'RunStarted' });
    const [agg] = await store.recentAggregates(5);
    expect(agg).toMatchObject({ run_aggregate_id: 'agg_1', duration_ms: 120000, total_exports: 2, failed_count: 1, total_bytes: 4096 });
    expect(agg.per_export).toEqual([{ export_name: 'orders', status: 'failed' }, { export_name: 'users', status: 'success' }]);
  });

  it('reads cursors, the boundary, progression, chunk checkpoints and the lease', async () => {
    expect((await store.listCursors()).map((c) => [c.exportName, c.cursor])).toEqual([['legacy', '41'], ['orders', '2026-12-01 00:00:00+00']]);
    const b = await store.getBoundary('orders');
    expect(b).toMatchObject({ cursor: '2026-12-01 00:00:00+00', since: '2026-11-30 23:55:00+00', identity: 'key:["id"]', runId: 'orders_r1' });
    expect([...b!.ids]).toEqual(Array.from({ length: 32 }, (_, i) => i));
    const progression = await store.listProgression();
    expect(progression.map((p) => [p.exportName, p.committed?.cursor ?? p.committed?.chunkIndex, p.verified?.runId ?? null])).toEqual([
      ['orders', '2026-12-01 00:00:00+00', 'orders_r1'],
      ['users', 1, null],
    ]);
    expect(await store.inProgressChunkExports()).toEqual(['users']);
    expect(await store.inProgressChunkRun('users')).toMatchObject({ runId: 'users_r1', planHash: '0123456789abcdef', maxChunkAttempts: 2, prefix: 'file:///lake/users' });
    expect((await store.chunkTasks('users_r1')).map((t) => [t.chunkIndex, t.status, t.attempts, t.lastError, t.rowsWritten])).toEqual([
      [0, 'completed', 1, null, 100],
      [1, 'running', 2, 'connection reset', null],
      [2, 'pending', 0, null, null],
      [3, 'pending', 0, null, null],
    ]);
    expect(await store.getLease('users')).toEqual({
      exportName: 'users', runId: 'users_r1', token: 'tok-1', host: 'builder', pid: 4242, acquiredAt: '2026-12-01T00:00:00.000Z', expiresAt: '2026-12-01T00:10:00.000Z',
    });
  });

  it('keeps writing where the old code stopped: ids, compare-and-set, claims, leases', async () => {
    await store.recordMetrics({ ...(await store.recentMetrics({ limit: 1 }))[0], runId: 'orders_r3', exportName: 'orders' });
    expect((await store.recentMetrics({ limit: 1 }))[0]).toMatchObject({ id: 4, runId: 'orders_r3' });
    await store.saveJournal({ run_id: 'orders_r1', export_name: 'orders', entries: [] });
    expect((await store.recentJournals('orders', 1))[0].run_id).toBe('orders_r1');

    expect(await store.advanceCursor('legacy', '41', '42')).toBe(true);
    expect(await store.advanceCursor('legacy', '41', '43')).toBe(false);
    const next = { cursor: '2026-12-02 00:00:00+00', since: '2026-12-01 23:55:00+00', identity: 'row', ids: new Uint8Array(16).fill(7), runId: 'orders_r3' };
    expect(await store.commitBoundary('orders', { cursor: '2026-12-01 00:00:00+00', runId: 'orders_r2' }, next)).toBe(false);
    expect(await store.commitBoundary('orders', { cursor: '2026-12-01 00:00:00+00', runId: 'orders_r1' }, next)).toBe(true);
    expect(await store.getBoundary('orders')).toEqual(next);

    await expect(store.createChunkRun({ runId: 'users_r2', exportName: 'users', planHash: 'ffff', maxChunkAttempts: 2, prefix: 'p', chunks: [] })).rejects.toThrow(
      /export 'users' already has chunk run users_r1 in progress/,
    );
    expect(await store.resetRunningChunkTasks('users_r1')).toBe(1);
    expect(await store.claimChunkTask('users_r1')).toEqual({ chunkIndex: 1, startKey: '101', endKey: '200', attempts: 3 });
    expect(await store.claimChunkTask('users_r1')).toEqual({ chunkIndex: 2, startKey: '201', endKey: '300', attempts: 1 });
    await store.completeChunkTask('users_r1', 1, { rows: 100, fileName: 'part-000001.parquet' });
    expect((await store.latestChunkRun('users'))?.runId).toBe('users_r1');

    expect(await store.putLease({ exportName: 'users', runId: 'x', token: 'tok-2', host: 'h', pid: null, acquiredAt: 'a', expiresAt: 'b' }, null)).toBe(false);
    expect(await store.renewLease('users', 'tok-1', '2026-12-01T00:20:00.000Z')).toBe(true);
    expect(await store.releaseLease('users', 'tok-1')).toBe(true);
  });

  it('leaves the schema exactly as it found it (no new version, table, column or index)', async () => {
    expect(await old.schema()).toEqual(schemaBefore);
  });

  it('creates, from nothing, the very schema the v7 code created', async () => {
    expect(await old.freshSchema()).toEqual(schemaBefore);
  });
});
