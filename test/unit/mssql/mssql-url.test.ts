import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSourceConnection } from '../../../shared/config/connection.js';
import type { SourceConfig } from '../../../shared/config/schema.js';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { createLogger } from '../../../shared/log/logger.js';
import { mssqlConnectionConfig, mssqlTlsSettings } from '../../../shared/source/mssql/mssql-connect.js';
import { mssqlEndpoint, parseMssqlUrl } from '../../../shared/source/mssql/mssql-url.js';

function thrown(fn: () => unknown): RivetError {
  try {
    fn();
  } catch (e) {
    return e as RivetError;
  }
  throw new Error('expected an error');
}

describe('parseMssqlUrl', () => {
  it('parses sqlserver:// and mssql:// with the default port', () => {
    expect(parseMssqlUrl('sqlserver://sa:Secret1@db.example.com:14333/shop')).toEqual({
      host: 'db.example.com',
      port: 14333,
      user: 'sa',
      password: 'Secret1',
      database: 'shop',
    });
    expect(parseMssqlUrl('mssql://app@db/shop')).toEqual({ host: 'db', port: 1433, user: 'app', password: '', database: 'shop' });
    expect(parseMssqlUrl('SQLSERVER://app:x@db/shop').host).toBe('db');
  });

  it('splits userinfo at the LAST @, so passwords keep @ / : ? # as typed', () => {
    const u = parseMssqlUrl('sqlserver://sa:p@ss/w:rd?#x@db:1433/shop');
    expect(u.user).toBe('sa');
    expect(u.password).toBe('p@ss/w:rd?#x');
    expect(u.host).toBe('db');
    expect(u.database).toBe('shop');
  });

  it('percent-decodes user, password and database (structured config is assembled encoded)', () => {
    const u = parseMssqlUrl(`sqlserver://${encodeURIComponent('dom\\user')}:${encodeURIComponent('a%b@c:d/é')}@h:1433/${encodeURIComponent('my db')}`);
    expect(u.user).toBe('dom\\user');
    expect(u.password).toBe('a%b@c:d/é');
    expect(u.database).toBe('my db');
  });

  it('keeps an invalid percent sequence as typed', () => {
    expect(parseMssqlUrl('sqlserver://sa:100%zz@h/db').password).toBe('100%zz');
  });

  it('reads named instances from host\\INSTANCE, %5C and ?instance=, without a default port', () => {
    expect(parseMssqlUrl('sqlserver://sa:x@db\\SQLEXPRESS/shop')).toMatchObject({ host: 'db', instanceName: 'SQLEXPRESS' });
    expect(parseMssqlUrl('sqlserver://sa:x@db\\SQLEXPRESS/shop').port).toBeUndefined();
    expect(parseMssqlUrl('sqlserver://sa:x@db%5CSQLEXPRESS/shop')).toMatchObject({ host: 'db', instanceName: 'SQLEXPRESS' });
    expect(parseMssqlUrl('sqlserver://sa:x@db/shop?instance=REPORTS')).toMatchObject({ host: 'db', instanceName: 'REPORTS' });
    expect(parseMssqlUrl('sqlserver://sa:x@db\\SQLEXPRESS:1500/shop')).toMatchObject({ instanceName: 'SQLEXPRESS', port: 1500 });
  });

  it('parses IPv6 hosts', () => {
    expect(parseMssqlUrl('sqlserver://sa:x@[::1]:1533/shop')).toMatchObject({ host: '::1', port: 1533 });
  });

  it('understands encrypt, trustServerCertificate and connectTimeout', () => {
    expect(parseMssqlUrl('sqlserver://sa:x@h/db?encrypt=strict&trustServerCertificate=false&connectTimeout=5')).toMatchObject({
      encrypt: 'strict',
      trustServerCertificate: false,
      connectTimeoutMs: 5000,
    });
  });

  it.each([
    ['postgresql://sa:x@h/db', /must start with sqlserver:\/\/ or mssql:\/\/ \(got postgresql:\/\/\)/],
    ['sqlserver://sa:x@h', /has no database/],
    ['sqlserver://sa:x@h:1433/', /has no database/],
    ['sqlserver://:x@h/db', /has no user name/],
    ['sqlserver://sa:x@:1433/db', /has no host/],
    ['sqlserver://sa:x@h:99999/db', /invalid port/],
    ['sqlserver://sa:x@h:abc/db', /invalid port/],
    ['sqlserver://sa:x@h/db?foo=1', /unknown parameter "foo"/],
    ['sqlserver://sa:x@h/db?encrypt=false', /encrypt=false is not accepted/],
    ['sqlserver://sa:x@h/db?trustServerCertificate=maybe', /expected true or false/],
  ])('rejects %s', (url, msg) => {
    const err = thrown(() => parseMssqlUrl(url));
    expect(err).toBeInstanceOf(RivetError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(msg);
    // The URL holds the password: messages never quote it.
    expect(err.message).not.toContain(':x@');
  });

  it('names host and port (or instance) for messages, never credentials', () => {
    expect(mssqlEndpoint('sqlserver://sa:Secret1@db:1433/x')).toBe('db:1433');
    expect(mssqlEndpoint('sqlserver://sa:Secret1@db\\SQLEXPRESS/x')).toBe('db\\SQLEXPRESS');
    expect(mssqlEndpoint('sqlserver://sa:Secret1@[::1]/x')).toBe('[::1]:1433');
    expect(mssqlEndpoint('not a url')).toBe('the configured host');
  });
});

describe('TLS mapping (docs/reference/config.md)', () => {
  it('always encrypts; no tls block trusts any certificate', () => {
    expect(mssqlTlsSettings(undefined, {})).toEqual({ encrypt: true, trustServerCertificate: true });
    expect(mssqlTlsSettings(undefined, { trustServerCertificate: false })).toEqual({ encrypt: true, trustServerCertificate: false });
    expect(mssqlTlsSettings(undefined, { encrypt: 'strict' })).toEqual({ encrypt: 'strict', trustServerCertificate: true });
  });

  it('maps the modes', () => {
    expect(mssqlTlsSettings({ mode: 'disable' }, {})).toEqual({ encrypt: true, trustServerCertificate: true });
    expect(mssqlTlsSettings({ mode: 'require' }, {})).toEqual({ encrypt: true, trustServerCertificate: true });
    expect(mssqlTlsSettings({ mode: 'verify-ca' }, {})).toEqual({ encrypt: true, trustServerCertificate: false });
    expect(mssqlTlsSettings({ mode: 'verify-full' }, {})).toEqual({ encrypt: true, trustServerCertificate: false });
    expect(mssqlTlsSettings({ mode: 'verify-full', accept_invalid_certs: true }, {})).toEqual({ encrypt: true, trustServerCertificate: true });
    // The tls block wins over the URL parameter.
    expect(mssqlTlsSettings({ mode: 'verify-full' }, { trustServerCertificate: true }).trustServerCertificate).toBe(false);
  });

  it('adds ca_file to the system roots, and reports unreadable or non-PEM files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-mssql-tls-'));
    const pem = path.join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const s = mssqlTlsSettings({ mode: 'verify-full', ca_file: pem }, {});
    expect(s.trustServerCertificate).toBe(false);
    expect(s.ca?.at(-1)).toContain('BEGIN CERTIFICATE');
    expect(s.ca!.length).toBeGreaterThan(1);
    expect(thrown(() => mssqlTlsSettings({ mode: 'verify-full', ca_file: path.join(dir, 'missing.pem') }, {})).message).toMatch(/^tls: the CA file .* cannot be read/);
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'hello');
    expect(thrown(() => mssqlTlsSettings({ mode: 'verify-ca', ca_file: junk }, {})).message).toMatch(/^tls: the CA file .* is not valid PEM/);
  });

  it('builds the tedious configuration', () => {
    const c = mssqlConnectionConfig({ engine: 'mssql', url: 'sqlserver://sa:S3cret!@db:1444/shop', tls: { mode: 'verify-full' } });
    expect(c.server).toBe('db');
    expect(c.authentication).toEqual({ type: 'default', options: { userName: 'sa', password: 'S3cret!' } });
    expect(c.options).toMatchObject({
      port: 1444,
      database: 'shop',
      encrypt: true,
      trustServerCertificate: false,
      useColumnNames: false,
      rowCollectionOnRequestCompletion: false,
      useUTC: true,
      requestTimeout: 0,
    });
    const named = mssqlConnectionConfig({ engine: 'mssql', url: 'sqlserver://sa:x@db\\SQLEXPRESS/shop' });
    expect(named.options).toMatchObject({ instanceName: 'SQLEXPRESS' });
    expect(named.options?.port).toBeUndefined();
  });
});

