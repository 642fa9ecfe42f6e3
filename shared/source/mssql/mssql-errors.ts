import { isRivetError, RivetError } from '../../errors/rivet-error.js';
import { redact } from '../../log/redact.js';
import { AFTER_1S, PERMANENT, RECONNECT, RECONNECT_LATER, SAME_CONNECTION, type ErrorClass } from '../error-class.js';
import { mssqlEndpoint } from './mssql-url.js';

const AFTER_5S: ErrorClass = { transient: true, reconnect: false, extraDelayMs: 5_000 };

/** SQL Server error numbers rivet treats specially. */
export const MssqlErrorNumber = {
  DEADLOCK_VICTIM: 1205,
  LOCK_TIMEOUT: 1222,
  INVALID_OBJECT: 208,
  LOGIN_FAILED: 18456,
  CANNOT_OPEN_DATABASE: 4060,
  SNAPSHOT_DDL_CONFLICT: 3961,
  INSUFFICIENT_MEMORY: 701,
  MEMORY_GRANT_TIMEOUT: 8645,
  SERVER_PAUSED: 17142,
  NOT_ACCEPTING_CONNECTIONS: 17187,
  TRANSPORT_ERROR: 233,
} as const;

/** Azure SQL / failover "try again" numbers (the list Microsoft's own clients retry). */
const RETRY_LATER_NUMBERS = new Set([4060, 10928, 10929, 40197, 40501, 40613, 49918, 49919, 49920, 17142, 17187, 17197]);
/** Transport-level failures reported by the server side of the socket. */
const CONNECTION_NUMBERS = new Set([233, 64, 10053, 10054, 10060, 121]);

const SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** What tedious puts on its errors: `code` (ESOCKET, ELOGIN, ETIMEOUT, EREQUEST…) and, for server errors, `number`. */
interface TediousErrorShape {
  code?: string;
  number?: number;
  state?: number;
  class?: number;
  message: string;
  cause?: unknown;
  errors?: unknown[];
}

function chain(e: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur; i++) {
    out.push(cur);
    const inner = (cur as TediousErrorShape).errors;
    if (Array.isArray(inner)) out.push(...inner.slice(0, 4));
    cur = cur instanceof Error ? (cur as TediousErrorShape).cause : undefined;
  }
  return out;
}

function serverNumber(e: unknown): number | undefined {
  for (const c of chain(e)) {
    const n = (c as TediousErrorShape)?.number;
    if (typeof n === 'number' && n > 0) return n;
  }
  return undefined;
}

function codes(e: unknown): string[] {
  return chain(e)
    .map((c) => (c as TediousErrorShape)?.code)
    .filter((c): c is string => typeof c === 'string');
}

/**
 * Classify an error for the retry loop (docs/modes.md): the server's error number when there is
 * one, else tedious's and the socket's codes. Unknown: permanent.
 */
export function classifyMssqlError(err: unknown): ErrorClass {
  const n = serverNumber(err);
  if (n !== undefined) {
    if (n === MssqlErrorNumber.DEADLOCK_VICTIM || n === MssqlErrorNumber.SNAPSHOT_DDL_CONFLICT) return AFTER_1S;
    if (n === MssqlErrorNumber.LOCK_TIMEOUT) return SAME_CONNECTION;
    if (n === MssqlErrorNumber.INSUFFICIENT_MEMORY || n === MssqlErrorNumber.MEMORY_GRANT_TIMEOUT) return AFTER_5S;
    if (RETRY_LATER_NUMBERS.has(n)) return RECONNECT_LATER;
    if (CONNECTION_NUMBERS.has(n)) return RECONNECT;
    return PERMANENT;
  }
  if (isRivetError(err) && !(err as { cause?: unknown }).cause) return PERMANENT;
  const cs = codes(err);
  if (cs.includes('ELOGIN') || cs.includes('ECANCEL') || cs.includes('EINSTLOOKUP')) return PERMANENT;
  if (cs.some((c) => SOCKET_CODES.has(c)) || cs.includes('ESOCKET') || cs.includes('ECLOSE') || cs.includes('ECONNCLOSED')) return RECONNECT;
  // A request timeout is cancelled cleanly and leaves the connection usable.
  if (cs.includes('ETIMEOUT')) return chain(err).some((c) => (c as Error)?.constructor?.name === 'ConnectionError') ? RECONNECT : SAME_CONNECTION;
  const m = chain(err)
    .map((c) => (c instanceof Error ? c.message : String(c)))
    .join(' ')
    .toLowerCase();
  if (/connection (was )?(lost|closed|reset)|socket hang up|closed before request completed/.test(m)) return RECONNECT;
  return PERMANENT;
}

