import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { effectiveTls, pgSslOptions } from '../../../shared/source/postgres/pg-connect.js';
import { pgEndpoint } from '../../../shared/source/postgres/pg-errors.js';

describe('PostgreSQL TLS options', () => {
  it('disable → plain TCP', () => {
    expect(pgSslOptions({ mode: 'disable' })).toBe(false);
  });

  it('require → TLS without certificate checks', () => {
    expect(pgSslOptions({ mode: 'require' })).toEqual({ rejectUnauthorized: false });
  });

  it('verify-ca → chain checked, host name not', () => {
    const o = pgSslOptions({ mode: 'verify-ca' });
    expect(o && o.rejectUnauthorized).toBe(true);
    expect(o && o.checkServerIdentity!('evil.example', {} as never)).toBeUndefined();
  });

  it('verify-full → chain and host name checked', () => {
    const o = pgSslOptions({ mode: 'verify-full' });
    expect(o && o.rejectUnauthorized).toBe(true);
    const cert = { subject: { CN: 'db.example' }, subjectaltname: 'DNS:db.example' };
    expect(o && o.checkServerIdentity!('evil.example', cert as never)).toBeInstanceOf(Error);
    expect(o && o.checkServerIdentity!('db.example', cert as never)).toBeUndefined();
  });

  it('accept_invalid_* loosen the checks; ca_file adds a root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rivet-ca-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const o = pgSslOptions({ mode: 'verify-full', ca_file: ca, accept_invalid_certs: true, accept_invalid_hostnames: true });
    expect(o && o.rejectUnauthorized).toBe(false);
    expect(o && o.checkServerIdentity!('anything', {} as never)).toBeUndefined();
    const cas = (o && o.ca) as string[];
    expect(cas).toHaveLength(rootCertificates.length + 1);
    expect(cas.at(-1)).toContain('BEGIN CERTIFICATE');
  });

  it('an unreadable ca_file is a config error', () => {
    expect(() => pgSslOptions({ mode: 'verify-ca', ca_file: '/nonexistent/ca.pem' })).toThrow(/tls.ca_file/);
  });

  it('falls back to the URL sslmode when no tls block is given', () => {
    expect(effectiveTls({ engine: 'postgres', url: 'postgresql://u:p@h/db?sslmode=verify-full' })).toEqual({ mode: 'verify-full' });
    expect(effectiveTls({ engine: 'postgres', url: 'postgresql://u:p@h/db?sslmode=prefer' })).toEqual({ mode: 'disable' });
    expect(effectiveTls({ engine: 'postgres', url: 'postgresql://u:p@h/db?sslmode=require', tls: { mode: 'disable' } })).toEqual({
      mode: 'disable',
    });
  });

  it('names host:port without credentials', () => {
    expect(pgEndpoint('postgresql://user:pa%40ss@db.internal:6543/x')).toBe('db.internal:6543');
    expect(pgEndpoint('postgres://db.internal/x')).toBe('db.internal:5432');
  });
});