describe('structured source config for mssql', () => {
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l), level: 'warn' });
  const resolve = (source: Partial<SourceConfig>) => resolveSourceConnection({ type: 'mssql', ...source } as SourceConfig, { env: { PW: 'p@ss:w/rd%' }, configDir: '/tmp', log });

  it('assembles a sqlserver:// URL that parses back to the same fields', () => {
    const c = resolve({ host: 'db.internal', user: 'etl', password_env: 'PW', database: 'Sales DB' });
    expect(c.engine).toBe('mssql');
    expect(c.url.startsWith('sqlserver://')).toBe(true);
    expect(parseMssqlUrl(c.url)).toMatchObject({ host: 'db.internal', port: 1433, user: 'etl', password: 'p@ss:w/rd%', database: 'Sales DB' });
  });

  it('keeps a named instance without a port, and honours an explicit port', () => {
    const named = parseMssqlUrl(resolve({ host: 'db\\SQLEXPRESS', user: 'etl', database: 'x' }).url);
    expect(named).toMatchObject({ host: 'db', instanceName: 'SQLEXPRESS' });
    expect(named.port).toBeUndefined();
    expect(parseMssqlUrl(resolve({ host: 'db', port: 1500, user: 'etl', database: 'x' }).url)).toMatchObject({ port: 1500 });
  });

  it('warns that the certificate is not verified (not "clear text") unless tls verifies it', () => {
    lines.length = 0;
    resolveSourceConnection({ type: 'mssql', host: 'db.remote', user: 'u', database: 'd' } as SourceConfig, { env: {}, configDir: '/tmp', log: createLogger({ sink: (l) => lines.push(l), level: 'warn' }) });
    expect(lines.join('\n')).toMatch(/encrypted but the server certificate is not verified/);
    expect(lines.join('\n')).not.toMatch(/clear text;/);
    lines.length = 0;
    resolveSourceConnection({ type: 'mssql', host: 'db.remote', user: 'u', database: 'd', tls: { mode: 'verify-full' } } as SourceConfig, {
      env: {},
      configDir: '/tmp',
      log: createLogger({ sink: (l) => lines.push(l), level: 'warn' }),
    });
    expect(lines.join('\n')).not.toMatch(/not verified/);
  });
});
