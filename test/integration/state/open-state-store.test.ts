import { describe, expect, it } from 'vitest';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { createLogger } from '../../../shared/log/logger.js';
import { openPgStateDb } from '../../../shared/state/postgres/pg-state-db.js';
import { stateBackend } from '../../../shared/state/open-state-store.js';
import { openDynamoStateStore } from '../../../shared/state/dynamodb-state-store.js';
import { openPostgresStateStore } from '../../../shared/state/postgres-state-store.js';
import { dynamoLocalEndpoint, useDynamoLocalCredentials } from './state-backends.js';
import { pgExec, testPgUrl } from '../../helpers/pg.js';

/** Backend selection from the environment, and the PostgreSQL backend's TLS, against the real test server. */
const SQLITE = '/cfg/.rivet_state.db';

function configErrorOf(env: NodeJS.ProcessEnv): RivetError {
  try {
    stateBackend(SQLITE, env);
  } catch (e) {
    return e as RivetError;
  }
  throw new Error('expected a config error');
}

describe('stateBackend (selection)', () => {
  it('defaults to the SQLite file; an empty RIVET_STATE_URL counts as unset', () => {
    expect(stateBackend(SQLITE, {})).toEqual({ kind: 'sqlite', path: SQLITE });
    expect(stateBackend(SQLITE, { RIVET_STATE_URL: '  ' })).toEqual({ kind: 'sqlite', path: SQLITE });
  });

  it('postgres:// and postgresql:// select PostgreSQL; the schema comes from ?schema=, else RIVET_STATE_SCHEMA, else rivet_state', () => {
    expect(stateBackend(SQLITE, { RIVET_STATE_URL: 'postgres://u:p@db/state' })).toEqual({ kind: 'postgres', url: 'postgres://u:p@db/state', schema: 'rivet_state' });
    expect(stateBackend(SQLITE, { RIVET_STATE_URL: 'postgresql://db/state?sslmode=require&schema=ops_state' })).toMatchObject({ kind: 'postgres', schema: 'ops_state' });
    expect(stateBackend(SQLITE, { RIVET_STATE_URL: 'postgresql://db/state', RIVET_STATE_SCHEMA: 'team_a' })).toMatchObject({ schema: 'team_a' });
  });

  it('dynamodb://<table> and RIVET_STATE_TABLE select DynamoDB, with optional endpoint and region; the URL wins', () => {
    expect(stateBackend(SQLITE, { RIVET_STATE_URL: 'dynamodb://Rivet-State_1' })).toEqual({ kind: 'dynamodb', table: 'Rivet-State_1' });
    expect(stateBackend(SQLITE, { RIVET_STATE_URL: 'dynamodb://tb1?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A8000' })).toEqual({
      kind: 'dynamodb', table: 'tb1', region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000',
    });
    expect(stateBackend(SQLITE, { RIVET_STATE_TABLE: 'from-env' })).toEqual({ kind: 'dynamodb', table: 'from-env' });
    expect(stateBackend(SQLITE, { RIVET_STATE_URL: 'dynamodb://', RIVET_STATE_TABLE: 'from-env' })).toEqual({ kind: 'dynamodb', table: 'from-env' });
    expect(stateBackend(SQLITE, { RIVET_STATE_URL: 'postgresql://db/s', RIVET_STATE_TABLE: 'ignored' })).toMatchObject({ kind: 'postgres' });
  });

  it('anything else is a config error (exit 2) with the accepted forms, never echoing a password', () => {
    for (const env of [
      { RIVET_STATE_URL: 'mysql://root:Hunter2Secret@db/state' },
      { RIVET_STATE_URL: 'just-a-word' },
      { RIVET_STATE_URL: 'postgresql://root:Hunter2Secret@db/state?schema=drop;table' },
      { RIVET_STATE_URL: 'postgresql://root:Hunter2Secret@[bad/state' },
      { RIVET_STATE_URL: 'dynamodb://' },
      { RIVET_STATE_URL: 'dynamodb://a' },
      { RIVET_STATE_URL: 'dynamodb://table1?endpoint=ftp://x' },
      { RIVET_STATE_TABLE: 'has space' },
    ]) {
      const e = configErrorOf(env);
      expect(e).toBeInstanceOf(RivetError);
      expect(e.exitCode).toBe(2);
      expect(`${e.message} ${e.hint}`).not.toContain('Hunter2Secret');
      expect(e.message).toMatch(/RIVET_STATE_(URL|TABLE)/);
      expect(e.hint).toBeTruthy();
    }
    expect(configErrorOf({ RIVET_STATE_URL: 'mysql://root:Hunter2Secret@db/state' }).message).toBe("RIVET_STATE_URL has an unsupported scheme 'mysql:'");
  });
});

