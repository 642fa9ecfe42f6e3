import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pgExec, testPgUrl } from '../helpers/pg.js';

/**
 * `source.tls` against the real test server (docs/reference/config.md). test/services/up.sh turns TLS on with
 * a private CA and a server certificate for the name `localhost` only, so 127.0.0.1 is a
 * host-name mismatch under verify-full. Each export reads `pg_stat_ssl` for its own backend:
 * the server itself says whether the connection is encrypted.
 */

const TLS_DIR = `${process.env.RIVET_TEST_PG_DIR ?? `/tmp/rivet-test-pg-${process.getuid?.() ?? 0}`}-tls`;
const CA = join(TLS_DIR, 'ca.crt');
const WRONG_CA = join(TLS_DIR, 'wrong-ca.crt');

// A role of its own, so the test can check its password never shows up in any output.
const USER = 'rivet_tls_probe';
const PASSWORD = 'Tls-Pr0be-s3cret';
const port = new URL(testPgUrl()).port || '5432';
const database = new URL(testPgUrl()).pathname.slice(1);

beforeAll(async () => {
  await pgExec(`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${USER}') THEN CREATE ROLE ${USER} LOGIN PASSWORD '${PASSWORD}'; END IF;
  END $$`);
});

interface Outcome {
  code: number;
  output: string;
  /** `pg_stat_ssl.ssl` of the exporting connection, when the export ran. */
  ssl: string | null;
}

async function exportOverTls(tls: string | null, host = '127.0.0.1', urlParams = ''): Promise<Outcome> {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-tls-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url_env: RIVET_TLS_TEST_URL\n${tls === null ? '' : `  tls: ${tls}\n`}` +
      `exports:\n  - name: probe\n    query: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"\n    format: csv\n` +
      `    destination: { type: local, path: ${out} }\n`,
  );
  const url = `postgresql://${USER}:${PASSWORD}@${host}:${port}/${database}${urlParams}`;
  const r = await runCli(['run', '-c', cfg], { env: { RIVET_TLS_TEST_URL: url, RIVET_LOG: 'info' } });
  const csv = r.code === 0 ? await readFile(join(out, 'part-000001.csv'), 'utf8') : null;
  return { code: r.code, output: r.stdout + r.stderr, ssl: csv === null ? null : csv.split('\n')[1] };
}