function reasonOf(e: unknown): string {
  const cs = codes(e);
  if (cs.includes('ECONNREFUSED')) return 'connection refused';
  if (cs.includes('ENOTFOUND') || cs.includes('EAI_AGAIN')) return `host name could not be resolved (DNS: ${cs.includes('ENOTFOUND') ? 'ENOTFOUND' : 'EAI_AGAIN'})`;
  if (cs.includes('EHOSTUNREACH') || cs.includes('ENETUNREACH')) return 'host unreachable';
  if (cs.includes('ECONNRESET')) return 'connection reset by the server';
  if (cs.includes('ETIMEOUT') || cs.includes('ETIMEDOUT')) return 'connection timed out';
  if (cs.includes('EINSTLOOKUP')) return `the named instance could not be found through the SQL Browser service (${(e as Error).message})`;
  const msg = e instanceof Error ? e.message : String(e);
  return msg || 'unknown error';
}

/** Why a connection attempt failed, as one redacted line naming host and port, with a hint. */
export function mssqlConnectError(err: unknown, url: string): RivetError {
  if (isRivetError(err)) return err;
  const where = `cannot connect to SQL Server at ${mssqlEndpoint(url)}`;
  const cs = codes(err);
  const n = serverNumber(err);
  if (cs.includes('ELOGIN') || n === MssqlErrorNumber.LOGIN_FAILED) {
    return new RivetError('SOURCE_CONNECT', redact(`${where}: ${(err as Error).message}`), {
      hint: 'check the user name and password in the source URL (or the env var/file it comes from), that SQL Server authentication is enabled, and that the login may open this database',
      cause: err,
    });
  }
  const reason = reasonOf(err);
  const tls = /ssl|tls|certificate|self.signed|altname|hostname|unable to verify|secure connection/i.test(reason);
  return new RivetError('SOURCE_CONNECT', redact(`${where}: ${reason}`), {
    hint: tls
      ? 'the server certificate was rejected: set `source.tls.ca_file` to the CA that signed it, or `tls: { accept_invalid_certs: true }` to trust any certificate (encryption stays on)'
      : 'check the host and port (or \\instance) in the source URL, that SQL Server is running with TCP/IP enabled, and that a firewall lets this machine reach it',
    cause: err,
  });
}

export interface QueryErrorContext {
  /** What was being done, e.g. `reading the query`. */
  action?: string;
}

/** A failed statement as one redacted line: missing tables get their own code, timeouts a hint. */
export function mssqlQueryError(err: unknown, ctx: QueryErrorContext = {}): RivetError {
  if (isRivetError(err)) return err;
  const action = ctx.action ? `${ctx.action}: ` : '';
  const e = err as TediousErrorShape;
  const n = serverNumber(err);
  const cs = codes(err);
  const text = `SQL Server ${action}${e?.message ?? String(err)}${n !== undefined ? ` (error ${n}${e.state !== undefined ? `, state ${e.state}` : ''})` : ''}`;
  if (n === MssqlErrorNumber.INVALID_OBJECT) {
    return new RivetError('SOURCE_TABLE_NOT_FOUND', redact(text), {
      hint: "check the export's `table:` (or the FROM clause of its query), including the schema (e.g. `dbo.orders`), and that this login can see it",
      cause: err,
    });
  }
  let hint: string | undefined;
  if (cs.includes('ETIMEOUT')) hint = 'the query ran longer than tuning.statement_timeout_s; raise it (0 = no limit) or make the query cheaper';
  else if (n === MssqlErrorNumber.LOCK_TIMEOUT) hint = 'a lock was held longer than tuning.lock_timeout_s; retry later or raise the limit';
  else if (n === MssqlErrorNumber.DEADLOCK_VICTIM) hint = 'the read was chosen as a deadlock victim; the retry policy retries it';
  else if (n === 1033) hint = 'SQL Server does not allow ORDER BY inside a subquery; remove it from the query (rivet orders where it needs to)';
  else if (n === 8155) hint = 'every column of the query needs a name when rivet wraps it as a subquery: add `AS name` to computed columns';
  else if (n === 319 || (n === 156 && /keyword 'with'/i.test(e?.message ?? ''))) hint = 'a query starting with WITH (a CTE) cannot be wrapped as a subquery by rivet; rewrite it with a derived table';
  else if (cs.includes('ESOCKET') || cs.includes('ECLOSE')) hint = 'the connection to SQL Server was lost; rerun or let the retry policy retry';
  return new RivetError('SOURCE_QUERY', redact(text), { hint, cause: err });
}
