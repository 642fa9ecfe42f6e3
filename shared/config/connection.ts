import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configError } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/redact.js';
import { sourceEngine } from '../source/registry.js';
import type { SourceConnection, TlsOptions } from '../source/source.js';
import { connectionMethod } from './connection-method.js';
import type { SourceConfig } from './schema.js';
import { substituteVariables } from './substitute.js';

/**
 * Turn `source:` into what a Source needs to connect: the URL (from `url`, `url_env`,
 * `url_file`, or assembled from structured fields) and the TLS options. Every secret met on
 * the way is registered for redaction, and no message ever contains one: errors name the
 * variable or the file, never the value.
 *
 * Two deliberate differences from the reference:
 * - structured fields are percent-encoded into the URL (the reference pastes them raw, so a
 *   password with `@`, `/`, `:` or `#` breaks the URL or connects somewhere else);
 * - the "TLS not enforced" warning is given only when `tls:` is absent and the host is not
 *   the local machine (the reference also warns for `mode: disable`, the documented way to
 *   say "I know", and for localhost, where nothing crosses a network).
 */
export interface ResolveConnectionOptions {
  env?: NodeJS.ProcessEnv;
  /** Base for a relative `url_file` and `tls.ca_file`. */
  configDir: string;
  log: Logger;
}

export function resolveSourceConnection(source: SourceConfig, options: ResolveConnectionOptions): SourceConnection {
  const env = options.env ?? process.env;
  const engine = sourceEngine(source.type);
  const method = connectionMethod(source);
  let url: string;
  let host: string | undefined;

  if (method === 'structured') {
    const password = structuredPassword(source, env, options.log);
    host = source.host!;
    const userinfo = encodeURIComponent(source.user!) + (password ? ':' + encodeURIComponent(password) : '');
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    // A named instance (`host\INSTANCE`) without a port is found through the server's browser service.
    const namedInstance = engine.namedInstances && host.includes('\\') && source.port === undefined;
    const portPart = namedInstance ? '' : `:${source.port ?? engine.defaultPort}`;
    url = `${engine.schemes[0]}://${userinfo}@${hostPart}${portPart}/${encodeURIComponent(source.database!)}`;
  } else {
    url = urlFromSource(source, method, env, options.configDir);
    // The URL may itself reference variables (`postgresql://app:${DB_PASS}@db/app`); strict, like the config text.
    url = substituteVariables(url, { env, strict: true, origin: `source.${method}` });
    if (method === 'url' && hasInlinePassword(url)) {
      options.log.warnOnce(
        'inline-url-password',
        'source: the inline `url:` contains a password in clear text; move it to `url_env: DATABASE_URL` (or `url_file:`) so secrets stay out of version-controlled config files',
      );
    }
    host = urlHost(url);
  }
  registerUrlSecrets(url);

  const tls = source.tls ? mapTls(source.tls, options.configDir) : undefined;
  const local = isLocalHost(engine.namedInstances ? host?.split('\\')[0] : host);
  if (engine.tls.alwaysEncrypted) {
    const verified = tls ? (tls.mode === 'verify-ca' || tls.mode === 'verify-full') && !tls.accept_invalid_certs : engine.tls.urlLevel(url) === 'verified';
    if (!verified && !local) {
      options.log.warnOnce(
        'tls-not-verified',
        `source: the ${engine.label} connection is encrypted but the server certificate is not verified, so a machine in the middle could read credentials and rows; ` +
          'set `source.tls.mode: verify-full` (plus `ca_file:` for a private CA)',
      );
    }
  } else if (!tls && !local && engine.tls.urlLevel(url) === 'none') {
    options.log.warnOnce(
      'tls-not-enforced',
      'source: TLS is not enforced, so credentials and exported rows cross the network in clear text; set `source.tls.mode: verify-full` ' +
        '(plus `ca_file:` for a private CA), or `tls: { mode: disable }` to accept plaintext knowingly',
    );
  }
  return { engine: source.type, url, ...(tls ? { tls } : {}) };
}

function urlFromSource(source: SourceConfig, method: 'url' | 'url_env' | 'url_file', env: NodeJS.ProcessEnv, configDir: string): string {
  if (method === 'url') return source.url!;
  if (method === 'url_env') {
    const name = source.url_env!;
    const value = env[name];
    if (value === undefined) {
      throw configError(`source: environment variable ${name} is referenced by \`url_env\` but not set`, `export ${name}=<connection URL> before running rivet`);
    }
    registerSecret(value);
    return value;
  }
  const file = path.resolve(configDir, source.url_file!);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    throw configError(
      `source: url_file '${source.url_file}' cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}: ${file})`,
      'the path is relative to the config file directory; the file must hold just the URL',
      e,
    );
  }
  const trimmed = content.trim();
  registerSecret(trimmed);
  return trimmed;
}

function structuredPassword(source: SourceConfig, env: NodeJS.ProcessEnv, log: Logger): string | undefined {
  if (source.password_env !== undefined) {
    const value = env[source.password_env];
    if (value === undefined) {
      throw configError(
        `source: environment variable ${source.password_env} is referenced by \`password_env\` but not set`,
        `export ${source.password_env}=<password> before running rivet`,
      );
    }
    registerSecret(value);
    return value;
  }
  if (source.password !== undefined) {
    log.warnOnce('plaintext-password', 'source: `password:` holds a clear-text password in the config; use `password_env:` (name of an environment variable) instead');
    const value = substituteVariables(source.password, { env, strict: true, origin: 'source.password' });
    registerSecret(value);
    return value;
  }
  return undefined;
}

/** `scheme://user:password@host` with a non-empty password. The last `@` ends the userinfo. */
function hasInlinePassword(url: string): boolean {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)@/.exec(url);
  if (!m) return false;
  const userinfo = m[1];
  const colon = userinfo.indexOf(':');
  return colon >= 0 && colon < userinfo.length - 1;
}

/** Register the password inside a URL (raw and decoded) so it is masked even out of URL context. */
function registerUrlSecrets(url: string): void {
  registerSecret(url);
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)@/.exec(url);
  if (!m) return;
  const colon = m[1].indexOf(':');
  if (colon < 0) return;
  const raw = m[1].slice(colon + 1);
  registerSecret(raw);
  try {
    registerSecret(decodeURIComponent(raw));
  } catch {
    // not valid percent-encoding: the raw form is registered already
  }
}

/** Host of a URL; '' for a unix socket (`?host=/run/postgresql` or no host at all). */
function urlHost(url: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/.exec(url);
  if (!m) return undefined;
  const queryHost = /[?&]host=([^&#]*)/.exec(url);
  if (queryHost) return decodeURIComponent(queryHost[1]);
  return m[1];
}

function isLocalHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === '' || h.startsWith('/') || h === 'localhost' || h === '127.0.0.1' || h === '::1';
}

function mapTls(tls: NonNullable<SourceConfig['tls']>, configDir: string): TlsOptions {
  return {
    mode: tls.mode,
    ...(tls.ca_file !== undefined ? { ca_file: path.resolve(configDir, tls.ca_file) } : {}),
    accept_invalid_certs: tls.accept_invalid_certs,
    accept_invalid_hostnames: tls.accept_invalid_hostnames,
  };
}