describe('PostgreSQL source.tls (built CLI, real TLS server)', () => {
  it('mode disable connects in plaintext; the server is also reachable without TLS', async () => {
    const r = await exportOverTls('{ mode: disable }');
    expect(r.code).toBe(0);
    expect(r.ssl).toBe('false');
  });

  it('mode require encrypts without checking the certificate', async () => {
    const r = await exportOverTls('{ mode: require }');
    expect(r.code).toBe(0);
    expect(r.ssl).toBe('true');
  });

  it('verify-ca with the CA works; with an unrelated CA it fails naming host:port and the TLS cause, never the password', async () => {
    const ok = await exportOverTls(`{ mode: verify-ca, ca_file: ${CA} }`);
    expect(ok.code).toBe(0);
    expect(ok.ssl).toBe('true');

    const bad = await exportOverTls(`{ mode: verify-ca, ca_file: ${WRONG_CA} }`);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}: .*(self.signed certificate|unable to verify|unable to get)`, 'i'));
    expect(bad.output).toMatch(/tls/i);
    expect(bad.output).not.toContain(PASSWORD);
  });

  it('verify-full checks the host name: localhost matches the certificate, 127.0.0.1 does not unless accept_invalid_hostnames', async () => {
    const byName = await exportOverTls(`{ mode: verify-full, ca_file: ${CA} }`, 'localhost');
    expect(byName.code).toBe(0);
    expect(byName.ssl).toBe('true');

    const byIp = await exportOverTls(`{ mode: verify-full, ca_file: ${CA} }`);
    expect(byIp.code).toBe(1);
    expect(byIp.output).toMatch(new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}: .*(IP: 127\\.0\\.0\\.1 is not in the cert's list|altnames)`, 'i'));
    expect(byIp.output).not.toContain(PASSWORD);

    const loosened = await exportOverTls(`{ mode: verify-full, ca_file: ${CA}, accept_invalid_hostnames: true }`);
    expect(loosened.code).toBe(0);
    expect(loosened.ssl).toBe('true');
  });

  it('accept_invalid_certs accepts a certificate no trusted CA signed', async () => {
    const strict = await exportOverTls('{ mode: verify-full }', 'localhost');
    expect(strict.code).toBe(1);
    const r = await exportOverTls('{ mode: verify-full, accept_invalid_certs: true }', 'localhost');
    expect(r.code).toBe(0);
    expect(r.ssl).toBe('true');
  });

  it('without a tls block, a libpq sslmode in the URL still applies', async () => {
    const r = await exportOverTls(null, '127.0.0.1', '?sslmode=require');
    expect(r.code).toBe(0);
    expect(r.ssl).toBe('true');
  });

  it('an unreadable or non-PEM ca_file is a config error (exit 2) prefixed tls:', async () => {
    const missing = await exportOverTls('{ mode: verify-ca, ca_file: /nonexistent/ca.pem }');
    expect(missing.code).toBe(2);
    expect(missing.output).toContain("tls: cannot read the CA file '/nonexistent/ca.pem'");
    const dir = await mkdtemp(join(tmpdir(), 'rivet-tls-pem-'));
    await writeFile(join(dir, 'junk.pem'), 'not pem\n');
    const junk = await exportOverTls(`{ mode: verify-full, ca_file: ${join(dir, 'junk.pem')} }`);
    expect(junk.code).toBe(2);
    expect(junk.output).toMatch(/tls: the CA file '.*junk\.pem' is not valid PEM/);
  });
});

describe('the plaintext warning (rivet doctor)', () => {
  async function doctor(host: string, tls: string | null) {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-tls-doctor-'));
    const cfg = join(dir, 'rivet.yaml');
    await writeFile(
      cfg,
      `source:\n  type: postgres\n  url_env: RIVET_TLS_TEST_URL\n${tls === null ? '' : `  tls: ${tls}\n`}` +
        `exports:\n  - name: probe\n    query: "SELECT 1"\n    format: csv\n    destination: { type: local, path: ${join(dir, 'out')} }\n`,
    );
    return runCli(['doctor', '-c', cfg], { env: { RIVET_TLS_TEST_URL: `postgresql://${USER}:${PASSWORD}@${host}:${port}/${database}` } });
  }

  it('warns before the source check when tls is absent for a remote host; an explicit mode: disable silences it', async () => {
    // `db.invalid` never resolves (RFC 6761): the warning comes from the config, before connecting.
    const absent = await doctor('db.invalid', null);
    const lines = absent.stdout.split('\n');
    const warn = lines.findIndex((l) => l.startsWith('[WARN] source: TLS is not enforced'));
    expect(warn).toBeGreaterThan(0);
    expect(lines.findIndex((l) => /^\[(OK|FAIL)\]\s+source/.test(l))).toBeGreaterThan(warn);
    expect(lines[warn]).toContain('verify-full');
    expect(absent.stdout + absent.stderr).not.toContain(PASSWORD);

    const disabled = await doctor('db.invalid', '{ mode: disable }');
    expect(disabled.stdout).toMatch(/\[FAIL\]\s+source/);
    expect(disabled.stdout).not.toContain('TLS is not enforced');
  });

  it('does not warn for the local machine, where nothing crosses a network', async () => {
    const local = await doctor('127.0.0.1', null);
    expect(local.stdout).toMatch(/\[OK\]\s+source/);
    expect(local.stdout).not.toContain('TLS is not enforced');
  });
});
