import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { effectiveTls, pgSslOptions } from '../../../shared/source/postgres/pg-connect.js';
import { pgEndpoint } from '../../../shared/source/postgres/pg-errors.js';

/** The test CA test/services/up.sh generates next to the PostgreSQL data directory. */
const TEST_CA = join(`${process.env.RIVET_TEST_PG_DIR ?? `/tmp/rivet-test-pg-${process.getuid?.() ?? 0}`}-tls`, 'ca.crt');

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
    const o = pgSslOptions({ mode: 'verify-full', ca_file: TEST_CA, accept_invalid_certs: true, accept_invalid_hostnames: true });
    expect(o && o.rejectUnauthorized).toBe(false);
    expect(o && o.checkServerIdentity!('anything', {} as never)).toBeUndefined();
    const cas = (o && o.ca) as string[];
    expect(cas).toHaveLength(rootCertificates.length + 1);
    expect(cas.at(-1)).toBe(readFileSync(TEST_CA, 'utf8').trim());
  });

  it('an unreadable ca_file is a config error prefixed tls:', () => {
    expect(() => pgSslOptions({ mode: 'verify-ca', ca_file: '/nonexistent/ca.pem' })).toThrow(/^tls: cannot read the CA file '\/nonexistent\/ca.pem': ENOENT/);
  });

  it('a ca_file that is not PEM is a config error prefixed tls:, in every enforced mode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rivet-ca-'));
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    for (const mode of ['require', 'verify-ca', 'verify-full'] as const) {
      expect(() => pgSslOptions({ mode, ca_file: junk })).toThrow(/^tls: the CA file '.*junk.pem' is not valid PEM/);
      expect(() => pgSslOptions({ mode, ca_file: broken })).toThrow(/^tls: the CA file '.*broken.pem' is not valid PEM/);
    }
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
