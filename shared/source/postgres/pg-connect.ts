import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkServerIdentity, rootCertificates, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type pg from 'pg';
import { configError } from '../../errors/rivet-error.js';
import type { Logger } from '../../log/logger.js';
import { registerSecret } from '../../log/redact.js';
import type { SourceConnection, TlsOptions } from '../source.js';
import { pgConnectError } from './pg-errors.js';

export const CONNECT_TIMEOUT_MS = 10_000;

/** libpq TLS parameters: rivet's `tls:` block replaces them so there is one source of truth. */
const URL_TLS_PARAMS = ['sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslpassword', 'uselibpqcompat', 'sslnegotiation'];

/**
 * The effective TLS mode: the `tls:` block when given, else the URL's `sslmode`. libpq's
 * opportunistic modes (`allow`, `prefer`) have no equivalent in node-postgres and are read
 * as `disable`.
 */
export function effectiveTls(connection: SourceConnection): TlsOptions {
  if (connection.tls) return connection.tls;
  let sslmode: string | null = null;
  try {
    sslmode = new URL(connection.url).searchParams.get('sslmode');
  } catch {
    // An unparsable URL fails later with a clearer message from the driver.
  }
  switch (sslmode) {
    case 'require':
    case 'verify-ca':
    case 'verify-full':
      return { mode: sslmode };
    default:
      return { mode: 'disable' };
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM CA bundle; unreadable files and non-PEM content are config errors (docs/reference/config.md). */
export function readCaFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw configError(`tls: cannot read the CA file '${file}': ${(e as Error).message}`, 'point source.tls.ca_file at a readable PEM file', e);
  }
  const certs = text.match(PEM_CERT) ?? [];
  try {
    if (certs.length === 0) throw new Error('no BEGIN CERTIFICATE block found');
    for (const c of certs) new X509Certificate(c);
  } catch (e) {
    throw configError(`tls: the CA file '${file}' is not valid PEM: ${(e as Error).message}`, 'source.tls.ca_file must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----)', e);
  }
  return certs;
}

/** Map rivet TLS options onto Node TLS options for pg's `ssl` setting (false = plain TCP). */
export function pgSslOptions(tls: TlsOptions): false | ConnectionOptions {
  if (tls.mode === 'disable') return false;
  if (tls.mode === 'require') {
    // require trusts any certificate, but a broken ca_file is still a config mistake to report.
    if (tls.ca_file) readCaFile(tls.ca_file);
    return { rejectUnauthorized: false };
  }
  const opts: ConnectionOptions = { rejectUnauthorized: !tls.accept_invalid_certs };
  if (tls.ca_file) {
    // An extra trusted root, not a replacement for the system store.
    opts.ca = [...rootCertificates, ...readCaFile(tls.ca_file)];
  }
  if (tls.mode === 'verify-ca' || tls.accept_invalid_hostnames) {
    opts.checkServerIdentity = () => undefined;
  } else {
    opts.checkServerIdentity = (host: string, cert: PeerCertificate) => checkServerIdentity(host, cert);
  }
  return opts;
}

function stripTlsParams(url: string): string {
  try {
    const u = new URL(url);
    let changed = false;
    for (const p of URL_TLS_PARAMS) {
      if (u.searchParams.has(p)) {
        u.searchParams.delete(p);
        changed = true;
      }
    }
    return changed ? u.toString() : url;
  } catch {
    return url;
  }
}

function rememberPassword(url: string): void {
  try {
    const u = new URL(url);
    if (u.password) registerSecret(decodeURIComponent(u.password));
  } catch {
    // nothing to remember
  }
}

/**
 * Open one pg client for a source. Errors come back as SOURCE_CONNECT RivetErrors naming
 * host:port (never the URL). Socket errors after connecting are logged, not thrown from an
 * event handler: the statement in flight fails with them anyway.
 */
export async function connectPg(connection: SourceConnection, log: Logger): Promise<pg.Client> {
  rememberPassword(connection.url);
  const ssl = pgSslOptions(effectiveTls(connection));
  // Imported here: the TLS helpers above are also used by the PostgreSQL state store, which
  // must not load the driver for a process that never opens a PostgreSQL source.
  const { Client } = (await import('pg')).default;
  const client = new Client({
    connectionString: stripTlsParams(connection.url),
    ssl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'rivet',
    keepAlive: true,
  });
  client.on('error', (e) => log.debug(`PostgreSQL connection error: ${e.message}`));
  client.on('notice', (n) => log.debug(`PostgreSQL notice: ${n.message}`));
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => {});
    throw pgConnectError(e, connection.url);
  }
  return client;
}
