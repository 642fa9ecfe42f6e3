import type { Writable } from 'node:stream';
import { RivetError } from '../errors/rivet-error.js';
import type { Destination, PartWriter } from './destination.js';

/**
 * Standard output: the file's bytes, streamed as they are encoded. Nothing can be listed,
 * read back or undone, so there is no manifest and no `_SUCCESS` (capabilities.streaming).
 */
export function openStdoutDestination(out: Writable = process.stdout): Destination {
  const unsupported = (what: string) => async (): Promise<never> => {
    throw new RivetError('DESTINATION', `the stdout destination cannot ${what}`);
  };
  return {
    kind: 'stdout',
    uri: 'stdout:',
    capabilities: { streaming: true, createOnly: false, listingHasMd5: false },
    async openPart(key) {
      let size = 0;
      const part: PartWriter = {
        key,
        write: (chunk) =>
          new Promise<void>((res, rej) => {
            size += chunk.byteLength;
            const ok = out.write(chunk, (err) => (err ? rej(err) : undefined));
            if (ok) res();
            else out.once('drain', () => res());
          }),
        commit: async () => ({ sizeBytes: size }),
        abort: async () => {},
      };
      return part;
    },
    put: unsupported('store objects'),
    get: async () => null,
    head: async () => null,
    read: () => {
      throw new RivetError('DESTINATION', 'the stdout destination cannot read objects back');
    },
    readRange: () => Promise.reject(new RivetError('DESTINATION', 'the stdout destination cannot read objects back')),
    list: async () => [],
    move: unsupported('move objects'),
    delete: async () => {},
  };
}
