import { describe, expect, it } from 'vitest';
import { createParquetWriter } from '../../../shared/format/parquet-writer.js';
import { decodeThriftStruct, encodeThriftStruct, ThriftType } from '../../../shared/format/thrift-compact.js';
import { FIXTURE_COLUMNS, fixtureBatch, fixtureSchema } from './all-types-fixture.js';
import { MemorySink } from './file-sink.js';

/** The footer patch is only safe if the generic codec re-encodes what it decodes byte for byte. */
describe('thrift compact codec', () => {
  it('round-trips real Parquet footers exactly', async () => {
    // Columns without json/uuid, so the writer leaves its footer as parquet-rs wrote it.
    const columns = FIXTURE_COLUMNS.filter((c) => c.name !== 'c_json' && c.name !== 'c_uuid');
    const schema = fixtureSchema(columns);
    const sink = new MemorySink();
    const writer = await createParquetWriter(schema, sink, { compression: 'zstd', rowGroupRows: 3 });
    await writer.write(fixtureBatch(columns));
    await writer.finish();
    const file = Buffer.concat(sink.chunks);
    const len = file.readUInt32LE(file.length - 8);
    const footer = new Uint8Array(file.subarray(file.length - 8 - len, file.length - 8));
    const decoded = decodeThriftStruct(footer);
    expect(decoded.find((f) => f.id === 3)?.value).toEqual({ type: ThriftType.I64, value: 8n }); // num_rows
    expect(Buffer.from(encodeThriftStruct(decoded))).toEqual(Buffer.from(footer));
  });

  it('encodes long field-id gaps, negative numbers, lists over 14 items and bool fields', () => {
    const s = [
      { id: 1, value: { type: ThriftType.I32, value: -123456 } },
      { id: 40, value: { type: ThriftType.I64, value: -(2n ** 62n) } },
      { id: 41, value: { type: ThriftType.True, value: true } },
      { id: 42, value: { type: ThriftType.List, elementType: ThriftType.I32, value: Array.from({ length: 20 }, (_, i) => ({ type: ThriftType.I32, value: i - 10 })) } },
      { id: 43, value: { type: ThriftType.Binary, value: new TextEncoder().encode('rivet') } },
      { id: 44, value: { type: ThriftType.Double, value: 1.5 } },
    ] as Parameters<typeof encodeThriftStruct>[0];
    expect(decodeThriftStruct(encodeThriftStruct(s))).toEqual(s);
  });
});
