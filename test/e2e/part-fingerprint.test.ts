import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { countWithDuckDB } from '../helpers/readers.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { xxh3Fingerprint } from '../../shared/run/part-hasher.js';

/**
 * Parts of several MiB (hashed on the fingerprinting thread, past the inline first block),
 * written two at a time by a chunked export: each manifest entry must match the bytes on disk.
 */
let schema: string;
const ROWS = 40_000;

beforeAll(async () => {
  schema = await freshSchema('e2e_part_fp');
  await pgExec(`
    CREATE TABLE ${schema}.blobs (id bigint PRIMARY KEY, body text, n double precision);
    INSERT INTO ${schema}.blobs SELECT g, repeat(md5(g::text), 8), g / 3.0 FROM generate_series(1, ${ROWS}) g;`);
});

interface ManifestPart {
  path: string;
  rows: number;
  size_bytes: number;
  content_fingerprint: string;
  content_md5: string;
}

describe('part fingerprints on the hashing thread (built CLI, real PostgreSQL)', () => {
  for (const format of ['parquet', 'csv'] as const) {
    it(`${format}: two parts written at once, each fingerprint and MD5 equal to the file's`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rivet-e2e-fp-'));
      const out = join(dir, 'out');
      const cfg = join(dir, 'rivet.yaml');
      await writeFile(
        cfg,
        `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: blobs\n    table: ${schema}.blobs\n    format: ${format}\n` +
          `    compression: none\n    mode: chunked\n    chunk_column: id\n    chunk_size: 20000\n    parallel: 2\n    destination: { type: local, path: ${out} }\n`,
      );
      const r = await runCli(['run', '-c', cfg], { env: { RIVET_LOG: 'debug' } });
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code).toBe(0);
      // The thread really ran (a missing thread falls back to inline hashing silently otherwise).
      expect(r.stderr).toMatch(/part fingerprinting thread started/);
      const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { parts: ManifestPart[] };
      expect(manifest.parts).toHaveLength(2);
      for (const p of manifest.parts) {
        const bytes = await readFile(join(out, p.path));
        expect(bytes.length).toBe(p.size_bytes);
        expect(bytes.length).toBeGreaterThan(4 * 1024 * 1024);
        expect(p.content_fingerprint).toBe(await xxh3Fingerprint(bytes));
        expect(p.content_md5).toBe(createHash('md5').update(bytes).digest('base64'));
      }
      if (format === 'parquet') expect(await countWithDuckDB(`${out}/*.parquet`)).toBe(ROWS);
    });
  }

  it('the thread neither keeps a finished process alive nor lets it exit while a digest is awaited', async () => {
    const hasher = new URL('../../dist/shared/run/part-hasher.js', import.meta.url).href;
    const script = `
      import { PartHasher } from ${JSON.stringify(hasher)};
      const h = await PartHasher.create();
      const sink = h.tee({ write: async () => {} });
      await sink.write(new Uint8Array(5 * 1024 * 1024).fill(7));
      const d = await h.digest();
      console.log(JSON.stringify(d));`;
    // No process.exit in the script: it ends only when nothing keeps the event loop alive.
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    const want = new Uint8Array(5 * 1024 * 1024).fill(7);
    expect(JSON.parse(stdout)).toEqual({
      contentFingerprint: await xxh3Fingerprint(want),
      contentMd5: createHash('md5').update(want).digest('base64'),
    });
  });
});
