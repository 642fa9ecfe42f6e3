import { open, type FileHandle } from 'node:fs/promises';
import type { ByteSink } from '../../../shared/format/format-writer.js';

/** A ByteSink over a local file that also records how many writes it received. */
export class FileSink implements ByteSink {
  writes = 0;
  bytes = 0;
  private constructor(private readonly fh: FileHandle) {}

  static async create(path: string): Promise<FileSink> {
    return new FileSink(await open(path, 'w'));
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.writes++;
    this.bytes += chunk.length;
    await this.fh.write(chunk);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A ByteSink that keeps everything in memory (small outputs only). */
export class MemorySink implements ByteSink {
  readonly chunks: Uint8Array[] = [];
  async write(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk.slice());
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
