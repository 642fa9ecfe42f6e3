import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { RivetError, errorChain } from '../errors/rivet-error.js';
import { redact } from '../log/redact.js';
import type { Logger } from '../log/logger.js';
import type { RunLease } from '../state/lease-store.js';
import type { StateStore } from '../state/state-store.js';
import type { Failure } from './run-plan.js';

/**
 * The per-export run lease (docs/adr/0008-run-lease.md): taken by the planner before it
 * writes anything, kept alive while the run lives, given back by the finalizer. A second
 * run of the same export is refused up front; a holder that died is taken over once its
 * lease expires, or at once when it was a process on this host that no longer exists.
 *
 * Times come from the real clock, never from `deps.now()`: a planner's `now` may be pinned to
 * the scheduled time of the run (`requestedAt`).
 */

const DEFAULT_TTL_S = 60;

export interface LeaseSettings {
  ttlMs: number;
  host: string;
  /** Null where no process lives as long as the run (Lambda): only the expiry can free the lease. */
  pid: number | null;
}

/** `RIVET_LEASE_TTL_S` (default 60; the CDK stack sets it to outlast a worker invocation and its retry delay). */
export function leaseSettings(env: NodeJS.ProcessEnv = process.env): LeaseSettings {
  const raw = env.RIVET_LEASE_TTL_S?.trim();
  const ttl = raw ? Number(raw) : DEFAULT_TTL_S;
  if (!Number.isFinite(ttl) || ttl < 1) {
    throw new RivetError('CONFIG_INVALID', `RIVET_LEASE_TTL_S must be a number of seconds ≥ 1 (got '${raw}')`, {
      hint: 'unset it for the default of 60 s',
    });
  }
  const lambda = env.AWS_LAMBDA_FUNCTION_NAME;
  return lambda ? { ttlMs: ttl * 1000, host: `lambda:${lambda}`, pid: null } : { ttlMs: ttl * 1000, host: hostname(), pid: process.pid };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Why a holder no longer counts, or null while it may still be running. */
function holderGone(lease: RunLease, me: LeaseSettings, nowMs: number): string | null {
  const expires = Date.parse(lease.expiresAt);
  if (!Number.isFinite(expires) || expires <= nowMs) return `its lease expired at ${lease.expiresAt}`;
  if (lease.pid !== null && me.pid !== null && lease.host === me.host && lease.pid !== process.pid && !processAlive(lease.pid)) {
    return `process ${lease.pid} on ${lease.host} no longer exists`;
  }
  return null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describeHolder(l: RunLease): string {
  return `run ${l.runId} on ${l.host}${l.pid !== null ? ` (pid ${l.pid})` : ''} since ${l.acquiredAt}`;
}

export function runInProgressError(exportName: string, holder: RunLease): RivetError {
  return new RivetError('RUN_IN_PROGRESS', `export '${exportName}': another run of this export is in progress: ${describeHolder(holder)}; this run was refused before writing anything`, {
    hint:
      `wait for that run to finish and run again. If it is gone, its lease lapses at ${holder.expiresAt}` +
      `${holder.pid !== null ? ' (at once, if it was a process on this host)' : ''} and the next run takes over`,
  });
}

/**
 * Take the export's lease for `runId`, or throw RUN_IN_PROGRESS naming the holder. A dead
 * holder's lease is replaced by compare-and-set on its token, so of two runs taking it over
 * at once exactly one wins; the other looks again and finds the winner.
 */
export async function acquireRunLease(
  state: StateStore,
  exportName: string,
  runId: string,
  log: Logger,
  settings: LeaseSettings = leaseSettings(),
): Promise<RunLease> {
  let holder: RunLease | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = Date.now();
    const lease: RunLease = {
      exportName,
      runId,
      token: randomBytes(12).toString('hex'),
      host: settings.host,
      pid: settings.pid,
      acquiredAt: iso(now),
      expiresAt: iso(now + settings.ttlMs),
    };
    holder = await state.getLease(exportName);
    if (!holder) {
      if (await state.putLease(lease, null)) return lease;
      continue;
    }
    const gone = holderGone(holder, settings, now);
    if (!gone) throw runInProgressError(exportName, holder);
    if (await state.putLease(lease, holder.token)) {
      log.warn(`export '${exportName}': took over the run lease of ${describeHolder(holder)}: ${gone}; its unfinished parts stay untracked`);
      return lease;
    }
  }
  // Only reachable when the lease changes hands on every look: someone else is busy with it.
  throw runInProgressError(exportName, holder ?? (await state.getLease(exportName))!);
}

/** The run's lease is no longer its own: another run took it over (it had expired), or it was released. */
export async function leaseLostError(state: StateStore, exportName: string, runId: string): Promise<RivetError> {
  const now = await state.getLease(exportName).catch(() => null);
  return new RivetError(
    'RUN_LEASE_LOST',
    `export '${exportName}': run ${runId} lost its run lease${now && now.runId !== runId ? ` to ${describeHolder(now)}` : ''}; it stopped without committing`,
    { hint: 'the lease expired while this run could not renew it (a stalled process or an unreachable state store); raise RIVET_LEASE_TTL_S if that was a long pause, then run again' },
  );
}

/** Extend the lease; throws RUN_LEASE_LOST when the run no longer holds it. */
export async function renewRunLease(
  state: StateStore,
  run: { exportName: string; runId: string; leaseToken: string },
  settings: LeaseSettings = leaseSettings(),
): Promise<void> {
  if (!(await state.renewLease(run.exportName, run.leaseToken, iso(Date.now() + settings.ttlMs)))) {
    throw await leaseLostError(state, run.exportName, run.runId);
  }
}

/** Give the lease back. Never throws: a lease left behind lapses at its expiry. */
export async function releaseRunLease(state: StateStore, run: { exportName: string; runId: string; leaseToken: string }, log: Logger): Promise<void> {
  try {
    await state.releaseLease(run.exportName, run.leaseToken);
  } catch (e) {
    log.warn(`export '${run.exportName}': could not release the run lease of ${run.runId} (${redact(errorChain(e))}); the next run takes it over once it expires`);
  }
}

/**
 * Renew the lease every third of its lifetime while an in-process run works. `onLost` is
 * called once when the lease turns out to be someone else's; a renewal that fails for
 * another reason (state store briefly unreachable) is only logged and retried next beat.
 */
export function keepLeaseAlive(
  state: StateStore,
  run: { exportName: string; runId: string; leaseToken?: string },
  log: Logger,
  onLost: (failure: Failure) => void,
  settings: LeaseSettings = leaseSettings(),
): () => void {
  const token = run.leaseToken;
  if (!token) return () => {};
  let stopped = false;
  const beat = async () => {
    try {
      await renewRunLease(state, { exportName: run.exportName, runId: run.runId, leaseToken: token }, settings);
    } catch (e) {
      if (stopped) return;
      if (e instanceof RivetError && e.code === 'RUN_LEASE_LOST') {
        stop();
        onLost({ code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
      } else {
        log.warn(`export '${run.exportName}': could not renew the run lease (${redact(errorChain(e))}); retrying`);
      }
    }
  };
  const timer = setInterval(() => void beat(), Math.max(200, Math.floor(settings.ttlMs / 3)));
  timer.unref();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  return stop;
}
