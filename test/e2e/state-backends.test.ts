import { access, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { countWithDuckDB } from '../helpers/readers.js';
import { DYNAMO_LOCAL_ENV, dropStateTable, freshStateTable } from '../integration/state/state-backends.js';
import type { DynamoStateTarget } from '../../shared/state/dynamodb/dynamo-state-table.js';

/**
 * `rivet run` and the state commands of the built CLI with the state in PostgreSQL and in
 * DynamoDB Local (RIVET_STATE_URL). The state is read back with each service's own client,
 * not through our store, and no `.rivet_state.db` may appear next to the config.
 */
let source: string;

beforeAll(async () => {
  source = await freshSchema('e2e_statebk');
  await pgExec(`CREATE TABLE ${source}.orders (id bigint PRIMARY KEY, note text);
    INSERT INTO ${source}.orders SELECT g, 'n' || g FROM generate_series(1, 40) g;
    CREATE TABLE ${source}.big (id bigint PRIMARY KEY);
    INSERT INTO ${source}.big SELECT generate_series(1, 500);`);
});

const exists = (p: string) => access(p).then(() => true, () => false);

interface Backend {
  name: string;
  env(): NodeJS.ProcessEnv;
  /** The stored cursor, read with the service's own client. */
  cursor(exportName: string): Promise<string | null>;
}

let pgStateSchema = '';
const pgBackend: Backend = {
  name: 'postgres',
  env: () => ({ RIVET_STATE_URL: `${testPgUrl()}?schema=${pgStateSchema}` }),
  async cursor(exportName) {
    const rows = await pgExec<{ v: string }>(`SELECT last_cursor_value AS v FROM ${pgStateSchema}.export_state WHERE export_name = $1`, [exportName]);
    return rows[0]?.v ?? null;
  },
};

let table: DynamoStateTarget | null = null;
const dynamoBackend: Backend = {
  name: 'dynamodb',
  env: () => ({ ...DYNAMO_LOCAL_ENV, RIVET_STATE_URL: `dynamodb://${table!.table}?endpoint=${encodeURIComponent(table!.endpoint!)}` }),
  async cursor(exportName) {
    const sdk = await import('@aws-sdk/client-dynamodb');
    const client = new sdk.DynamoDBClient({ endpoint: table!.endpoint, region: 'us-east-1' });
    try {
      const r = await client.send(new sdk.GetItemCommand({ TableName: table!.table, Key: { pk: { S: 'CURSOR' }, sk: { S: exportName } }, ConsistentRead: true }));
      return r.Item?.cursor?.S ?? null;
    } finally {
      client.destroy();
    }
  },
};

beforeAll(async () => {
  pgStateSchema = `e2e_state_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  table = await freshStateTable('rivet-e2e-state');
});

afterAll(async () => {
  await pgExec(`DROP SCHEMA IF EXISTS ${pgStateSchema} CASCADE`);
  if (table) await dropStateTable(table);
});

describe.each([pgBackend, dynamoBackend])('state in $name (built CLI)', (backend) => {
  it('incremental export twice: the cursor advances in the backend; state show / metrics / files / journal / reset read it there', async () => {
    const dir = await mkdtemp(join(tmpdir(), `rivet-state-${backend.name}-`));
    const out = join(dir, 'out');
    const cfg = join(dir, 'rivet.yaml');
    const exportName = `orders_${backend.name}`;
    await writeFile(
      cfg,
      `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: ${exportName}\n    query: SELECT id, note FROM ${source}.orders WHERE id <= (SELECT max_id FROM ${source}.limits)\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: ${out} }\n`,
    );
    await pgExec(`CREATE TABLE IF NOT EXISTS ${source}.limits (max_id bigint); DELETE FROM ${source}.limits; INSERT INTO ${source}.limits VALUES (40);`);
    const env = backend.env();

    const run1 = await runCli(['run', '-c', cfg], { env });
    expect(run1.code, run1.stderr).toBe(0);
    expect(await backend.cursor(exportName)).toBe('40');
    expect(await exists(join(dir, '.rivet_state.db'))).toBe(false);

    await pgExec(`UPDATE ${source}.limits SET max_id = 55; INSERT INTO ${source}.orders SELECT g, 'n' || g FROM generate_series(41, 55) g ON CONFLICT DO NOTHING;`);
    const run2 = await runCli(['run', '-c', cfg], { env });
    expect(run2.code, run2.stderr).toBe(0);
    expect(await backend.cursor(exportName)).toBe('55');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { parts: { path: string; rows: number }[] };
    expect(manifest.parts.map((p) => p.rows)).toEqual([40, 15]);
    expect(await countWithDuckDB(join(out, manifest.parts[1].path))).toBe(15);

    const show = await runCli(['state', 'show', '-c', cfg], { env });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stderr).toBe(''); // e.g. no AWS SDK Node-version notice under the table
    expect(show.stdout).toMatch(new RegExp(`\\n${exportName.padEnd(30)} ${'55'.padEnd(40)} \\d{4}-\\d\\d-\\d\\dT[\\d:.]+\\+00:00\\n`));

    const metrics = await runCli(['metrics', '-c', cfg, '-e', exportName], { env });
    expect(metrics.code, metrics.stderr).toBe(0);
    const metricLines = metrics.stdout.split('\n').filter((l) => l.startsWith(exportName));
    expect(metricLines).toHaveLength(2);
    expect(metricLines[0]).toMatch(/success\s+15\s/);
    expect(metricLines[1]).toMatch(/success\s+40\s/);

    const files = await runCli(['state', 'files', '-c', cfg, '-e', exportName], { env });
    expect(files.code, files.stderr).toBe(0);
    expect(files.stdout).toMatch(/part-000002\.parquet\s+15\s/);
    expect(files.stdout).toMatch(/part-000001\.parquet\s+40\s/);

    const journal = await runCli(['journal', '-c', cfg, '-e', exportName], { env });
    expect(journal.code, journal.stderr).toBe(0);
    expect(journal.stdout.match(/run_id: /g)).toHaveLength(2);

    const reset = await runCli(['state', 'reset', '-c', cfg, '-e', exportName], { env });
    expect(reset.code, reset.stderr).toBe(0);
    expect(await backend.cursor(exportName)).toBeNull();
    expect(await exists(join(dir, '.rivet_state.db'))).toBe(false);
  });

  it('chunk_checkpoint: the chunk run and its tasks are recorded in the backend and `state chunks` shows them', async () => {
    const dir = await mkdtemp(join(tmpdir(), `rivet-state-ck-${backend.name}-`));
    const cfg = join(dir, 'rivet.yaml');
    const exportName = `ck_${backend.name}`;
    await writeFile(
      cfg,
      `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: ${exportName}\n    table: ${source}.big\n    mode: chunked\n    chunk_column: id\n    chunk_size: 200\n    chunk_checkpoint: true\n    format: parquet\n    destination: { type: local, path: ${join(dir, 'out')} }\n`,
    );
    const env = backend.env();
    const r = await runCli(['run', '-c', cfg], { env });
    expect(r.code, r.stderr).toBe(0);
    const shown = await runCli(['state', 'chunks', '-c', cfg, '-e', exportName], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`\\nexport: {5}${exportName}\\nrun_id: {5}${exportName}_\\d{8}T\\d{6}\\.\\d{3}\\n`));
    expect(shown.stdout).toMatch(/\nstatus: {5}completed\n/);
    const taskLines = shown.stdout.split('\n').filter((l) => /^\d+\s+completed\s/.test(l));
    expect(taskLines).toHaveLength(3);
    expect(taskLines[0]).toMatch(/^0\s+completed\s+1\s+200\s+1\s+200 part-000001\.parquet$/);
    expect(await exists(join(dir, '.rivet_state.db'))).toBe(false);
  });
});

describe('state backend selection errors', () => {
  it('an unusable RIVET_STATE_URL is a config error (exit 2) with a hint, and never shows its password', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-state-bad-'));
    const cfg = join(dir, 'rivet.yaml');
    await writeFile(cfg, `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: o\n    table: ${source}.orders\n    format: csv\n    destination: { type: local, path: ${join(dir, 'out')} }\n`);
    for (const url of ['mysql://admin:Sup3rSecretPw@db.example.com/state', 'postgresql://admin:Sup3rSecretPw@db.example.com:5432/state?schema=bad-name']) {
      for (const args of [['run', '-c', cfg], ['state', 'show', '-c', cfg]]) {
        const r = await runCli(args, { env: { RIVET_STATE_URL: url } });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/RIVET_STATE_URL/);
        expect(r.stderr).toMatch(/postgresql:\/\/.*dynamodb:\/\//);
        expect(r.stderr + r.stdout).not.toContain('Sup3rSecretPw');
      }
    }
    expect(await exists(join(dir, 'out'))).toBe(false);
  });

  it('an unreachable PostgreSQL state server fails the run without leaking the password', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-state-down-'));
    const cfg = join(dir, 'rivet.yaml');
    await writeFile(cfg, `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: o\n    table: ${source}.orders\n    mode: incremental\n    cursor_column: id\n    format: csv\n    destination: { type: local, path: ${join(dir, 'out')} }\n`);
    const r = await runCli(['run', '-c', cfg], { env: { RIVET_STATE_URL: 'postgresql://rivet:Sup3rSecretPw@127.0.0.1:1/statedb' } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/state\(pg\): cannot connect to the state database on 127\.0\.0\.1:1\/statedb/);
    expect(r.stderr).not.toContain('Sup3rSecretPw');
  });
});
