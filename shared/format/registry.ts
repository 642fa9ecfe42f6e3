import type { Schema } from 'apache-arrow';
import { createCsvWriter } from './csv-writer.js';
import type { ByteSink, FileFormat, FormatOptions, FormatWriter } from './format-writer.js';
import { createThreadedParquetWriter } from './threaded-parquet-writer.js';

/** The writer for `format`, bound to one file's schema and sink. */
export function createFormatWriter(format: FileFormat, schema: Schema, sink: ByteSink, options: FormatOptions): Promise<FormatWriter> {
  switch (format) {
    case 'parquet':
      return createThreadedParquetWriter(schema, sink, options);
    case 'csv':
      return createCsvWriter(schema, sink, options);
  }
}

/** File extension (without the dot) for `format`; CSV is never compressed, so never `.csv.gz`. */
export function fileExtension(format: FileFormat): 'parquet' | 'csv' {
  return format;
}
