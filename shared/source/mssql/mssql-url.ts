import { configError } from '../../errors/rivet-error.js';

/**
 * `sqlserver://` / `mssql://` source URLs (docs/reference/config.md):
 *
 *   sqlserver://user[:password]@host[\instance][:port]/database[?param=value&…]
 *
 * The userinfo ends at the LAST `@`, so a password may contain `@`, `/`, `:` or `?` as
 * typed. User, password, database and instance are percent-decoded when they hold valid
 * `%XX` escapes (structured `source:` fields are assembled percent-encoded); a literal `%`
 * followed by two hex digits must therefore be written `%25`.
 *
 * Unlike the reference, a few query parameters are understood, and any other is an error
 * rather than silently ignored: `instance` (named instance, resolved through the SQL
 * Browser service), `encrypt` (`true` | `strict`), `trustServerCertificate` (`true` |
 * `false`, used only when there is no `source.tls` block), `connectTimeout` (seconds).
 */
export interface MssqlUrl {
  host: string;
  /** Absent with a named instance and no explicit port: the SQL Browser service finds it. */
  port?: number;
  instanceName?: string;
  user: string;
  password: string;
  database: string;
  encrypt?: true | 'strict';
  trustServerCertificate?: boolean;
  connectTimeoutMs?: number;
}

export const MSSQL_DEFAULT_PORT = 1433;

const EXAMPLE = 'use sqlserver://user:password@host:1433/database (or host\\INSTANCE for a named instance)';
const KNOWN_PARAMS = ['instance', 'encrypt', 'trustServerCertificate', 'connectTimeout'];

/** Percent-decode when the text holds valid escapes; otherwise keep it as typed. */
function decodeLenient(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function bad(what: string): never {
  throw configError(`source: the SQL Server URL ${what}`, EXAMPLE);
}

function parseBool(name: string, v: string): boolean {
  const l = v.toLowerCase();
  if (l === 'true' || l === 'yes' || l === '1') return true;
  if (l === 'false' || l === 'no' || l === '0') return false;
  return bad(`has ${name}=${v}; expected true or false`);
}

/** Parse a SQL Server source URL. Errors never quote the URL (it holds the password). */
export function parseMssqlUrl(url: string): MssqlUrl {
  const scheme = /^(sqlserver|mssql):\/\//i.exec(url.trim());
  if (!scheme) {
    const shown = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url.trim())?.[1];
    return bad(`must start with sqlserver:// or mssql://${shown ? ` (got ${shown}://)` : ''}`);
  }
  const rest = url.trim().slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const afterAt = at >= 0 ? rest.slice(at + 1) : rest;

  const q = afterAt.indexOf('?');
  const beforeQuery = q >= 0 ? afterAt.slice(0, q) : afterAt;
  const query = q >= 0 ? afterAt.slice(q + 1) : '';
  const slash = beforeQuery.indexOf('/');
  const authority = slash >= 0 ? beforeQuery.slice(0, slash) : beforeQuery;
  const database = decodeLenient(slash >= 0 ? beforeQuery.slice(slash + 1) : '');

  const colon = userinfo.indexOf(':');
  const user = decodeLenient(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = colon >= 0 ? decodeLenient(userinfo.slice(colon + 1)) : '';

  // host, [v6], host\instance, host%5Cinstance, each with an optional :port
  let host: string;
  let portText: string | undefined;
  let instanceName: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(\d*))?$/.exec(authority);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else {
    const hostPort = /^([^:]*)(?::([^:]*))?$/.exec(authority);
    if (!hostPort) return bad('has an invalid host:port part');
    portText = hostPort[2];
    const hostAndInstance = decodeLenient(hostPort[1]);
    const bs = hostAndInstance.indexOf('\\');
    host = bs >= 0 ? hostAndInstance.slice(0, bs) : hostAndInstance;
    if (bs >= 0) instanceName = hostAndInstance.slice(bs + 1);
  }
  if (!host) return bad('has no host name');
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) return bad(`has an invalid port "${portText}"`);
    port = Number(portText);
  }

  const out: MssqlUrl = { host, user, password, database };
  for (const pair of query.split('&').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const name = decodeLenient(eq >= 0 ? pair.slice(0, eq) : pair);
    const value = decodeLenient(eq >= 0 ? pair.slice(eq + 1) : '');
    switch (name.toLowerCase()) {
      case 'instance':
      case 'instancename':
        if (!value) return bad('has an empty instance parameter');
        instanceName = value;
        break;
      case 'encrypt': {
        const l = value.toLowerCase();
        if (l === 'strict') out.encrypt = 'strict';
        else if (parseBool('encrypt', value)) out.encrypt = true;
        else {
          throw configError(
            'source: encrypt=false is not accepted: rivet always encrypts SQL Server connections (credentials and rows would otherwise cross the network in clear text)',
            'remove encrypt=false; to connect to a server with a self-signed certificate keep the default (no `source.tls` block) or set `tls: { accept_invalid_certs: true }`',
          );
        }
        break;
      }
      case 'trustservercertificate':
        out.trustServerCertificate = parseBool('trustServerCertificate', value);
        break;
      case 'connecttimeout': {
        if (!/^\d+$/.test(value) || Number(value) < 1) return bad(`has connectTimeout=${value}; expected a whole number of seconds`);
        out.connectTimeoutMs = Number(value) * 1000;
        break;
      }
      default:
        return bad(`has an unknown parameter "${name}" (known: ${KNOWN_PARAMS.join(', ')})`);
    }
  }
  if (!user) return bad('has no user name (user[:password]@host)');
  if (!database) return bad('has no database (…@host:port/database); the database is required');
  if (instanceName !== undefined) {
    if (!instanceName) return bad('has an empty instance name after the backslash');
    out.instanceName = instanceName;
  }
  // A named instance is found through the SQL Browser service unless a port pins it.
  if (port !== undefined) out.port = port;
  else if (instanceName === undefined) out.port = MSSQL_DEFAULT_PORT;
  return out;
}

/** `host:port` or `host\instance` for messages: never the credentials. */
export function mssqlEndpoint(url: string): string {
  try {
    const u = parseMssqlUrl(url);
    const host = u.host.includes(':') ? `[${u.host}]` : u.host;
    if (u.instanceName && u.port === undefined) return `${host}\\${u.instanceName}`;
    return `${host}${u.instanceName ? `\\${u.instanceName}` : ''}:${u.port ?? MSSQL_DEFAULT_PORT}`;
  } catch {
    return 'the configured host';
  }
}
