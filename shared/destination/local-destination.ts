import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, link, readdir, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { RivetError } from '../errors/rivet-error.js';
import type { Destination, ObjectInfo, PartWriter, PutOptions } from './destination.js';

/**
 * A directory on local disk. Parts are written to a hidden temp file next to their final
 * name and published with `link()`, which is atomic and fails if the name exists: a reader
 * never sees half a part, and no run can replace a part another run committed.
 */
export function openLocalDestination(root: string): Destination {
  const base = resolve(root);
  const abs = (key: string) => {
    const p = resolve(base, key);
    if (p !== base && !p.startsWith(base + sep)) {
      throw new RivetError('DESTINATION', `refusing to write outside the destination directory: ${key}`);
    }
    return p;
  };
  const tempName = (final: string) => join(dirname(final), `.${final.split(sep).pop()}.${randomBytes(6).toString('hex')}.tmp`);

  const publish = async (temp: string, final: string, ifAbsent: boolean) => {
    if (ifAbsent) {
      try {
        await link(temp, final);
      } catch (e) {
        await unlink(temp).catch(() => {});
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new RivetError('DESTINATION', `${final} already exists; rivet never replaces a committed part`, {
            hint: 'another run wrote this part; run `rivet validate` on the prefix or choose another destination path',
          });
        }
        throw destError('publish', final, e);
      }
      await unlink(temp).catch(() => {});
    } else {
      await rename(temp, final).catch((e) => {
        throw destError('publish', final, e);
      });
    }
  };

  return {
    kind: 'local',
    uri: pathToFileURL(base).href,
    capabilities: { streaming: false, createOnly: true, listingHasMd5: false },

    async openPart(key) {
      const final = abs(key);
      await ensureDir(dirname(final));
      const temp = tempName(final);
      const stream = createWriteStream(temp, { flags: 'wx' });
      let size = 0;
      let failed: unknown = null;
      stream.on('error', (e) => (failed = e));
      const part: PartWriter = {
        key,
        write: (chunk) => writeChunk(stream, chunk, () => failed).then(() => void (size += chunk.byteLength)),
        async commit() {
          await endStream(stream);
          if (failed) throw destError('write', temp, failed);
          await publish(temp, final, true);
          return { sizeBytes: size };
        },
        async abort() {
          // Wait for the stream to close: destroying it before its open finished would
          // otherwise let the temp file appear after the unlink.
          if (!stream.closed) {
            const closed = new Promise<void>((res) => stream.once('close', () => res()));
            stream.destroy();
            await closed;
          }
          await unlink(temp).catch(() => {});
        },
      };
      return part;
    },

    async put(key, body, options: PutOptions = {}) {
      const final = abs(key);
      await ensureDir(dirname(final));
      const temp = tempName(final);
      await writeFile(temp, body, { flag: 'wx' }).catch((e) => {
        throw destError('write', final, e);
      });
      await publish(temp, final, options.ifAbsent === true);
    },

    async get(key) {
      try {
        return new Uint8Array(await readFile(abs(key)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw destError('read', key, e);
      }
    },

    async head(key) {
      try {
        const s = await stat(abs(key));
        return s.isFile() ? { key, sizeBytes: s.size } : null;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw destError('stat', key, e);
      }
    },

    async *read(key) {
      const stream = createReadStream(abs(key));
      try {
        for await (const chunk of stream) yield new Uint8Array((chunk as Buffer).buffer, (chunk as Buffer).byteOffset, (chunk as Buffer).byteLength);
      } catch (e) {
        throw destError('read', key, e);
      } finally {
        stream.destroy();
      }
    },

    async readRange(key, offset, length) {
      let fh;
      try {
        fh = await open(abs(key), 'r');
        const out = new Uint8Array(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(out, got, length - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        if (got !== length) throw new Error(`the file ends ${length - got} bytes before the end of the range ${offset}+${length}`);
        return out;
      } catch (e) {
        throw destError('read', key, e);
      } finally {
        await fh?.close();
      }
    },

    async list(prefix = '') {
      const out: ObjectInfo[] = [];
      const walk = async (dir: string, rel: string) => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw destError('list', dir, e);
        }
        for (const ent of entries) {
          const key = rel ? `${rel}/${ent.name}` : ent.name;
          if (ent.isDirectory()) await walk(join(dir, ent.name), key);
          else if (ent.isFile() && !ent.name.endsWith('.tmp')) {
            if (key.startsWith(prefix)) out.push({ key, sizeBytes: (await stat(join(dir, ent.name))).size });
          }
        }
      };
      await walk(base, '');
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async move(from, to) {
      const src = abs(from);
      const dst = abs(to);
      await ensureDir(dirname(dst));
      try {
        await rename(src, dst);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw destError('move', from, e);
        await copyFile(src, dst);
        await unlink(src);
      }
    },

    async delete(key) {
      await unlink(abs(key)).catch((e) => {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw destError('delete', key, e);
      });
    },
  };
}

/**
 * `mkdir -p` one level at a time. Node's own recursive mkdir can spin forever under some
 * pseudo-filesystems (seen with a path under /proc); this one fails with a clear error.
 */
async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    try {
      if ((await stat(cur)).isDirectory()) break;
      throw destError('create directory', cur, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e instanceof RivetError ? e : destError('create directory', cur, e);
      missing.push(cur);
      const parent = dirname(cur);
      if (parent === cur) break;
      cur = parent;
    }
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((e) => {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw destError('create directory', d, e);
    });
  }
}

function destError(action: string, path: string, cause: unknown): RivetError {
  const reason = (cause as NodeJS.ErrnoException)?.code ?? (cause instanceof Error ? cause.message : String(cause));
  return new RivetError('DESTINATION', `cannot ${action} ${path}: ${reason}`, {
    hint: 'check that the destination path exists or can be created and is writable',
    cause,
  });
}

function writeChunk(stream: WriteStream, chunk: Uint8Array, failed: () => unknown): Promise<void> {
  const err = failed();
  if (err) return Promise.reject(err);
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((res, rej) => {
    const onDrain = () => {
      stream.off('error', onError);
      res();
    };
    const onError = (e: unknown) => {
      stream.off('drain', onDrain);
      rej(e);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

function endStream(stream: WriteStream): Promise<void> {
  return new Promise((res) => {
    if (stream.closed) return res();
    stream.end(() => res());
    stream.once('error', () => res());
  });
}
