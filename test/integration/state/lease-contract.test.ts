import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunLease } from '../../../shared/state/lease-store.js';
import type { StateStore } from '../../../shared/state/state-store.js';
import { acquireRunLease, keepLeaseAlive, renewRunLease, type LeaseSettings } from '../../../shared/run/run-lease.js';
import type { Logger } from '../../../shared/log/logger.js';
import { dynamoBackend, postgresBackend, sqliteBackend, type BackendUnderTest } from './state-backends.js';

/**
 * The run-lease part of the state store contract, on all three backends: create-only
 * acquisition, compare-and-set takeover and token-checked renew/release, each raced by
 * independent stores (separate connections / clients) so only the backend's atomicity can
 * keep two winners apart. Then the takeover rules of shared/run/run-lease.ts on top.
 */
let seq = 0;
const uniq = (what: string) => `${what}_${process.pid}_${++seq}`;

function lease(exportName: string, runId: string, token: string, extra: Partial<RunLease> = {}): RunLease {
  const now = Date.now();
  return {
    exportName, runId, token, host: 'host-a', pid: 4242,
    acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + 60_000).toISOString(), ...extra,
  };
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, warnOnce() {} };

describe.each([sqliteBackend(), postgresBackend(), dynamoBackend()])('run lease contract: $name', (backend: BackendUnderTest) => {
  let stores: StateStore[];
  beforeAll(async () => {
    await backend.setup();
    stores = Array.from({ length: 6 }, () => backend.open());
  });
  afterAll(async () => {
    for (const s of stores ?? []) await s.close();
    await backend.teardown();
  });

  it('round-trips a lease; renew and release need its token', async () => {
    const [store] = stores;
    const name = uniq('orders');
    expect(await store.getLease(name)).toBeNull();
    const l = lease(name, 'orders_r1', 'tok-1', { pid: null });
    expect(await store.putLease(l, null)).toBe(true);
    expect(await store.getLease(name)).toEqual(l);

    const later = new Date(Date.now() + 120_000).toISOString();
    expect(await store.renewLease(name, 'not-mine', later)).toBe(false);
    expect(await store.renewLease(name, 'tok-1', later)).toBe(true);
    expect((await store.getLease(name))?.expiresAt).toBe(later);

    expect(await store.releaseLease(name, 'not-mine')).toBe(false);
    expect(await store.getLease(name)).not.toBeNull();
    expect(await store.releaseLease(name, 'tok-1')).toBe(true);
    expect(await store.getLease(name)).toBeNull();
    expect(await store.releaseLease(name, 'tok-1')).toBe(false);
    expect(await store.renewLease(name, 'tok-1', later)).toBe(false);
  });

  it('a create-only acquisition raced by six stores has exactly one winner', async () => {
    const name = uniq('race');
    const results = await Promise.all(stores.map((s, i) => s.putLease(lease(name, `race_r${i}`, `tok-${i}`), null)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await stores[0].getLease(name))?.token).toBe(`tok-${winner}`);
  });

  it('a takeover is compare-and-set on the old token: of six takers exactly one wins, and a stale token never replaces', async () => {
    const name = uniq('takeover');
    await stores[0].putLease(lease(name, 'dead_run', 'dead-token', { expiresAt: new Date(Date.now() - 1000).toISOString() }), null);
    const results = await Promise.all(stores.map((s, i) => s.putLease(lease(name, `taker_${i}`, `taker-${i}`), 'dead-token')));
    expect(results.filter(Boolean)).toHaveLength(1);
    const now = await stores[0].getLease(name);
    expect(now?.token).toBe(`taker-${results.indexOf(true)}`);
    expect(await stores[1].putLease(lease(name, 'late', 'late-token'), 'dead-token')).toBe(false);
    expect(await stores[1].putLease(lease(name, 'late', 'late-token'), null)).toBe(false);
    expect((await stores[0].getLease(name))?.token).toBe(now?.token);
  });

  describe('takeover rules (shared/run/run-lease.ts)', () => {
    const here: LeaseSettings = { ttlMs: 60_000, host: 'this-host', pid: process.pid };

    it('refuses while the holder lives, naming it; takes over an expired lease; the old holder then learns it lost', async () => {
      const name = uniq('live');
      const first = await acquireRunLease(stores[0], name, 'live_r1', quiet, { ...here, host: 'other-host', pid: 999_999 });
      const refused = acquireRunLease(stores[1], name, 'live_r2', quiet, here);
      await expect(refused).rejects.toMatchObject({ code: 'RUN_IN_PROGRESS', exitCode: 1 });
      await expect(refused).rejects.toThrow(/another run of this export is in progress: run live_r1 on other-host \(pid 999999\) since \d{4}-/);

      // Expire it: the next run takes over, and the first run's renewal now fails.
      await stores[0].renewLease(name, first.token, new Date(Date.now() - 1).toISOString());
      const second = await acquireRunLease(stores[1], name, 'live_r2', quiet, here);
      expect(second.runId).toBe('live_r2');
      await expect(renewRunLease(stores[0], { exportName: name, runId: 'live_r1', leaseToken: first.token })).rejects.toMatchObject({ code: 'RUN_LEASE_LOST' });
    });

    it('takes over at once from a dead process on this host, not from a live one or from another host', async () => {
      const name = uniq('pid');
      // pid 2^22+1 is above Linux's pid_max limit, so no such process exists.
      await stores[0].putLease(lease(name, 'gone_r1', 'gone', { host: 'other-host', pid: 4_194_305 }), null);
      await expect(acquireRunLease(stores[1], name, 'pid_r2', quiet, here)).rejects.toMatchObject({ code: 'RUN_IN_PROGRESS' });
      await stores[0].putLease(lease(name, 'alive_r1', 'alive', { host: 'this-host', pid: process.ppid }), 'gone');
      await expect(acquireRunLease(stores[1], name, 'pid_r2', quiet, here)).rejects.toMatchObject({ code: 'RUN_IN_PROGRESS' });
      await stores[0].putLease(lease(name, 'dead_r1', 'dead', { host: 'this-host', pid: 4_194_305 }), 'alive');
      const taken = await acquireRunLease(stores[1], name, 'pid_r2', quiet, here);
      expect((await stores[2].getLease(name))?.token).toBe(taken.token);
    });

    it('of several runs taking over one dead lease at once, exactly one gets it; the others are refused naming it', async () => {
      const name = uniq('many');
      await stores[0].putLease(lease(name, 'dead_r', 'dead', { expiresAt: new Date(Date.now() - 5).toISOString() }), null);
      const outcomes = await Promise.allSettled(stores.map((s, i) => acquireRunLease(s, name, `many_r${i}`, quiet, here)));
      const won = outcomes.filter((o): o is PromiseFulfilledResult<RunLease> => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const o of outcomes.filter((x) => x.status === 'rejected')) {
        expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'RUN_IN_PROGRESS' });
        expect(String((o as PromiseRejectedResult).reason.message)).toContain(`run ${won[0].value.runId} on this-host`);
      }
    });

    it('the heartbeat keeps a short lease alive past its lifetime, and reports a takeover once', async () => {
      const name = uniq('beat');
      const short: LeaseSettings = { ...here, ttlMs: 900 };
      const mine = await acquireRunLease(stores[0], name, 'beat_r1', quiet, short);
      const lost: string[] = [];
      const stop = keepLeaseAlive(stores[0], { exportName: name, runId: 'beat_r1', leaseToken: mine.token }, quiet, (f) => lost.push(f.code), short);
      try {
        await new Promise((r) => setTimeout(r, 2_000));
        await expect(acquireRunLease(stores[1], name, 'beat_r2', quiet, { ...short, host: 'elsewhere' })).rejects.toMatchObject({ code: 'RUN_IN_PROGRESS' });
        expect(lost).toEqual([]);
        // Someone replaces it behind the heartbeat's back (as a takeover after a long stall would).
        expect(await stores[1].putLease(lease(name, 'beat_r3', 'thief'), mine.token)).toBe(true);
        await new Promise((r) => setTimeout(r, 800));
        expect(lost).toEqual(['RUN_LEASE_LOST']);
      } finally {
        stop();
      }
    });
  });
});
