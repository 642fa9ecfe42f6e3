import { isRivetError, RivetError } from '../../errors/rivet-error.js';
import { redact } from '../../log/redact.js';
import { AFTER_1S, PERMANENT, RECONNECT, RECONNECT_LATER, SAME_CONNECTION, type ErrorClass } from '../error-class.js';

/** The server-reported part of a pg error: SQLSTATE and friends. */
interface PgServerError {
  code: string;
  message: string;
  severity?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

/** A server ErrorResponse (not a Node socket error, whose `code` is e.g. `EPIPE`). */
export function isPgServerError(e: unknown): e is Error & PgServerError {
  return (
    e instanceof Error &&
    typeof (e as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((e as unknown as { code: string }).code) &&
    typeof (e as { severity?: unknown }).severity === 'string'
  );
}

function messageChain(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur; i++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') parts.push(code);
    cur = cur instanceof Error ? (cur as { cause?: unknown }).cause : undefined;
  }
  return parts.join(' ').toLowerCase();
}

function serverErrorIn(e: unknown): PgServerError | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur; i++) {
    if (isPgServerError(cur)) return cur;
    cur = cur instanceof Error ? (cur as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}

/**
 * Classify an error for the retry loop (docs/modes.md), first match wins: PostgreSQL SQLSTATE when
 * the server sent one (also when wrapped in a RivetError's cause), else message substrings.
 * Anything unrecognised is permanent: retrying an unknown failure risks repeating it.
 */
export function classifyPgError(err: unknown): ErrorClass {
  const server = serverErrorIn(err);
  if (server) {
    const code = server.code;
    const cls = code.slice(0, 2);
    switch (code) {
      case '57P01': // admin_shutdown
      case '57P02': // crash_shutdown
      case '57P03': // cannot_connect_now
      case '53300': // too_many_connections
        return RECONNECT_LATER;
      case '40001': // serialization_failure
      case '40P01': // deadlock_detected
        return AFTER_1S;
      case '57014': // query_canceled (statement_timeout among others)
        return SAME_CONNECTION;
    }
    if (cls === '08') return RECONNECT;
    if (cls === '53') return { transient: true, reconnect: false, extraDelayMs: 5_000 };
    return PERMANENT;
  }
  if (isRivetError(err) && !(err as { cause?: unknown }).cause) {
    // Our own errors (bad config, unsupported types, oversized values) never heal on retry.
    return PERMANENT;
  }
  const m = messageChain(err);
  const has = (...subs: string[]) => subs.some((s) => m.includes(s));
  if (has('credential', 'authentication', 'auth ', 'permission', 'access denied', 'invalid_grant', 'expired token', 'token expired', 'password')) {
    return PERMANENT;
  }
  if (has('(temporary)', 'dispatch task is gone', 'dispatch-task', 'error sending request', 'send request')) {
    return { transient: true, reconnect: false, extraDelayMs: 500 };
  }
  if (has('too many connections', 'starting up', 'shutting down')) return RECONNECT_LATER;
  if (
    has(
      'connection reset',
      'econnreset',
      'broken pipe',
      'epipe',
      'refused',
      'econnrefused',
      'no route',
      'ehostunreach',
      'unreachable',
      'enetunreach',
      'name resolution',
      'enotfound',
      'eai_again',
      'dns',
      'ssl handshake',
      'i/o timeout',
      'unexpected eof',
      'closed unexpectedly',
      'connection terminated',
      'not queryable',
      'communication packets',
      'gone away',
      'lost connection',
      "can't connect",
      'cannot connect',
      'socket hang up',
    )
  ) {
    return RECONNECT;
  }
  if (has('timed out', 'timeout', 'canceling statement', 'lock wait timeout', 'execution time exceeded')) return SAME_CONNECTION;
  if (has('deadlock', 'could not serialize')) return AFTER_1S;
  return PERMANENT;
}

/** `host:port` of a connection URL, never its credentials. */
export function pgEndpoint(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    return `${host}:${u.port || '5432'}`;
  } catch {
    return 'the configured host';
  }
}

