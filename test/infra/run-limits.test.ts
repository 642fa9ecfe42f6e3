import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthRivet } from './synth.js';
import { loadConfig } from '../../shared/config/load.js';
import { silentLogger } from '../../shared/log/logger.js';
import { configRunDeps } from '../../shared/run/local-deps.js';
import { resolveExport } from '../../shared/run/resolve-export.js';
import { runLimits } from '../../shared/run/run-limits.js';
import { exportChunk } from '../../shared/run/export-chunk.js';
import { openStateStore } from '../../shared/state/open-state-store.js';
import type { RunDeps } from '../../shared/run/run-deps.js';

/**
 * Attempts per chunk and task concurrency come from one rule (shared/run/run-limits.ts) on
 * both drivers: the synthesized state machine (worker Retry, Map MaxConcurrency) says what a
 * local run of the same export does — and exportChunk really makes that many attempts.
 * `nocheckpoint` is the case where the stack once re-derived its own number:
 * a non-checkpointed chunked export with `chunk_max_attempts` gets `max_retries + 1`.
 */
type Json = Record<string, unknown>;
const EXPECTED: Record<string, { attempts: number; concurrency: number }> = {
  checkpointed: { attempts: 5, concurrency: 3 },
  nocheckpoint: { attempts: 2, concurrency: 2 },
  single: { attempts: 3, concurrency: 1 },
};

let dir: string;
let machines: Record<string, Json>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rivet-limits-'));
  const dest = (n: string) => `destination: { type: local, path: "${dir}/out/${n}" }`;
  writeFileSync(
    path.join(dir, 'rivet.yaml'),
    `source: { type: postgres, url_env: LIMITS_DATABASE_URL }
exports:
  - { name: checkpointed, table: public.t, mode: chunked, chunk_column: id, chunk_checkpoint: true, chunk_max_attempts: 5, parallel: 3, format: parquet, tuning: { max_retries: 1, retry_backoff_ms: 1 }, ${dest('checkpointed')} }
  - { name: nocheckpoint, table: public.t, mode: chunked, chunk_column: id, chunk_max_attempts: 5, parallel: 2, format: parquet, tuning: { max_retries: 1, retry_backoff_ms: 1 }, ${dest('nocheckpoint')} }
  - { name: single, table: public.t, format: csv, tuning: { max_retries: 2, retry_backoff_ms: 1 }, ${dest('single')} }
`,
  );
  writeFileSync(path.join(dir, 'rivet.deploy.yaml'), 'secrets: {}\n');
  const { template } = await synthRivet(path.join(dir, 'rivet.deploy.yaml'));
  machines = {};
  for (const [id, r] of Object.entries(template.findResources('AWS::StepFunctions::StateMachine'))) {
    const body = (r as { Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }).Properties.DefinitionString['Fn::Join'][1];
    const text = body.map((p) => (typeof p === 'string' ? p : '"TOKEN"')).join('').replace(/""TOKEN""/g, '"TOKEN"');
    machines[id] = JSON.parse(text.replace(/"arn:"TOKEN"[^"]*"/g, '"arn"').replace(/"TOKEN"/g, '"x"')) as Json;
  }
}, 120_000);

function deployed(exportName: string): { attempts: number; concurrency: number } {
  const [, def] = Object.entries(machines).find(([id]) => id.toLowerCase().startsWith(exportName))!;
  const map = (def.States as Record<string, Json>).Chunks as { MaxConcurrency: number; ItemProcessor: { States: { ExportChunk: { Retry?: { ErrorEquals: string[]; MaxAttempts: number }[] } } } };
  const retry = map.ItemProcessor.States.ExportChunk.Retry?.find((r) => r.ErrorEquals.includes('Rivet.Retryable'));
  return { attempts: 1 + (retry?.MaxAttempts ?? 0), concurrency: map.MaxConcurrency };
}

/** How many times a local exportChunk opens the source when every attempt fails with a transient error. */
async function localAttempts(exportName: string): Promise<number> {
  const env = { ...process.env, LIMITS_DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/db?sslmode=disable' };
  const state = openStateStore({ sqlitePath: path.join(dir, `${exportName}.db`), env: {} });
  const base = configRunDeps({ configPath: path.join(dir, 'rivet.yaml'), state, log: silentLogger, env });
  let opened = 0;
  const deps: RunDeps = {
    ...base,
    openSource: () => {
      opened++;
      // A broken connection (SQLSTATE class 08): transient for PostgreSQL.
      return Promise.reject(Object.assign(new Error('connection failure'), { code: '08006', severity: 'FATAL' }));
    },
  };
  const task = { runId: `${exportName}_1`, exportName, params: {}, prefix: path.join(dir, 'out', exportName), taskIndex: 0, partNumber: 1, sql: 'SELECT 1' };
  const err = await exportChunk(task, deps).catch((e: unknown) => e);
  await state.close();
  // Out of attempts on a transient error: the error still says the task may run again.
  expect(err, `${String(err)} after ${opened}`).toMatchObject({ retryable: true });
  return opened;
}

describe('attempts per chunk and concurrency: one rule, both drivers', () => {
  it.each(Object.keys(EXPECTED))('%s', async (name) => {
    const loaded = await loadConfig(path.join(dir, 'rivet.yaml'), { env: { LIMITS_DATABASE_URL: 'postgresql://u:p@h/db?sslmode=disable' }, log: silentLogger });
    const resolved = runLimits(resolveExport(loaded, name, {}, silentLogger, { LIMITS_DATABASE_URL: 'postgresql://u:p@h/db?sslmode=disable' }));
    const want = EXPECTED[name];
    expect({ attempts: resolved.taskAttempts, concurrency: resolved.concurrency }).toEqual(want);
    expect(deployed(name)).toEqual(want);
    expect(await localAttempts(name)).toBe(want.attempts);
  }, 60_000);
});
