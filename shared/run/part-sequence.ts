import type { RecordBatch, Schema } from 'apache-arrow';
import { RivetError } from '../errors/rivet-error.js';
import type { Destination, PartWriter } from '../destination/destination.js';
import { fileExtension } from '../format/registry.js';
import { createCheckedFormatWriter } from '../format/checked-format-writer.js';
import type { FileFormat, FormatOptions, FormatWriter } from '../format/format-writer.js';
import { publishPart } from './commit.js';
import { partKey } from './layout.js';
import { PartHasher, type PartFingerprint } from './part-hasher.js';
import { ContentTally, verifyPartContent } from './content-verify.js';
import type { ReceiptPart } from './run-plan.js';

/**
 * The parts one task writes, numbered from the task's first part number. A part is opened
 * on the first row (an empty result writes no file) and, with `max_file_size`, closed and
 * published once the encoder has flushed that many bytes; the next row opens the next part.
 */
export class PartSequence {
  private current: { part: PartWriter; writer: FormatWriter; hasher: PartHasher; key: string; partNumber: number; tally: ContentTally | null } | null = null;
  private readonly done: ReceiptPart[] = [];
  private nextNumber: number;

  constructor(
    private readonly dest: Destination,
    private readonly format: FileFormat,
    private readonly options: FormatOptions,
    firstPartNumber: number,
    private readonly maxFileSize?: number,
    /** `verify: content`: each part is read back from the destination once published (content-verify.ts). */
    private readonly verifyContent = false,
  ) {
    this.nextNumber = firstPartNumber;
  }

  /** Parts already published by this sequence (they cannot be taken back). */
  get published(): readonly ReceiptPart[] {
    return this.done;
  }

  async write(batch: RecordBatch): Promise<void> {
    if (batch.numRows === 0) return;
    const current = await this.open(batch.schema);
    await current.writer.write(batch);
    current.tally?.add(batch);
    if (this.maxFileSize && current.writer.bytesWritten >= this.maxFileSize) await this.close();
  }

  /**
   * CSV records already rendered (ADR 0009); `max_file_size` rolls between pieces. Not with
   * `verify: content`, whose counts come from batches.
   */
  async writeRendered(schema: Schema, bytes: Uint8Array, rows: number): Promise<void> {
    if (rows === 0) return;
    if (this.verifyContent) throw new RivetError('INTERNAL', 'rendered CSV rows cannot be checked by verify: content');
    const current = await this.open(schema);
    await current.writer.writeRendered!(bytes, rows);
    if (this.maxFileSize && current.writer.bytesWritten >= this.maxFileSize) await this.close();
  }

  /** Whether `verify: content` reads parts back (it needs the batches). */
  get verifiesContent(): boolean {
    return this.verifyContent;
  }

  private async open(schema: Schema): Promise<NonNullable<PartSequence['current']>> {
    if (!this.current) {
      const partNumber = this.nextNumber++;
      const key = partKey(partNumber, fileExtension(this.format));
      const part = await this.dest.openPart(key);
      const hasher = await PartHasher.create();
      try {
        // Read back as it is written: a part that does not parse as what was written is never published.
        const writer = await createCheckedFormatWriter(this.format, schema, hasher.tee(part), this.options, `part ${key}`);
        this.current = { part, writer, hasher, key, partNumber, tally: this.verifyContent && !this.dest.capabilities.streaming ? new ContentTally(this.format, schema) : null };
      } catch (e) {
        hasher.dispose();
        await part.abort();
        throw e;
      }
    }
    return this.current;
  }

  /** Finish and publish the open part, if any; returns every part this sequence published. */
  async finish(): Promise<ReceiptPart[]> {
    await this.close();
    return [...this.done];
  }

  /** Drop the open part; published parts stay. Never throws. */
  async abort(): Promise<void> {
    const c = this.current;
    this.current = null;
    if (!c) return;
    c.writer.abort();
    c.hasher.dispose();
    await c.part.abort();
  }

  private async close(): Promise<void> {
    const c = this.current;
    if (!c) return;
    this.current = null;
    let fingerprint: PartFingerprint;
    try {
      await c.writer.finish();
      // Before publishing: a part whose fingerprint failed must not become visible.
      fingerprint = await c.hasher.digest();
    } catch (e) {
      c.hasher.dispose();
      await c.part.abort();
      throw e;
    }
    const rows = c.writer.rowsWritten;
    const { sizeBytes } = await publishPart(c.part);
    this.done.push({ partNumber: c.partNumber, path: c.key, rows, sizeBytes, ...fingerprint });
    // Read back once visible, from where readers will find it; a mismatch fails the task (its
    // published parts are then set aside with the failed run and nothing is committed).
    if (c.tally) await verifyPartContent(this.dest, c.key, sizeBytes, this.format, c.tally.schema, c.tally.counts);
  }
}
