import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSourceConnection } from '../../../shared/config/connection.js';
import { SourceConfigSchema } from '../../../shared/config/schema.js';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { createLogger } from '../../../shared/log/logger.js';
import { redact } from '../../../shared/log/redact.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rivet-conn-'));

function resolve(source: object, env: NodeJS.ProcessEnv = {}) {
  const warnings: string[] = [];
  const log = createLogger({ level: 'warn', sink: (l) => warnings.push(l) });
  const conn = resolveSourceConnection(SourceConfigSchema.parse({ type: 'postgres', ...source }), { env, configDir: dir, log });
  return { conn, warnings };
}

function refusal(source: object, env: NodeJS.ProcessEnv = {}): RivetError {
  try {
    resolve(source, env);
  } catch (e) {
    expect(e).toBeInstanceOf(RivetError);
    expect((e as RivetError).exitCode).toBe(2);
    return e as RivetError;
  }
  throw new Error('expected a refusal');
}

describe('resolveSourceConnection', () => {
  it('reads url_env and never puts the value in the error', () => {
    expect(resolve({ url_env: 'DB_URL' }, { DB_URL: 'postgresql://u@localhost/db' }).conn).toEqual({ engine: 'postgres', url: 'postgresql://u@localhost/db' });
    const err = refusal({ url_env: 'DB_URL_UNSET' });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('DB_URL_UNSET');
    expect(err.message).toContain('url_env');
  });

  it('reads url_file relative to the config dir, trimmed', () => {
    writeFileSync(path.join(dir, 'db_url'), '\n  postgresql://u:filepass-123@localhost/db  \n');
    expect(resolve({ url_file: 'db_url' }).conn.url).toBe('postgresql://u:filepass-123@localhost/db');
    expect(redact('connecting with filepass-123')).toBe('connecting with ***');
  });

  it('reports an unreadable url_file by path', () => {
    const err = refusal({ url_file: 'missing_url' });
    expect(err.message).toContain("url_file 'missing_url' cannot be read (ENOENT");
  });

  it('runs a second ${VAR} pass over the URL, strictly', () => {
    expect(resolve({ url: 'postgresql://u:${PW_X}@localhost/db' }, { PW_X: 'fromenv-777' }).conn.url).toBe('postgresql://u:fromenv-777@localhost/db');
    expect(refusal({ url_env: 'U' }, { U: 'postgresql://u:${NOT_THERE}@h/db' }).message).toContain('${NOT_THERE}');
  });

  it('warns once about a password inline in url:', () => {
    const { warnings } = resolve({ url: 'postgresql://u:inline-secret-1@localhost/db' });
    expect(warnings.some((w) => w.includes('inline `url:` contains a password') && w.includes('url_env: DATABASE_URL'))).toBe(true);
    expect(warnings.join('\n')).not.toContain('inline-secret-1');
    expect(resolve({ url: 'postgresql://u@localhost/db' }).warnings.filter((w) => w.includes('inline'))).toEqual([]);
  });

  it('assembles structured fields, percent-encoding user, password and database', () => {
    const { conn } = resolve({ host: 'db.internal', user: 'app@corp', password_env: 'PW', database: 'shop' }, { PW: 'p@ss:w/rd#1?' });
    expect(conn.url).toBe('postgresql://app%40corp:p%40ss%3Aw%2Frd%231%3F@db.internal:5432/shop');
    expect(new URL(conn.url).hostname).toBe('db.internal');
    expect(decodeURIComponent(new URL(conn.url).password)).toBe('p@ss:w/rd#1?');
    expect(redact(`failed: ${conn.url}`)).not.toContain('p%40ss');
    expect(redact('p@ss:w/rd#1? leaked')).toBe('*** leaked');
  });

  it('uses the port and omits an empty password', () => {
    expect(resolve({ host: 'localhost', port: 6543, user: 'u', database: 'd' }).conn.url).toBe('postgresql://u@localhost:6543/d');
    expect(resolve({ host: 'localhost', user: 'u', database: 'd', password_env: 'E' }, { E: '' }).conn.url).toBe('postgresql://u@localhost:5432/d');
  });

  it('refuses an unset password_env, naming the variable only', () => {
    const err = refusal({ host: 'h', user: 'u', database: 'd', password_env: 'PG_PASS_UNSET' });
    expect(err.message).toContain('PG_PASS_UNSET');
    expect(err.message).toContain('password_env');
  });

  it('warns about a plaintext password and substitutes ${VAR} in it', () => {
    const { conn, warnings } = resolve({ host: 'localhost', user: 'u', database: 'd', password: 'pre-${PWPART}' }, { PWPART: 'xyz' });
    expect(conn.url).toBe('postgresql://u:pre-xyz@localhost:5432/d');
    expect(warnings.some((w) => w.includes('`password:` holds a clear-text password') && w.includes('password_env'))).toBe(true);
  });

  it('maps tls and resolves ca_file against the config dir', () => {
    const { conn, warnings } = resolve({ url_env: 'U', tls: { mode: 'verify-full', ca_file: 'certs/ca.pem' } }, { U: 'postgresql://u@db.example.com/x' });
    expect(conn.tls).toEqual({ mode: 'verify-full', ca_file: path.join(dir, 'certs/ca.pem'), accept_invalid_certs: false, accept_invalid_hostnames: false });
    expect(warnings.filter((w) => w.includes('TLS'))).toEqual([]);
  });

  it('warns about missing TLS only for remote hosts without tls:', () => {
    const remote = resolve({ url_env: 'U' }, { U: 'postgresql://u@db.example.com/x' }).warnings;
    expect(remote.some((w) => w.includes('TLS is not enforced') && w.includes('verify-full'))).toBe(true);
    expect(resolve({ url_env: 'U' }, { U: 'postgresql://u@127.0.0.1:5432/x' }).warnings).toEqual([]);
    expect(resolve({ url_env: 'U' }, { U: 'postgresql://u@[::1]:5432/x' }).warnings).toEqual([]);
    expect(resolve({ url_env: 'U' }, { U: 'postgresql://u@/x?host=/var/run/postgresql' }).warnings).toEqual([]);
    expect(resolve({ url_env: 'U', tls: { mode: 'disable' } }, { U: 'postgresql://u@db.example.com/x' }).warnings).toEqual([]);
    expect(resolve({ url_env: 'U' }, { U: 'postgresql://u@db.example.com/x?sslmode=require' }).warnings).toEqual([]);
    expect(resolve({ host: 'db.example.com', user: 'u', database: 'd' }).warnings.some((w) => w.includes('TLS'))).toBe(true);
  });

  it('re-checks the connection method for configs built in code', () => {
    expect(refusal({}).message).toContain('no connection method is configured');
  });
});
