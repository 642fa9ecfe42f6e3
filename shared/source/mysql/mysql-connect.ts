import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import mysql from 'mysql2';
import { configError } from '../../errors/rivet-error.js';
import type { Logger } from '../../log/logger.js';
import { registerSecret } from '../../log/redact.js';
import type { SourceConnection, TlsOptions } from '../source.js';
import { mysqlConnectError } from './mysql-errors.js';
import { mysqlUrlTlsMode } from './mysql-url-tls.js';

export const CONNECT_TIMEOUT_MS = 10_000;

type SslOptions = NonNullable<mysql.ConnectionOptions['ssl']>;

/** An open connection and what rivet needs to know about its server. */
export interface MysqlSession {
  conn: mysql.Connection;
  /** MariaDB or MySQL: they differ in the statement-timeout variable and in JSON. */
  mariadb: boolean;
  version: string;
}

/** The effective TLS options: the `tls:` block when given, else the URL's ssl-mode, else plaintext. */
export function effectiveMysqlTls(connection: SourceConnection): TlsOptions {
  if (connection.tls) return connection.tls;
  try {
    const mode = mysqlUrlTlsMode(new URL(connection.url));
    if (mode) return { mode };
  } catch {
    // reported by the URL parser below
  }
  return { mode: 'disable' };
}

/** Map rivet TLS options onto mysql2's `ssl` option (undefined = plain TCP). */
export function mysqlSslOptions(tls: TlsOptions): SslOptions | undefined {
  if (tls.mode === 'disable') return undefined;
  if (tls.mode === 'require') return { rejectUnauthorized: false, verifyIdentity: false };
  const ssl: SslOptions = {
    rejectUnauthorized: !tls.accept_invalid_certs,
    verifyIdentity: tls.mode === 'verify-full' && !tls.accept_invalid_hostnames && !tls.accept_invalid_certs,
  };
  if (tls.ca_file) {
    let pem: string;
    try {
      pem = readFileSync(tls.ca_file, 'utf8');
    } catch (e) {
      throw configError(`cannot read tls.ca_file '${tls.ca_file}': ${(e as Error).message}`, 'point tls.ca_file at a readable PEM file', e);
    }
    // An extra trusted root, not a replacement for the system store.
    ssl.ca = [...rootCertificates, pem];
  }
  return ssl;
}

/** mysql2 connection options from a `mysql://user:pass@host:port/db?socket=…` URL. */
export function mysqlConnectionOptions(connection: SourceConnection): mysql.ConnectionOptions {
  let u: URL;
  try {
    u = new URL(connection.url);
  } catch {
    throw configError('source: the MySQL URL cannot be parsed', 'use mysql://user:password@host:3306/database');
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw configError(`source: a MySQL source URL must start with mysql:// (got ${u.protocol}//)`, 'use mysql://user:password@host:3306/database');
  }
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  if (password) registerSecret(password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const socketPath = u.searchParams.get('socket') ?? undefined;
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port: u.port ? Number(u.port) : 3306,
    ...(socketPath ? { socketPath } : {}),
    user: decodeURIComponent(u.username),
    password,
    database: database || undefined,
    ssl: mysqlSslOptions(effectiveMysqlTls(connection)),
    connectTimeout: CONNECT_TIMEOUT_MS,
    charset: 'UTF8MB4_GENERAL_CI',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    multipleStatements: false,
  };
}

function connectOnce(options: mysql.ConnectionOptions): Promise<mysql.Connection> {
  return new Promise((resolve, reject) => {
    const conn = mysql.createConnection(options);
    conn.connect((err) => {
      if (err) {
        conn.destroy();
        reject(err);
      } else resolve(conn);
    });
  });
}

export function queryAsync<T = unknown>(conn: mysql.Connection, sql: string): Promise<T> {
  return new Promise((resolve, reject) => {
    conn.query(sql, (err, rows) => (err ? reject(err) : resolve(rows as T)));
  });
}

/**
 * Connect, then fix the session so values are independent of server defaults: UTC time zone
 * (TIMESTAMP values are read and compared in UTC), utf8mb4 on the wire.
 */
export async function connectMysql(connection: SourceConnection, log: Logger): Promise<MysqlSession> {
  const options = mysqlConnectionOptions(connection);
  let conn: mysql.Connection;
  try {
    conn = await connectOnce(options);
  } catch (e) {
    throw mysqlConnectError(e, connection.url);
  }
  conn.on('error', (e: Error) => log.debug(`MySQL connection error: ${e.message}`));
  try {
    await queryAsync(conn, "SET time_zone = '+00:00', NAMES utf8mb4");
    const rows = await queryAsync<{ v: string }[]>(conn, 'SELECT VERSION() AS v');
    const version = String(rows[0]?.v ?? '');
    return { conn, mariadb: /mariadb/i.test(version), version };
  } catch (e) {
    conn.destroy();
    throw mysqlConnectError(e, connection.url);
  }
}
