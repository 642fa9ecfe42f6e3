import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitCursor } from '../../../shared/run/commit.js';
import { createLogger } from '../../../shared/log/logger.js';
import { openSqliteStateStore } from '../../../shared/state/sqlite-state-store.js';
import type { StateStore } from '../../../shared/state/state-store.js';

const log = createLogger({ level: 'error', sink: () => undefined });
let state: StateStore;

beforeEach(async () => {
  state = openSqliteStateStore(join(await mkdtemp(join(tmpdir(), 'rivet-commit-cursor-')), 'state.db'));
});
afterEach(async () => {
  await state.close();
});

describe('commitCursor', () => {
  it('advances the cursor from the value the run was planned from', async () => {
    await commitCursor(state, { exportName: 'orders', runId: 'r1', cursor: { from: null, to: '10' } }, log);
    await commitCursor(state, { exportName: 'orders', runId: 'r2', cursor: { from: '10', to: '25' } }, log);
    expect(await state.getCursor('orders')).toBe('25');
  });

  it('refuses to move a cursor that another run advanced after this run was planned', async () => {
    // Two runs planned from the same stored cursor (10): the faster one commits 40 first.
    await commitCursor(state, { exportName: 'orders', runId: 'seed', cursor: { from: null, to: '10' } }, log);
    await commitCursor(state, { exportName: 'orders', runId: 'fast', cursor: { from: '10', to: '40' } }, log);
    const slow = commitCursor(state, { exportName: 'orders', runId: 'slow', cursor: { from: '10', to: '30' } }, log);
    await expect(slow).rejects.toMatchObject({ code: 'STATE', message: expect.stringContaining('another run moved the cursor') });
    expect(await state.getCursor('orders')).toBe('40');
  });

  it('leaves the cursor alone when the window is empty', async () => {
    await commitCursor(state, { exportName: 'orders', runId: 'seed', cursor: { from: null, to: '10' } }, log);
    await commitCursor(state, { exportName: 'orders', runId: 'idle', cursor: { from: '10', to: '10' } }, log);
    expect(await state.getCursor('orders')).toBe('10');
  });
});

describe('commitCursor with a boundary', () => {
  const boundary = (baseRunId: string | null) => ({ since: null, next: '10', baseRunId, identity: 'row' });

  it('stores the boundary with the cursor, and again when late rows arrive at an unchanged cursor', async () => {
    const ids = new Uint8Array(32).fill(7);
    await commitCursor(state, { exportName: 'orders', runId: 'r1', cursor: { from: null, to: '10', boundary: boundary(null) }, boundaryIds: ids }, log);
    expect(await state.getBoundary('orders')).toEqual({ cursor: '10', since: '10', identity: 'row', ids, runId: 'r1' });
    const more = new Uint8Array(48).fill(9);
    await commitCursor(state, { exportName: 'orders', runId: 'r2', cursor: { from: '10', to: '10', boundary: boundary('r1') }, boundaryIds: more }, log);
    expect(await state.getBoundary('orders')).toMatchObject({ cursor: '10', ids: more, runId: 'r2' });
  });

  it('refuses a boundary planned from a run that is no longer the stored one', async () => {
    await commitCursor(state, { exportName: 'orders', runId: 'r1', cursor: { from: null, to: '10', boundary: boundary(null) }, boundaryIds: new Uint8Array(16) }, log);
    await commitCursor(state, { exportName: 'orders', runId: 'r2', cursor: { from: '10', to: '10', boundary: boundary('r1') }, boundaryIds: new Uint8Array(32) }, log);
    const late = commitCursor(state, { exportName: 'orders', runId: 'r3', cursor: { from: '10', to: '10', boundary: boundary('r1') }, boundaryIds: new Uint8Array(0) }, log);
    await expect(late).rejects.toMatchObject({ code: 'STATE' });
    expect((await state.getBoundary('orders'))?.runId).toBe('r2');
  });
});
