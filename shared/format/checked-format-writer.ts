import type { RecordBatch, Schema } from 'apache-arrow';
import { RivetError } from '../errors/rivet-error.js';
import { CsvRecordCounter } from './csv-record-counter.js';
import { footerFault } from './footer-fault.js';
import type { ByteSink, FileFormat, FormatOptions, FormatWriter } from './format-writer.js';
import { parquetFooterProblems } from './parquet-footer-check.js';
import { rowGroupLimits } from './row-group-limits.js';
import { ParquetReadBack } from './parquet-read-back.js';
import { createFormatWriter } from './registry.js';

/**
 * A format writer whose output is read back as it streams out and checked when it finishes,
 * before the caller may publish it: a Parquet part must parse (pages and footer) and its
 * footer must agree with what the writer was given (rows, row groups, columns); a CSV part
 * must hold as many records as rows were written. `finish` fails with FORMAT otherwise.
 * Rows are counted here, from the batches, not taken from the writer being checked.
 */
export async function createCheckedFormatWriter(format: FileFormat, schema: Schema, sink: ByteSink, options: FormatOptions, label: string): Promise<FormatWriter> {
  const check: ReadBack = format === 'parquet' ? parquetReadBack(schema, options) : csvReadBack(schema);
  const tee: ByteSink = {
    write: (chunk) => {
      // Synchronously, before the writer may reuse the buffer.
      check.feed(chunk);
      return sink.write(chunk);
    },
  };
  const fault = footerFault(format, tee);
  const inner = await createFormatWriter(format, schema, fault?.sink ?? tee, options);
  return new CheckedFormatWriter(inner, check, label, fault?.flush);
}

interface ReadBack {
  feed(chunk: Uint8Array): void;
  /** Problems with the complete file, given the rows the writer was handed. */
  problems(rows: number): string[];
}

function parquetReadBack(schema: Schema, options: FormatOptions): ReadBack {
  const reader = new ParquetReadBack();
  return {
    feed: (chunk) => reader.feed(chunk),
    problems: (rows) => {
      let result;
      try {
        result = reader.end();
      } catch (e) {
        return [`it does not parse as Parquet: ${(e as Error).message}`];
      }
      return parquetFooterProblems(result, { schema, rows, rowGroupRows: rowGroupLimits(schema, options).rows });
    },
  };
}

function csvReadBack(schema: Schema): ReadBack {
  // The header is the column names joined by commas, unquoted (docs/reference/types.md).
  const header = Buffer.byteLength(`${schema.fields.map((f) => f.name).join(',')}\n`, 'utf8');
  const counter = new CsvRecordCounter(header);
  return {
    feed: (chunk) => counter.feed(chunk),
    problems: (rows) => {
      const out: string[] = [];
      if (!counter.headerComplete) out.push('the header line is incomplete');
      if (counter.unterminatedQuote) out.push('it ends inside a quoted field');
      if (counter.records !== rows) out.push(`${counter.records} records parse back, ${rows} rows were written`);
      return out;
    },
  };
}

class CheckedFormatWriter implements FormatWriter {
  private rows = 0;

  constructor(
    private readonly inner: FormatWriter,
    private readonly check: ReadBack,
    private readonly label: string,
    private readonly flushFault?: () => Promise<void>,
  ) {}

  get format(): FileFormat {
    return this.inner.format;
  }

  get extension(): 'parquet' | 'csv' {
    return this.inner.extension;
  }

  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }

  get rowsWritten(): number {
    return this.rows;
  }

  async write(batch: RecordBatch): Promise<void> {
    await this.inner.write(batch);
    this.rows += batch.numRows;
  }

  async writeRendered(bytes: Uint8Array, rows: number): Promise<void> {
    if (!this.inner.writeRendered) throw new RivetError('INTERNAL', `the ${this.inner.format} writer takes no rendered rows`);
    await this.inner.writeRendered(bytes, rows);
    this.rows += rows;
  }

  async finish(): Promise<void> {
    await this.inner.finish();
    await this.flushFault?.();
    const problems = this.check.problems(this.rows);
    if (this.inner.rowsWritten !== this.rows) problems.push(`the writer counted ${this.inner.rowsWritten} rows, it was given ${this.rows}`);
    if (problems.length > 0) {
      throw new RivetError('FORMAT', `${this.label} does not read back as written, so it was not published: ${problems.join('; ')}`, {
        hint:
          this.inner.format === 'parquet'
            ? 'this is an encoder bug; please report it with the table definition. RIVET_PARQUET_ENCODER=wasm or =native switches to the other Parquet encoder'
            : 'this is a CSV writer bug; please report it with the table definition',
      });
    }
  }

  abort(): void {
    this.inner.abort();
  }
}
