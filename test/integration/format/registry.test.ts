import { Field, Int32, List, Schema } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ByteSink } from '../../../shared/format/format-writer.js';
import { createFormatWriter, fileExtension } from '../../../shared/format/registry.js';
import { fixtureBatch, fixtureSchema } from './all-types-fixture.js';
import { MemorySink } from './file-sink.js';

describe('format registry', () => {
  it('maps formats to extensions', () => {
    expect(fileExtension('parquet')).toBe('parquet');
    expect(fileExtension('csv')).toBe('csv');
  });

  it('dispatches to the Parquet and CSV writers', async () => {
    for (const format of ['parquet', 'csv'] as const) {
      const sink = new MemorySink();
      const writer = await createFormatWriter(format, fixtureSchema(), sink, { compression: 'snappy' });
      expect(writer.format).toBe(format);
      expect(writer.extension).toBe(format);
      await writer.write(fixtureBatch());
      await writer.finish();
      const bytes = Buffer.concat(sink.chunks);
      if (format === 'parquet') expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
      else expect(bytes.toString('utf8').startsWith('c_bool,c_int16,')).toBe(true);
    }
  });

  it('CSV refuses nested columns at creation while Parquet takes them', async () => {
    const schema = new Schema([new Field('tags', new List(new Field('item', new Int32(), true)), true)]);
    const sink: ByteSink = { write: async () => undefined };
    await expect(createFormatWriter('csv', schema, sink, { compression: 'none' })).rejects.toMatchObject({ code: 'FORMAT' });
    const writer = await createFormatWriter('parquet', schema, sink, { compression: 'none' });
    writer.abort();
  });
});
