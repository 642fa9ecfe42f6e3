import { isRivetError, RivetError } from '../../errors/rivet-error.js';
import { redact } from '../../log/redact.js';
import { AFTER_1S, PERMANENT, RECONNECT, RECONNECT_LATER, SAME_CONNECTION, type ErrorClass } from '../error-class.js';

/** What mysql2 puts on a server error (ERR packet) or a socket error. */
interface MyError {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
  message: string;
}

function isServerError(e: unknown): e is Error & MyError {
  return e instanceof Error && typeof (e as MyError).errno === 'number' && typeof (e as MyError).sqlState === 'string';
}

function chain(e: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur; i++) {
    out.push(cur);
    cur = cur instanceof Error ? (cur as { cause?: unknown }).cause : undefined;
  }
  return out;
}

function serverErrorIn(e: unknown): (Error & MyError) | undefined {
  return chain(e).find(isServerError) as (Error & MyError) | undefined;
}

function codeIn(e: unknown): string | undefined {
  for (const c of chain(e)) {
    const code = (c as { code?: unknown })?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Server error numbers (MySQL and MariaDB share them up to 1xxx; 1969 is MariaDB's, 3024 MySQL's). */
const ER = {
  CON_COUNT: 1040,
  SERVER_SHUTDOWN: 1053,
  QUERY_INTERRUPTED: 1317,
  LOCK_WAIT_TIMEOUT: 1205,
  LOCK_DEADLOCK: 1213,
  NO_SUCH_TABLE: 1146,
  BAD_DB: 1049,
  ACCESS_DENIED: 1045,
  DBACCESS_DENIED: 1044,
  MARIADB_STATEMENT_TIMEOUT: 1969,
  MYSQL_QUERY_TIMEOUT: 3024,
  TOO_MANY_USER_CONNECTIONS: 1203,
} as const;

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
]);

/**
 * Classify an error for the retry loop (docs/modes.md): the server's error number when there is
 * one (also inside a RivetError's cause), else the driver's socket codes. Unknown: permanent.
 */
export function classifyMysqlError(err: unknown): ErrorClass {
  const server = serverErrorIn(err);
  if (server) {
    switch (server.errno) {
      case ER.CON_COUNT:
      case ER.TOO_MANY_USER_CONNECTIONS:
      case ER.SERVER_SHUTDOWN:
        return RECONNECT_LATER;
      case ER.LOCK_DEADLOCK:
        return AFTER_1S;
      case ER.LOCK_WAIT_TIMEOUT:
      case ER.MARIADB_STATEMENT_TIMEOUT:
      case ER.MYSQL_QUERY_TIMEOUT:
        return SAME_CONNECTION;
      case ER.QUERY_INTERRUPTED:
        // KILL QUERY from an administrator (or our own abort, which never reaches the retry loop).
        return RECONNECT;
    }
    if (server.sqlState?.startsWith('08')) return RECONNECT;
    return PERMANENT;
  }
  if (isRivetError(err) && !(err as { cause?: unknown }).cause) return PERMANENT;
  const code = codeIn(err);
  if (code && CONNECTION_CODES.has(code)) return RECONNECT;
  const m = chain(err)
    .map((c) => (c instanceof Error ? c.message : String(c)))
    .join(' ')
    .toLowerCase();
  if (/connection lost|closed state|gone away|lost connection|socket hang up/.test(m)) return RECONNECT;
  return PERMANENT;
}

/** `host:port` of a connection URL, never its credentials. */
export function mysqlEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '3306'}`;
  } catch {
    return 'the configured host';
  }
}

function reasonOf(e: unknown): string {
  const code = codeIn(e);
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
    case 'HANDSHAKE_NO_SSL_SUPPORT':
      return 'TLS was required but the server does not offer TLS';
  }
  const inner = (e as { errors?: unknown[] })?.errors?.[0];
  if (!msg && inner) return reasonOf(inner);
  return msg || String(code ?? 'unknown error');
}

/** Why a connection attempt failed, as one redacted line with a code and a hint. */
export function mysqlConnectError(err: unknown, url: string): RivetError {
  if (isRivetError(err)) return err;
  const where = `cannot connect to MySQL at ${mysqlEndpoint(url)}`;
  const server = serverErrorIn(err);
  if (server) {
    const text = `${where}: ${server.sqlMessage ?? server.message} (error ${server.errno}, SQLSTATE ${server.sqlState})`;
    if (server.errno === ER.ACCESS_DENIED || server.errno === ER.DBACCESS_DENIED) {
      return new RivetError('SOURCE_CONNECT', redact(text), {
        hint: "check the user name and password in the source URL (or the password env/file it comes from), and that the account may connect from this host ('user'@'host')",
        cause: err,
      });
    }
    if (server.errno === ER.BAD_DB) {
      return new RivetError('SOURCE_CONNECT', redact(text), { hint: 'check the database name at the end of the source URL', cause: err });
    }
    return new RivetError('SOURCE_CONNECT', redact(text), { hint: 'check the source URL and that the server accepts connections', cause: err });
  }
  const reason = reasonOf(err);
  const tls = /ssl|tls|certificate|cert_|self.signed|altname|hostname\/ip|secure connection/i.test(reason) || codeIn(err) === 'HANDSHAKE_NO_SSL_SUPPORT';
  return new RivetError('SOURCE_CONNECT', redact(`${where}: ${reason}`), {
    hint: tls
      ? 'check the source tls settings: mode (disable, require, verify-ca, verify-full), ca_file, and whether the server offers TLS'
      : 'check the host and port in the source URL, that the server is running, and that a firewall lets this machine reach it',
    cause: err,
  });
}

export interface QueryErrorContext {
  /** What was being done, e.g. `reading the query`. */
  action?: string;
}

/** A failed statement as one redacted line: missing tables get their own code, timeouts a hint. */
export function mysqlQueryError(err: unknown, ctx: QueryErrorContext = {}): RivetError {
  if (isRivetError(err)) return err;
  const action = ctx.action ? `${ctx.action}: ` : '';
  const server = serverErrorIn(err);
  if (!server) {
    const reason = reasonOf(err);
    return new RivetError('SOURCE_QUERY', redact(`MySQL ${action}${reason}`), {
      hint: /connection|closed|reset|lost/i.test(reason) ? 'the connection to MySQL was lost; rerun or let the retry policy retry' : undefined,
      cause: err,
    });
  }
  const text = `MySQL ${action}${server.sqlMessage ?? server.message} (error ${server.errno}, SQLSTATE ${server.sqlState})`;
  if (server.errno === ER.NO_SUCH_TABLE) {
    return new RivetError('SOURCE_TABLE_NOT_FOUND', redact(text), {
      hint: "check the export's `table:` (or the FROM clause of its query), including the database (e.g. `shop.orders`), and that this user can see it",
      cause: err,
    });
  }
  let hint: string | undefined;
  if (server.errno === ER.MARIADB_STATEMENT_TIMEOUT || server.errno === ER.MYSQL_QUERY_TIMEOUT) {
    hint = 'the query ran longer than tuning.statement_timeout_s; raise it (0 = no limit) or make the query cheaper';
  } else if (server.errno === ER.LOCK_WAIT_TIMEOUT) {
    hint = 'a lock was held longer than tuning.lock_timeout_s; retry later or raise the limit';
  }
  return new RivetError('SOURCE_QUERY', redact(text), { hint, cause: err });
}
