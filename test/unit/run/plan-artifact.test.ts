import { describe, expect, it } from 'vitest';
import { chunkPlanHash } from '../../../shared/run/chunk-checkpoint.js';
import { predicateFromKeys, keysOfPredicate } from '../../../shared/run/chunk-keys.js';
import { fromResolvedPlan, parsePlanArtifact, sourceConfigOf, sourceReference, toResolvedPlan } from '../../../shared/run/plan-artifact.js';
import { planStaleness } from '../../../shared/run/plan-staleness.js';
import type { ResolvedExport } from '../../../shared/run/run-deps.js';

const created = '2026-05-24T07:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(created) + ms);
const H = 3_600_000;

describe('plan staleness (docs/commands/plan.md)', () => {
  it('is silent under an hour', () => {
    expect(planStaleness('orders', created, at(59 * 60_000)).verdict).toBe('fresh');
    // A clock slightly behind the planner's is not an error.
    expect(planStaleness('orders', created, at(-5_000)).verdict).toBe('fresh');
  });
  it('warns from 1 h to 24 h, with the age in minutes', () => {
    const s = planStaleness('orders', created, at(H));
    expect(s.verdict).toBe('warn');
    expect(s.verdict === 'warn' && s.message).toContain("export 'orders' is 60 minutes old");
    expect(planStaleness('orders', created, at(24 * H - 1)).verdict).toBe('warn');
  });
  it('refuses from 24 h, in hours, then in days with the creation date past 48 h', () => {
    const a = planStaleness('orders', created, at(24 * H));
    expect(a.verdict).toBe('refuse');
    expect(a.verdict === 'refuse' && a.message).toContain('is 24 hours old, past the 24 h limit');
    const b = planStaleness('orders', created, at(75 * H));
    expect(b.verdict === 'refuse' && b.message).toContain('is 3 days (created 2026-05-24) old');
  });
});

const exp: ResolvedExport = {
  name: 'orders',
  mode: 'chunked',
  format: 'parquet',
  compression: 'zstd',
  skipEmpty: false,
  sql: 'SELECT * FROM orders',
  connection: { engine: 'postgres', url: 'postgresql://app:hunter2@db/app' },
  columnOverrides: {},
  tuning: { profile: 'balanced', profileLabel: 'balanced (default)', batchSize: 10_000, batchMemoryMb: null, throttleMs: 0, statementTimeoutS: 0, lockTimeoutS: 0, maxRetries: 3, retryBackoffMs: 10, maxValueMb: 256,
    memoryThresholdMb: 0, maxBatchMemoryMb: 64, onBatchMemoryExceeded: 'auto_shrink', adaptive: true, minParallel: 2 },
  verifyContent: true,
  destination: { kind: 'local', path: './out/{date}' },
  metaColumns: { exportedAt: false, rowHash: false },
  parallel: 2,
  chunk: { column: 'id', size: 100, dense: false, checkpoint: true, maxAttempts: 4 },
};

describe('plan fingerprint', () => {
  it('is 16 hex, stable, and changes with the query or the chunking', async () => {
    const f = await chunkPlanHash(exp);
    expect(f).toMatch(/^[0-9a-f]{16}$/);
    expect(await chunkPlanHash({ ...exp })).toBe(f);
    expect(await chunkPlanHash({ ...exp, sql: 'SELECT * FROM orders WHERE id > 5' })).not.toBe(f);
    expect(await chunkPlanHash({ ...exp, chunk: { ...exp.chunk!, size: 101 } })).not.toBe(f);
    expect(await chunkPlanHash({ ...exp, chunk: { ...exp.chunk!, column: 'other' } })).not.toBe(f);
  });
  it('survives the round trip through resolved_plan, so apply recomputes the same value', async () => {
    const { ref } = sourceReference({ type: 'postgres', url_env: 'DATABASE_URL' });
    const rp = toResolvedPlan(exp, { source: ref, configDir: '/cfg', chunkColumn: 'id', memoryThresholdMb: 0 });
    const back = fromResolvedPlan(rp, { engine: 'postgres', url: 'postgresql://x@db/app' });
    expect(await chunkPlanHash(back)).toBe(await chunkPlanHash(exp));
    expect(back.chunk).toEqual(exp.chunk);
    expect(back.parallel).toBe(2);
    expect(back.tuning).toEqual(exp.tuning);
    expect(back.verifyContent).toBe(true);
  });
});

describe('source references in the artifact', () => {
  it('drops a clear-text password and the userinfo of a literal url, keeps env/file references', () => {
    const a = sourceReference({ type: 'postgres', host: 'db', user: 'app', password: 'hunter2', database: 'app' });
    expect(a.removed).toBe(true);
    expect(JSON.stringify(a.ref)).not.toContain('hunter2');
    const b = sourceReference({ type: 'postgres', url: 'postgresql://app:hunter2@db:5432/app?sslmode=require' });
    expect(b.removed).toBe(true);
    expect(b.ref.url).toBe('postgresql://REDACTED@db:5432/app?sslmode=require');
    expect(b.ref.credentials_removed).toBe(true);
    const c = sourceReference({ type: 'postgres', host: 'db', user: 'app', password_env: 'PGPASS', database: 'app' });
    expect(c.removed).toBe(false);
    expect(sourceConfigOf(c.ref)).toEqual({ type: 'postgres', host: 'db', user: 'app', password_env: 'PGPASS', database: 'app' });
  });
});

describe('chunk bounds read back as predicates', () => {
  const s = exp.chunk!;
  it('range, NULL, day and dense chunks', () => {
    expect(predicateFromKeys(s, '1', '100')).toEqual({ kind: 'range', start: 1n, end: 100n });
    expect(predicateFromKeys(s, 'NULL', 'NULL')).toEqual({ kind: 'null' });
    expect(predicateFromKeys({ ...s, byDays: 7 }, '2024-01-01', '2024-01-07')).toEqual({ kind: 'days', from: '2024-01-01', until: '2024-01-08' });
    expect(predicateFromKeys({ ...s, dense: true }, '1', '5')).toEqual({ kind: 'dense', start: 1n, end: 5n });
    expect(predicateFromKeys(s, 'a', 'b')).toBeNull();
    expect(keysOfPredicate({ kind: 'days', from: '2024-01-01', until: '2024-01-08' })).toEqual({ startKey: '2024-01-01', endKey: '2024-01-07' });
  });
});

describe('parsePlanArtifact', () => {
  it('refuses what is not a complete artifact, naming the file and the field', () => {
    expect(() => parsePlanArtifact('{', 'p.json')).toThrow(/p\.json is not a Rivet plan artifact/);
    expect(() => parsePlanArtifact('{"rivet_version":"1"}', 'p.json')).toThrow(/plan_id/);
  });
});
