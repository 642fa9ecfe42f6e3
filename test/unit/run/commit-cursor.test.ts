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
