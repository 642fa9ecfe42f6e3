import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Connection, Request, type ConnectionConfiguration } from 'tedious';
import { configError, RivetError } from '../../errors/rivet-error.js';
import type { Logger } from '../../log/logger.js';
import { registerSecret } from '../../log/redact.js';
import type { SourceConnection, TlsOptions } from '../source.js';
import { installExactDecimals } from './mssql-exact-decimals.js';
import { mssqlConnectError } from './mssql-errors.js';
import { mssqlEndpoint, parseMssqlUrl, type MssqlUrl } from './mssql-url.js';

export const MSSQL_CONNECT_TIMEOUT_MS = 15_000;

/** What tedious needs to know about TLS. */
export interface MssqlTlsSettings {
  encrypt: true | 'strict';
  trustServerCertificate: boolean;
  /** Extra trust roots (system store + `tls.ca_file`); absent = Node's default store. */
  ca?: string[];
}

/**
 * docs/reference/config.md for SQL Server: the connection is always encrypted; what varies is whether
 * the server certificate is checked.
 * - no `tls:` block → any certificate is accepted (SQL Server ships with a self-signed one),
 *   unless the URL says `trustServerCertificate=false`;
 * - `mode: disable` or `require` → encrypted, any certificate (rivet's meaning of `require`);
 * - `verify-ca` / `verify-full` → chain and host name are verified against the system store
 *   plus `ca_file` (tedious cannot skip only the host-name check, so `verify-ca` and
 *   `accept_invalid_hostnames` verify the host name too; `accept_invalid_certs` trusts any);
 * - `accept_invalid_certs: true` → any certificate, whatever the mode.
 */
export function mssqlTlsSettings(tls: TlsOptions | undefined, url: Pick<MssqlUrl, 'encrypt' | 'trustServerCertificate'>): MssqlTlsSettings {
  const encrypt = url.encrypt ?? true;
  if (!tls) return { encrypt, trustServerCertificate: url.trustServerCertificate ?? true };
  const trustAny = tls.accept_invalid_certs === true || tls.mode === 'disable' || tls.mode === 'require';
  if (trustAny) return { encrypt, trustServerCertificate: true };
  const out: MssqlTlsSettings = { encrypt, trustServerCertificate: false };
  if (tls.ca_file) {
    let pem: string;
    try {
      pem = readFileSync(tls.ca_file, 'utf8');
    } catch (e) {
      throw configError(`tls: the CA file '${tls.ca_file}' cannot be read: ${(e as Error).message}`, 'point tls.ca_file at a readable PEM file', e);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw configError(`tls: the CA file '${tls.ca_file}' is not valid PEM (no BEGIN CERTIFICATE block)`, 'tls.ca_file must hold one or more PEM certificates');
    }
    // An extra trusted root, not a replacement for the system store.
    out.ca = [...rootCertificates, pem];
  }
  return out;
}

/** tedious configuration for a source URL and TLS options. Registers the password for redaction. */
export function mssqlConnectionConfig(connection: SourceConnection): ConnectionConfiguration {
  const u = parseMssqlUrl(connection.url);
  if (u.password) registerSecret(u.password);
  const tls = mssqlTlsSettings(connection.tls, u);
  return {
    server: u.host,
    authentication: { type: 'default', options: { userName: u.user, password: u.password } },
    options: {
      // With an explicit port the instance is reached directly (tedious refuses both at once).
      ...(u.port !== undefined ? { port: u.port } : { instanceName: u.instanceName }),
      database: u.database,
      encrypt: tls.encrypt,
      trustServerCertificate: tls.trustServerCertificate,
      ...(tls.ca ? { cryptoCredentialsDetails: { ca: tls.ca } } : {}),
      connectTimeout: u.connectTimeoutMs ?? MSSQL_CONNECT_TIMEOUT_MS,
      // No driver-wide statement timeout: rivet sets one per read (tuning.statement_timeout_s).
      requestTimeout: 0,
      cancelTimeout: 5_000,
      // Rows arrive as arrays in column order, one `row` event each; nothing is collected.
      useColumnNames: false,
      rowCollectionOnRequestCompletion: false,
      rowCollectionOnDone: false,
      // Temporal values are read as wall clock (UTC fields of the JS Date), never local time.
      useUTC: true,
      lowerCaseGuids: true,
      appName: 'rivet',
      // (max) types arrive whole; the per-value ceiling (tuning.max_value_mb) guards memory.
      textsize: 2147483647,
      abortTransactionOnError: true,
      enableArithAbort: true,
    },
  };
}

/** Open one tedious connection; failures become one redacted line naming host and port. */
export async function connectMssql(connection: SourceConnection, log: Logger): Promise<Connection> {
  installExactDecimals();
  const config = mssqlConnectionConfig(connection);
  const conn = new Connection(config);
  try {
    await new Promise<void>((resolve, reject) => {
      conn.connect((err) => (err ? reject(err) : resolve()));
    });
  } catch (e) {
    conn.close();
    throw mssqlConnectError(e, connection.url);
  }
  // With `encrypt: true` tedious carries on in clear text when the server's prelogin says it
  // does not support encryption; rivet promises an encrypted connection, so it refuses.
  // (`encrypt=strict` starts TLS before any TDS byte and cannot be downgraded.)
  const io = (conn as unknown as { messageIo?: { tlsNegotiationComplete?: unknown } }).messageIo;
  if (config.options?.encrypt === true && typeof io?.tlsNegotiationComplete === 'boolean' && !io.tlsNegotiationComplete) {
    conn.close();
    throw new RivetError('SOURCE_CONNECT', `cannot connect to SQL Server at ${mssqlEndpoint(connection.url)}: the server did not negotiate TLS`, {
      hint: 'rivet always encrypts SQL Server connections; enable encryption on the server (every SQL Server supports it, with a self-signed certificate by default)',
    });
  }
  conn.on('error', (e: Error) => log.debug(`SQL Server connection error: ${e.message}`));
  return conn;
}

/** Run a statement that returns no rows we need (SET …, USE …). */
export function execBatch(conn: Connection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.execSqlBatch(new Request(sql, (err) => (err ? reject(err) : resolve())));
  });
}

/** Run a small query and return its rows as arrays of driver values (probes only: rows are collected). */
export function queryRows(conn: Connection, sql: string): Promise<unknown[][]> {
  return new Promise((resolve, reject) => {
    const rows: unknown[][] = [];
    const req = new Request(sql, (err) => (err ? reject(err) : resolve(rows)));
    req.on('row', (cols: { value: unknown }[]) => rows.push(cols.map((c) => c.value)));
    conn.execSqlBatch(req);
  });
}
