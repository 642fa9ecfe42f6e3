import { describe, expect, it } from 'vitest';
import { describeSchemaDiff, diffSchemas, mergedMax, shapeDrift } from '../../../shared/quality/schema-drift.js';

const base = [
  { name: 'id', type: 'Int64' },
  { name: 'amount', type: 'Decimal128(15, 4)' },
  { name: 'note', type: 'Utf8' },
];

describe('schema drift', () => {
  it('no change when only the order or the meta columns differ', () => {
    expect(diffSchemas(base, [...base].reverse())).toBeNull();
    expect(diffSchemas(base, [...base, { name: '_rivet_row_hash', type: 'Int64' }])).toBeNull();
  });

  it('reports added, removed and retyped columns, one line each', () => {
    const diff = diffSchemas(base, [
      { name: 'id', type: 'Int64' },
      { name: 'amount', type: 'Float64' },
      { name: 'status', type: 'Utf8' },
    ]);
    expect(diff).toEqual({ added: [{ name: 'status', type: 'Utf8' }], removed: ['note'], retyped: [{ name: 'amount', from: 'Decimal128(15, 4)', to: 'Float64' }] });
    expect(describeSchemaDiff(diff!)).toEqual(['added column status (Utf8)', 'removed column note', 'column amount changed type: Decimal128(15, 4) → Float64']);
  });
});

describe('shape drift', () => {
  it('warns when a text column grows past factor × its stored max; off at factor ≤ 0; new columns only start being watched', () => {
    expect(shapeDrift({ note: 10 }, { note: 21 }, 2)).toEqual([{ column: 'note', from: 10, to: 21, growth: 2.1 }]);
    expect(shapeDrift({ note: 10 }, { note: 20 }, 2)).toEqual([]);
    expect(shapeDrift({ note: 10 }, { note: 1000 }, 0)).toEqual([]);
    expect(shapeDrift({}, { note: 1000 }, 2)).toEqual([]);
    expect(shapeDrift({ note: 0 }, { note: 1000 }, 2)).toEqual([]);
    expect(mergedMax({ note: 10, old: 3 }, { note: 7, fresh: 5 })).toEqual({ note: 10, old: 3, fresh: 5 });
  });
});
