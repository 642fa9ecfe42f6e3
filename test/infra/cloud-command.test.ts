import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { cloudRun, cloudStatus, statusLine } from '../../cli/commands/cloud-actions.js';

/**
 * `rivet cloud run|status` against moto's Step Functions API (it accepts executions but
 * does not run Lambda tasks, which state-machine.test.ts covers): naming by run id, the
 * refused double start, and the status line.
 */
const ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_S3_PORT ?? 54340}`;
const sfn = new SFNClient({ region: 'us-east-1', endpoint: ENDPOINT, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const stack = `CloudCmd${process.pid}${Math.floor(Math.random() * 1e6)}`;
let config: string;

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }),
    text: () => chunks.join(''),
  };
}

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rivet-cloud-'));
  config = path.join(dir, 'rivet.yaml');
  writeFileSync(config, 'source: { type: postgres, url_env: SOME_DB_URL }\nexports:\n  - { name: orders, table: public.orders, format: parquet, destination: { type: s3, bucket: b, prefix: p/ } }\n');
  await sfn.send(
    new CreateStateMachineCommand({
      name: `${stack}-orders`,
      roleArn: 'arn:aws:iam::123456789012:role/rivet-test',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
    }),
  );
});

describe('rivet cloud', () => {
  it('starts an execution named by the run id and refuses a second start of the same run', async () => {
    const out = sink();
    const opts = { config, export: 'orders', stack, at: '2026-05-01T03:00:00Z' };
    expect(await cloudRun(opts, sfn, out.stream)).toBe(0);
    expect(out.text()).toMatch(/started run orders_20260501T030000\.000\n {2}execution arn:aws:states:.*:execution:.*-orders:orders_20260501T030000\.000/);
    await expect(cloudRun(opts, sfn, sink().stream)).rejects.toThrow(/run orders_20260501T030000\.000 was already started/);

    const status = sink();
    await cloudStatus({ config, export: 'orders', stack, runId: 'orders_20260501T030000.000' }, sfn, status.stream);
    expect(status.text()).toMatch(/orders_20260501T030000\.000/);
  });

  it('refuses an export the config does not have, before calling AWS', async () => {
    await expect(cloudRun({ config, export: 'invoices', stack }, sfn, sink().stream)).rejects.toThrow(/export 'invoices' is not in/);
  });

  it('draws the Map run counts as a progress bar', () => {
    const line = statusLine({ status: 'RUNNING', name: 'orders_x' }, { total: 8, succeeded: 2, failed: 0, running: 2 });
    expect(line).toBe('RUNNING    [######------------------] 2/8 chunks (2 running, 0 failed)  orders_x');
  });
});
