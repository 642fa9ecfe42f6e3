import { Field, Int64, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { QualityTracker, rowCountIssues } from '../../../shared/quality/quality-tracker.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const schema = new Schema([new Field('id', new Int64(), true), new Field('label', new Utf8(), true)]);

function batch(ids: (bigint | null)[], labels: (string | null)[]): RecordBatch {
  const children = [vectorFromArray(ids, new Int64()).data[0], vectorFromArray(labels, new Utf8()).data[0]];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: ids.length, nullCount: 0, children }));
}

describe('QualityTracker', () => {
  it('row-count bounds, with the actual count and the bound', () => {
    expect(rowCountIssues({ row_count_min: 10 }, 9)).toEqual([{ severity: 'fail', message: 'row count 9 is below the minimum 10' }]);
    expect(rowCountIssues({ row_count_max: 10 }, 11)).toEqual([{ severity: 'fail', message: 'row count 11 exceeds the maximum 10' }]);
    expect(rowCountIssues({ row_count_min: 10, row_count_max: 10 }, 10)).toEqual([]);
  });

  it('null ratio is strict (>) with 4 decimals; a missing column counts no NULLs; no rows, no ratio', () => {
    const t = new QualityTracker({ null_ratio_max: { label: 0.25, nope: 0 } });
    t.observe(batch([1n, 2n], ['a', null]));
    t.observe(batch([3n, 4n], ['b', 'c']));
    expect(t.issues()).toEqual([]); // exactly 0.25 passes
    t.observe(batch([5n], [null]));
    expect(t.issues()).toEqual([{ severity: 'fail', message: "column 'label' null ratio 0.4000 exceeds the maximum 0.2500" }]);
    expect(new QualityTracker({ null_ratio_max: { label: 0 } }).issues()).toEqual([]);
  });

  it('uniqueness across batches; NULLs are not duplicates and never equal the empty string', () => {
    const t = new QualityTracker({ unique_columns: ['id', 'label'] });
    t.observe(batch([1n, 2n, null], [null, '', null]));
    t.observe(batch([3n, null, 4n], [null, 'x', 'y']));
    expect(t.issues()).toEqual([]);
    t.observe(batch([2n, 2n], ['', 'x']));
    expect(t.issues()).toEqual([
      { severity: 'fail', message: "column 'id' has 2 duplicate values in 8 rows" },
      { severity: 'fail', message: "column 'label' has 2 duplicate values in 8 rows" },
    ]);
  });

  it('gives up a column past unique_max_entries with a warning instead of growing', () => {
    const t = new QualityTracker({ unique_columns: ['id'], unique_max_entries: 100 });
    t.observe(batch(Array.from({ length: 100 }, (_, i) => BigInt(i)), Array.from({ length: 100 }, () => null)));
    expect(t.issues()).toEqual([]);
    t.observe(batch([5n, 500n], [null, null]));
    expect(t.issues()).toEqual([{ severity: 'warn', message: "column 'id' has more than 100 distinct values; uniqueness was not checked past that (raise quality.unique_max_entries to check it all)" }]);
  });

  it('agrees with a plain count of duplicates on random data', () => {
    const rnd = seededRandom(11);
    for (let round = 0; round < 20; round++) {
      const t = new QualityTracker({ unique_columns: ['id', 'label'], null_ratio_max: { label: 1 } });
      const all: { id: bigint | null; label: string | null }[] = [];
      for (let b = 0; b < 5; b++) {
        const n = Math.floor(rnd() * 50);
        const rows = Array.from({ length: n }, () => ({ id: rnd() < 0.1 ? null : BigInt(Math.floor(rnd() * 200)), label: rnd() < 0.2 ? null : `v${Math.floor(rnd() * 100)}` }));
        all.push(...rows);
        t.observe(batch(rows.map((r) => r.id), rows.map((r) => r.label)));
      }
      const dupes = (vals: unknown[]) => vals.filter((v) => v !== null).length - new Set(vals.filter((v) => v !== null)).size;
      const want = [
        ['id', dupes(all.map((r) => r.id))],
        ['label', dupes(all.map((r) => r.label))],
      ]
        .filter(([, d]) => (d as number) > 0)
        .map(([c, d]) => `column '${c}' has ${d} duplicate value${d === 1 ? '' : 's'} in ${all.length} rows`);
      expect(t.rows).toBe(all.length);
      expect(t.issues().map((i) => i.message)).toEqual(all.length === 0 ? [] : want);
    }
  });
});
