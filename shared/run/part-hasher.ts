import { createMD5, createXXHash3, type IHasher } from 'hash-wasm';
import type { ByteSink } from '../format/format-writer.js';

export interface PartFingerprint {
  /** `xxh3:` + 16 lowercase hex of XXH3-64 (seed 0) of the file bytes. */
  contentFingerprint: string;
  /** Base64 MD5 of the file bytes. */
  contentMd5: string;
}

/**
 * Hashes bytes on their way to the destination, so a part is fingerprinted in the same
 * pass that writes it and never has to be read back.
 */
export class PartHasher {
  private constructor(
    private readonly xxh: IHasher,
    private readonly md5: IHasher,
  ) {}

  static async create(): Promise<PartHasher> {
    const [xxh, md5] = await Promise.all([createXXHash3(), createMD5()]);
    xxh.init();
    md5.init();
    return new PartHasher(xxh, md5);
  }

  /** A sink that hashes every chunk before passing it on. */
  tee(next: ByteSink): ByteSink {
    return {
      write: (chunk) => {
        this.xxh.update(chunk);
        this.md5.update(chunk);
        return next.write(chunk);
      },
    };
  }

  digest(): PartFingerprint {
    return {
      contentFingerprint: `xxh3:${this.xxh.digest('hex')}`,
      contentMd5: Buffer.from(this.md5.digest('binary')).toString('base64'),
    };
  }
}

/** XXH3-64 of a whole buffer, as `xxh3:<16 hex>` — the `_SUCCESS` body minus its newline. */
export async function xxh3Fingerprint(bytes: Uint8Array | string): Promise<string> {
  const h = await createXXHash3();
  h.init();
  h.update(bytes);
  return `xxh3:${h.digest('hex')}`;
}