function reasonOf(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const msg = e instanceof Error ? e.message : String(e);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name could not be resolved (DNS: ${code})`;
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ECONNRESET':
      return 'connection reset by the server';
  }
  if (/timeout/i.test(msg)) return 'connection timed out';
  if (msg === 'Connection terminated unexpectedly') return 'the server closed the connection during start-up';
  // AggregateError from happy-eyeballs has an empty message: fall back to its first error.
  const inner = (e as { errors?: unknown[] })?.errors?.[0];
  if (!msg && inner) return reasonOf(inner);
  // Node's host-name mismatch message ends in the (possibly empty) list of names: "…list: ".
  const tidy = msg.replace(/[:\s]+$/, '');
  return tidy ? `${tidy}${/^ERR_TLS|^CERT_|^DEPTH_|^UNABLE_|SELF_SIGNED/.test(String(code)) ? ` (TLS: ${String(code)})` : ''}` : String(code ?? 'unknown error');
}

/** Why a connection attempt failed, as one redacted line with a code and a hint. */
export function pgConnectError(err: unknown, url: string): RivetError {
  if (isRivetError(err)) return err;
  const where = `cannot connect to PostgreSQL at ${pgEndpoint(url)}`;
  const server = serverErrorIn(err);
  if (server) {
    const cls = server.code.slice(0, 2);
    if (cls === '28') {
      return new RivetError('SOURCE_CONNECT', redact(`${where}: ${server.message} (SQLSTATE ${server.code})`), {
        hint: 'check the user name and password in the source URL (or the password env/file it comes from), and that pg_hba.conf lets this user connect from here',
        cause: err,
      });
    }
    if (server.code === '3D000') {
      return new RivetError('SOURCE_CONNECT', redact(`${where}: ${server.message} (SQLSTATE ${server.code})`), {
        hint: 'check the database name at the end of the source URL',
        cause: err,
      });
    }
    return new RivetError('SOURCE_CONNECT', redact(`${where}: ${server.message} (SQLSTATE ${server.code})`), {
      hint: 'check the source URL and that the server accepts connections',
      cause: err,
    });
  }
  const reason = reasonOf(err);
  const tlsHint = /ssl|tls|certificate|cert_|self.signed|altname|hostname\/ip/i.test(reason)
    ? 'check the source tls settings: mode (disable, require, verify-ca, verify-full), ca_file, and whether the server offers TLS'
    : undefined;
  return new RivetError('SOURCE_CONNECT', redact(`${where}: ${reason}`), {
    hint: tlsHint ?? 'check the host and port in the source URL, that the server is running, and that a firewall lets this machine reach it',
    cause: err,
  });
}

export interface QueryErrorContext {
  /** The user's SQL, to turn server positions into positions in it. */
  sql?: string;
  /** Characters the user's SQL was shifted by when rivet wrapped it. */
  sqlOffset?: number;
  /** What was being done, e.g. `reading the query`. */
  action?: string;
}

/** A failed statement as one redacted line: missing relations get their own code. */
export function pgQueryError(err: unknown, ctx: QueryErrorContext = {}): RivetError {
  if (isRivetError(err)) return err;
  const server = serverErrorIn(err);
  const action = ctx.action ? `${ctx.action}: ` : '';
  if (!server) {
    const reason = reasonOf(err);
    return new RivetError('SOURCE_QUERY', redact(`PostgreSQL ${action}${reason}`), {
      hint: /connection|terminated|reset|closed/i.test(reason) ? 'the connection to PostgreSQL was lost; rerun or let the retry policy retry' : undefined,
      cause: err,
    });
  }
  if (server.code === '42P01') {
    const name = /relation "([^"]+)" does not exist/.exec(server.message)?.[1];
    return new RivetError('SOURCE_TABLE_NOT_FOUND', redact(`PostgreSQL ${action}table ${name ? `"${name}" ` : ''}does not exist (SQLSTATE 42P01)`), {
      hint: 'check the export\'s `table:` (or the FROM clause of its query), including the schema (e.g. `public.orders`), and that this user can see it',
      cause: err,
    });
  }
  let where = '';
  const pos = Number(server.position);
  if (ctx.sql !== undefined && Number.isInteger(pos) && pos > 0) {
    const inSql = pos - (ctx.sqlOffset ?? 0);
    if (inSql >= 1 && inSql <= ctx.sql.length) where = ` at character ${inSql} of the query`;
  }
  const detail = server.detail ? ` (${server.detail})` : '';
  let hint = server.hint;
  if (server.code === '57014' && /statement timeout/i.test(server.message)) {
    hint = 'the query ran longer than tuning.statement_timeout_s; raise it (0 = no limit) or make the query cheaper';
  } else if (server.code === '55P03' || /lock timeout/i.test(server.message)) {
    hint = 'a lock was held longer than tuning.lock_timeout_s; retry later or raise the limit';
  }
  return new RivetError('SOURCE_QUERY', redact(`PostgreSQL ${action}${server.message}${where}${detail} (SQLSTATE ${server.code})`), {
    hint: hint ? redact(hint) : undefined,
    cause: err,
  });
}