describe('PostgreSQL state connection', () => {
  const caDir = `${process.env.RIVET_TEST_PG_DIR ?? `/tmp/rivet-test-pg-${process.getuid?.() ?? 0}`}-tls`;
  const tlsUrl = (query: string) => {
    const u = new URL(testPgUrl());
    u.hostname = 'localhost'; // the test server's certificate names localhost only
    return `${u.toString()}?${query}`;
  };
  const sslOf = async (url: string) => {
    const db = openPgStateDb({ url, schema: `tls_probe_${process.pid}` }, []);
    try {
      const r = await db.query<{ ssl: boolean }>(`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`);
      return r.rows[0].ssl;
    } finally {
      await db.close();
    }
  };

  it('honours sslmode / sslrootcert from the URL: verify-full with the right CA connects over TLS, a wrong CA is refused', async () => {
    expect(await sslOf(testPgUrl())).toBe(false);
    expect(await sslOf(tlsUrl('sslmode=require'))).toBe(true);
    expect(await sslOf(tlsUrl(`sslmode=verify-full&sslrootcert=${caDir}/ca.crt`))).toBe(true);
    await expect(sslOf(tlsUrl(`sslmode=verify-full&sslrootcert=${caDir}/wrong-ca.crt`))).rejects.toThrow(/state\(pg\): cannot connect to the state database on localhost:\d+\/rivet_test/);
  });

  it('warns when the state server is remote and the connection unencrypted; not when local or encrypted', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', sink: (l) => lines.push(l) });
    openPgStateDb({ url: 'postgresql://u:p@db.internal/state', schema: 's' }, [], log);
    openPgStateDb({ url: 'postgresql://u:p@db.internal/state?sslmode=require', schema: 's' }, [], log);
    openPgStateDb({ url: 'postgresql://u:p@127.0.0.1/state', schema: 's' }, [], log);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WARN .*state\(pg\): the state database db\.internal:5432\/state is not on this machine and the connection is not encrypted; add sslmode=require/);
  });

  it('creates its schema on first use, idempotently, with the version table at the latest version, even when two stores start at once', async () => {
    const schema = `state_mig_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
    const stores = [0, 1, 2].map(() => openPostgresStateStore({ url: testPgUrl(), schema }));
    try {
      await Promise.all(stores.map((s) => s.listCursors()));
      const versions = await pgExec<{ version: string }>(`SELECT version FROM ${schema}.rivet_schema_version`);
      expect(versions.map((v) => Number(v.version))).toEqual([7]);
      const tables = await pgExec<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
      expect(tables.map((t) => t.t)).toEqual(['chunk_run', 'chunk_task', 'export_cursor_boundary', 'export_metrics', 'export_progression', 'export_schema', 'export_state', 'file_log', 'rivet_schema_version', 'run_aggregate', 'run_journal', 'run_lease']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
});

describe('DynamoDB state connection', () => {
  it('a missing table fails with the table named and a hint to create it', async () => {
    useDynamoLocalCredentials();
    const store = openDynamoStateStore({ table: `missing-${process.pid}`, endpoint: dynamoLocalEndpoint(), region: 'us-east-1' });
    try {
      const e = (await store.getCursor('x').catch((err: unknown) => err)) as RivetError;
      expect(e).toBeInstanceOf(RivetError);
      expect(e.message).toMatch(new RegExp(`^state\\(dynamodb\\): GetItem on table missing-${process.pid} failed: ResourceNotFoundException`));
      expect(e.hint).toMatch(/create the table/);
    } finally {
      await store.close();
    }
  });
});
