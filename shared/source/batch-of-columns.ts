import { makeData, RecordBatch, Struct, type Data, type Schema } from 'apache-arrow';

/** One RecordBatch from finished column data, all `rows` long, in the schema's field order. */
export function batchOfColumns(schema: Schema, children: Data[], rows: number): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}
