import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testPgUrl } from '../helpers/pg.js';

const S3_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_S3_PORT ?? 54340}`;
const AZURE_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_AZURE_PORT ?? 54342}/devstoreaccount1`;

async function config(body: string): Promise<{ cfg: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-doctor-'));
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, body.replaceAll('DIR', dir));
  return { cfg, dir };
}

async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const exp = (name: string, dest: string) => `  - name: ${name}\n    query: SELECT 1 AS x\n    format: csv\n    destination: ${dest}\n`;

describe('rivet doctor', () => {
  it('passes when the source and every destination accept us, and leaves no probe behind', async () => {
    const { cfg, dir } = await config(`source:\n  type: postgres\n  url_env: DOCTOR_PG\nexports:\n${exp('a', '{ type: local, path: DIR/out }')}${exp('b', '{ type: stdout }')}`);
    const r = await runCli(['doctor', '-c', cfg], { env: { DOCTOR_PG: testPgUrl() } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[OK\] +config parsed/);
    expect(r.stdout).toMatch(/\[OK\] +source reachable/);
    expect(r.stdout).toMatch(/\[OK\] +destination Local\(.*out\)/);
    expect(r.stdout).toMatch(/All checks passed\./);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(join(dir, 'out'))).toEqual([]);
  });

  it('names each failure with its kind and a hint, keeps going, exits 1, and never prints the password', async () => {
    const port = await deadPort();
    const { cfg } = await config(
      `source:\n  type: postgres\n  url: postgresql://rivet:doctor-secret-pw@127.0.0.1:${port}/db\nexports:\n` +
        exp('s3', `{ type: s3, bucket: rivet-doctor-no-such-bucket, region: us-east-1, endpoint: "${S3_ENDPOINT}", access_key_env: DOC_AK, secret_key_env: DOC_SK }`) +
        exp('az', `{ type: azure, bucket: rivet-doctor, endpoint: "${AZURE_ENDPOINT}", account_name: devstoreaccount1, account_key_env: DOC_AZ }`),
    );
    const wrongKey = Buffer.from('not-the-azurite-key-but-well-formed-0123456789').toString('base64');
    const r = await runCli(['doctor', '-c', cfg], { env: { DOC_AK: 'ak', DOC_SK: 'doctor-s3-secret', DOC_AZ: wrongKey } });
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/\[FAIL\] source connectivity error: .*127\.0\.0\.1/);
    expect(r.stdout).toMatch(/\[FAIL\] destination S3\(rivet-doctor-no-such-bucket\) -- bucket not found/);
    expect(r.stdout).toMatch(/\[FAIL\] destination Azure\(rivet-doctor\) -- auth error/);
    expect(r.stdout).toMatch(/hint: rivet never creates buckets/);
    expect(r.stdout).toMatch(/3 check\(s\) failed/);
    for (const secret of ['doctor-secret-pw', 'doctor-s3-secret', wrongKey]) {
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
  });

  it('a destination credential env var that is not set is a config error: exit 2, named', async () => {
    const { cfg } = await config(
      `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n` +
        exp('s3', `{ type: s3, bucket: b, region: us-east-1, endpoint: "${S3_ENDPOINT}", access_key_env: DOCTOR_UNSET_AK, secret_key_env: DOCTOR_UNSET_SK }`),
    );
    const r = await runCli(['doctor', '-c', cfg]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/\[FAIL\] destination S3\(b\) -- config error: .*DOCTOR_UNSET_AK/);
  });

  it('an invalid config exits 2 with one clear line', async () => {
    const { cfg } = await config('source: { type: postgres, url: x }\nexports: []\n');
    const r = await runCli(['doctor', '-c', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*exports/m);
  });
});
