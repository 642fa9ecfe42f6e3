/**
 * The per-export run lease: at most one run of an export between plan and finalize. The
 * store only offers atomic primitives on one record per export; when a holder counts as gone
 * (expired, or a dead process on this host) is decided by shared/run/run-lease.ts, the same
 * way for every backend.
 */
export interface RunLease {
  exportName: string;
  /** The run holding the export. */
  runId: string;
  /** Random per acquisition: every renew and release names it, so nobody frees a lease they do not hold. */
  token: string;
  /** Who holds it, for the refusal message and the same-host liveness check. */
  host: string;
  /** The holder's process id, or null when no single process lives as long as the run (Lambda). */
  pid: number | null;
  /** RFC 3339 UTC. */
  acquiredAt: string;
  /** RFC 3339 UTC; renewed by the holder's heartbeat. Past it, another run may take the lease over. */
  expiresAt: string;
}

export interface LeaseStore {
  /** The export's lease, or null when nobody holds one. Expired leases are returned as they are. */
  getLease(exportName: string): Promise<RunLease | null>;
  /**
   * Store `lease` only if the export has no lease (`replacing` null) or its lease still has
   * the token `replacing` (a takeover of a lease judged dead). Compare-and-set: of two runs
   * trying at once, exactly one gets true.
   */
  putLease(lease: RunLease, replacing: string | null): Promise<boolean>;
  /** Move the expiry of the lease holding `token`; false when that lease is gone (released or taken over). */
  renewLease(exportName: string, token: string, expiresAt: string): Promise<boolean>;
  /** Delete the lease holding `token`; false when it was not (or no longer) held with it. */
  releaseLease(exportName: string, token: string): Promise<boolean>;
}
