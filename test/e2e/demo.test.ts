import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB, readWithPyArrow } from '../helpers/readers.js';
import { xxh3Fingerprint } from '../../shared/run/part-hasher.js';

describe('rivet demo', () => {
  it('exports the embedded sample tables with the full trust contract', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'rivet-demo-'));
    const r = await runCli(['demo'], { cwd, timeoutMs: 180_000 });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/duckdb/);
    const out = join(cwd, 'rivet-demo');
    for (const name of ['customers', 'orders', 'revenue_by_country']) {
      const files = await readdir(join(out, name));
      expect(files).toEqual(expect.arrayContaining(['manifest.json', '_SUCCESS']));
      const manifest = await readFile(join(out, name, 'manifest.json'));
      expect(await readFile(join(out, name, '_SUCCESS'), 'utf8')).toBe(`${await xxh3Fingerprint(manifest)}\n`);
      expect(JSON.parse(manifest.toString()).status).toBe('success');
    }
    const orders = await queryWithDuckDB('SELECT count(*)::INTEGER AS n, sum(amount)::VARCHAR AS total FROM read_parquet(?)', [join(out, 'orders', 'part-000001.parquet')]);
    expect(orders[0].n).toBe(50000);
    const py = await readWithPyArrow(join(out, 'customers', 'part-000001.parquet'));
    expect(py.numRows).toBe(2000);
    const csv = await readFile(join(out, 'revenue_by_country', 'part-000001.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('country,orders,revenue');
    expect(csv.trim().split('\n').length).toBe(9);
  });
});
