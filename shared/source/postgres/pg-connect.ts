import { readFileSync } from 'node:fs';
import { checkServerIdentity, rootCertificates, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import pg from 'pg';
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

/** Map rivet TLS options onto Node TLS options for pg's `ssl` setting (false = plain TCP). */
export function pgSslOptions(tls: TlsOptions): false | ConnectionOptions {
  if (tls.mode === 'disable') return false;
  if (tls.mode === 'require') return { rejectUnauthorized: false };
  const opts: ConnectionOptions = { rejectUnauthorized: !tls.accept_invalid_certs };
  if (tls.ca_file) {
    let pem: string;
    try {
      pem = readFileSync(tls.ca_file, 'utf8');
    } catch (e) {
      throw configError(`cannot read tls.ca_file '${tls.ca_file}': ${(e as Error).message}`, 'point tls.ca_file at a readable PEM file', e);
    }
    // An extra trusted root, not a replacement for the system store.
    opts.ca = [...rootCertificates, pem];
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
  const client = new pg.Client({
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
