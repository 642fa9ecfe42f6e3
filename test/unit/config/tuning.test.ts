import { describe, expect, it } from 'vitest';
import { ExportConfigSchema, SourceConfigSchema } from '../../../shared/config/schema.js';
import { PROFILES, resolveTuning } from '../../../shared/config/tuning.js';

const source = (extra: object = {}) => SourceConfigSchema.parse({ type: 'postgres', url_env: 'X', ...extra });
const exp = (extra: object = {}) =>
  ExportConfigSchema.parse({ name: 'e', query: 'q', format: 'csv', destination: { type: 'stdout' }, ...extra });

describe('tuning profiles', () => {
  it('has the reference numbers exactly', () => {
    expect(PROFILES.fast).toMatchObject({ batchSize: 50000, throttleMs: 0, statementTimeoutS: 0, maxRetries: 1, retryBackoffMs: 1000, lockTimeoutS: 0, memoryThresholdMb: 0, maxValueMb: 256 });
    expect(PROFILES.balanced).toMatchObject({ batchSize: 10000, throttleMs: 50, statementTimeoutS: 300, maxRetries: 3, retryBackoffMs: 2000, lockTimeoutS: 30, memoryThresholdMb: 4096, maxValueMb: 256 });
    expect(PROFILES.safe).toMatchObject({ batchSize: 2000, throttleMs: 500, statementTimeoutS: 120, maxRetries: 5, retryBackoffMs: 5000, lockTimeoutS: 10, memoryThresholdMb: 2048, maxValueMb: 256 });
    for (const p of Object.values(PROFILES)) {
      expect(p).toMatchObject({ maxBatchMemoryMb: null, onBatchMemoryExceeded: 'warn', adaptive: false, minParallel: null });
    }
  });
});

describe('resolveTuning', () => {
  it('defaults to balanced with the label "balanced (default)"', () => {
    const t = resolveTuning(source(), exp());
    expect(t.profile).toBe('balanced');
    expect(t.profileLabel).toBe('balanced (default)');
    expect(t.batchSize).toBe(10000);
    expect(t.batchSizeMemoryMb).toBeNull();
  });

  it('derives the profile from source.environment', () => {
    expect(resolveTuning(source({ environment: 'local' }), exp())).toMatchObject({ profile: 'fast', profileLabel: 'fast (default for environment: local)', batchSize: 50000 });
    expect(resolveTuning(source({ environment: 'replica' }), exp()).profileLabel).toBe('balanced (default for environment: replica)');
    expect(resolveTuning(source({ environment: 'production' }), exp()).profile).toBe('balanced');
  });

  it('an explicit profile beats the environment and is labelled plainly', () => {
    const t = resolveTuning(source({ environment: 'local', tuning: { profile: 'safe' } }), exp());
    expect(t).toMatchObject({ profile: 'safe', profileLabel: 'safe', throttleMs: 500 });
  });

  it('merges export over source field by field, explicit fields over the profile', () => {
    const t = resolveTuning(
      source({ tuning: { profile: 'fast', batch_size: 1234, throttle_ms: 7, max_retries: 9 } }),
      exp({ tuning: { profile: 'safe', throttle_ms: 8 } }),
    );
    expect(t.profile).toBe('safe');
    expect(t.batchSize).toBe(1234);
    expect(t.throttleMs).toBe(8);
    expect(t.maxRetries).toBe(9);
    expect(t.lockTimeoutS).toBe(10);
    expect(t.statementTimeoutS).toBe(120);
  });

  it('keeps an explicit zero', () => {
    expect(resolveTuning(source({ tuning: { statement_timeout_s: 0, max_value_mb: 0 } }), exp())).toMatchObject({ statementTimeoutS: 0, maxValueMb: 0 });
  });
});
