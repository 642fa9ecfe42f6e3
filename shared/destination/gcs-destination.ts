import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { configError } from '../errors/rivet-error.js';
import { registerSecret } from '../log/redact.js';
import type { Destination, ObjectInfo, PartWriter, PutOptions } from './destination.js';
import { alreadyExistsError, destinationError } from './destination-error.js';
import { exactRange } from './exact-range.js';
import { normalizePrefix, objectName, relativeKey } from './object-prefix.js';

export interface GcsDestinationOptions {
  bucket?: string;
  prefix?: string;
  /** Service-account JSON; without it the Application Default Credentials are used. */
  credentialsFile?: string;
  /** API root, e.g. `http://127.0.0.1:4443` for fake-gcs-server. */
  endpoint?: string;
  /** Send no credentials at all (emulators, public buckets). */
  allowAnonymous?: boolean;
  /** Total attempts per request (first try included). */
  maxAttempts?: number;
}

/**
 * A GCS bucket prefix. A part is a resumable upload streamed as one request; GCS creates
 * the object only when the upload is finalized (on `commit`), with `ifGenerationMatch: 0`
 * so an existing object is never replaced. The client checks the MD5 GCS computed against
 * its own, and we compare ours with the object's `md5Hash` once more.
 */
export function openGcsDestination(options: GcsDestinationOptions): Destination {
  const bucketName = options.bucket;
  if (!bucketName) throw configError('a GCS destination needs `bucket`', 'set destination.bucket to the bucket name');
  if (options.allowAnonymous && options.credentialsFile) {
    throw configError('GCS `allow_anonymous` cannot be combined with `credentials_file`');
  }
  if (options.credentialsFile && !existsSync(options.credentialsFile)) {
    throw configError(`credentials_file ${options.credentialsFile} does not exist`, 'point credentials_file at a service-account JSON key');
  }
  if (options.credentialsFile) registerKeyFileSecrets(options.credentialsFile);
  const storageOptions: StorageOptions = {
    // Bounded, jittered exponential backoff (the library adds up to 1 s of jitter per try).
    // Uploads are retried only when conditional (ifGenerationMatch), so never duplicated.
    retryOptions: {
      autoRetry: true,
      maxRetries: Math.max((options.maxAttempts ?? 5) - 1, 0),
      retryDelayMultiplier: 2,
      maxRetryDelay: 10,
      totalTimeout: 300,
    },
  };
  if (options.endpoint) {
    storageOptions.apiEndpoint = options.endpoint.replace(/\/+$/, '');
    // A custom endpoint is still authenticated (private/sovereign endpoints need it);
    // emulators say `allow_anonymous: true`.
    storageOptions.useAuthWithCustomEndpoint = !options.allowAnonymous;
  }
  if (options.allowAnonymous) storageOptions.authClient = new PassThroughClient();
  else if (options.credentialsFile) storageOptions.keyFilename = options.credentialsFile;
  const storage = new Storage(storageOptions);
  const bucket = storage.bucket(bucketName);
  const prefix = normalizePrefix(options.prefix);
  const uriOf = (name: string) => `gs://${bucketName}/${name}`;
  const fail = (action: string, name: string, e: unknown) => destinationError(action, uriOf(name), e);

  const verifyMd5 = (name: string, reported: string | undefined, expected: string) => {
    if (reported !== undefined && reported !== expected) {
      throw fail(
        'verify',
        name,
        new Error(`the checksum GCS reported (${reported}) does not match the locally computed MD5 (${expected}); the part was damaged in transit`),
      );
    }
  };

  return {
    kind: 'gcs',
    uri: `gs://${bucketName}/${prefix}`,
    capabilities: { streaming: false, createOnly: true, listingHasMd5: true },

    async openPart(key) {
      const name = objectName(prefix, key);
      const md5 = createHash('md5');
      let size = 0;
      let failed: unknown = null;
      let settled = false;
      const stream: Writable = bucket.file(name).createWriteStream({
        resumable: true,
        validation: 'md5',
        contentType: 'application/octet-stream',
        preconditionOpts: { ifGenerationMatch: 0 },
      });
      stream.on('error', (e) => {
        failed ??= e;
      });
      const part: PartWriter = {
        key,
        async write(chunk) {
          if (failed) throw mapUploadError(failed);
          md5.update(chunk);
          size += chunk.byteLength;
          // Copied: the upload stream queues the buffer it is given, and a caller may reuse
          // its buffer as soon as `write` resolves (the MD5 check caught exactly that).
          if (!stream.write(Buffer.from(chunk))) {
            await new Promise<void>((res) => {
              const done = () => {
                stream.off('drain', done);
                stream.off('error', done);
                res();
              };
              stream.once('drain', done);
              stream.once('error', done);
            });
            if (failed) throw mapUploadError(failed);
          }
        },
        async commit() {
          if (failed) throw mapUploadError(failed);
          stream.end();
          try {
            await finished(stream);
          } catch (e) {
            throw mapUploadError(failed ?? e);
          } finally {
            settled = true;
          }
          const [meta] = await bucket
            .file(name)
            .getMetadata()
            .catch((e: unknown) => {
              throw fail('stat', name, e);
            });
          verifyMd5(name, meta.md5Hash, md5.digest('base64'));
          return { sizeBytes: size };
        },
        async abort() {
          if (settled) return;
          settled = true;
          // Destroying the stream abandons the resumable session before it is finalized,
          // so no object appears; GCS forgets the session after a week.
          const closed = new Promise<void>((res) => stream.once('close', () => res()));
          stream.destroy(new Error('part aborted'));
          await Promise.race([closed, new Promise((res) => setTimeout(res, 5000))]);
        },
      };
      const mapUploadError = (e: unknown) => (isPreconditionFailed(e) ? alreadyExistsError(uriOf(name)) : fail('upload', name, e));
      return part;
    },

    async put(key, body, putOptions: PutOptions = {}) {
      const name = objectName(prefix, key);
      const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      try {
        await bucket.file(name).save(bytes, {
          resumable: false,
          validation: 'md5',
          contentType: 'application/octet-stream',
          ...(putOptions.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
        });
      } catch (e) {
        if (isPreconditionFailed(e)) throw alreadyExistsError(uriOf(name));
        throw fail('write', name, e);
      }
      const [meta] = await bucket
        .file(name)
        .getMetadata()
        .catch((e: unknown) => {
          throw fail('stat', name, e);
        });
      verifyMd5(name, meta.md5Hash, createHash('md5').update(bytes).digest('base64'));
    },

    async get(key) {
      const name = objectName(prefix, key);
      try {
        const [buf] = await bucket.file(name).download();
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        if (isNotFound(e)) return null;
        throw fail('read', name, e);
      }
    },

    async head(key) {
      const name = objectName(prefix, key);
      try {
        const [meta] = await bucket.file(name).getMetadata();
        return { key, sizeBytes: Number(meta.size ?? 0), ...(meta.md5Hash ? { md5: meta.md5Hash } : {}) };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw fail('stat', name, e);
      }
    },

    async *read(key) {
      const name = objectName(prefix, key);
      // The client validates the MD5/CRC32C of the whole download at the end of the stream.
      const stream = bucket.file(name).createReadStream();
      try {
        for await (const chunk of stream) {
          const b = chunk as Buffer;
          yield new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
        }
      } catch (e) {
        throw fail('read', name, e);
      } finally {
        stream.destroy();
      }
    },

    async readRange(key, offset, length) {
      const name = objectName(prefix, key);
      try {
        // A range cannot be checked against the object's CRC32C, which covers the whole object.
        const [bytes] = await bucket.file(name).download({ start: offset, end: offset + length - 1, validation: false });
        return exactRange(bytes, offset, length);
      } catch (e) {
        throw fail('read', name, e);
      }
    },

    async list(sub = '') {
      let files;
      try {
        [files] = await bucket.getFiles({ prefix: objectName(prefix, sub), autoPaginate: true });
      } catch (e) {
        throw fail('list', objectName(prefix, sub), e);
      }
      const out: ObjectInfo[] = [];
      for (const f of files) {
        const rel = relativeKey(prefix, f.name);
        if (!rel) continue;
        const md5 = f.metadata.md5Hash;
        out.push({ key: rel, sizeBytes: Number(f.metadata.size ?? 0), ...(md5 ? { md5 } : {}) });
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async move(from, to) {
      const src = objectName(prefix, from);
      const dst = objectName(prefix, to);
      try {
        await bucket.file(src).copy(bucket.file(dst));
      } catch (e) {
        throw fail(`copy to ${uriOf(dst)} from`, src, e);
      }
      try {
        await bucket.file(src).delete({ ignoreNotFound: true });
      } catch (e) {
        throw fail('delete (after copying it)', src, e);
      }
    },

    async delete(key) {
      const name = objectName(prefix, key);
      try {
        await bucket.file(name).delete({ ignoreNotFound: true });
      } catch (e) {
        throw fail('delete', name, e);
      }
    },
  };
}

/** The key file's secrets are masked in every later message, whatever the auth library echoes. */
function registerKeyFileSecrets(path: string): void {
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    for (const field of ['private_key', 'client_secret', 'refresh_token']) {
      const v = json[field];
      if (typeof v === 'string') registerSecret(v);
    }
  } catch {
    // Not JSON or unreadable: the auth library reports that itself when it loads the file.
  }
}

function code(e: unknown): unknown {
  return (e as { code?: unknown })?.code;
}

function isPreconditionFailed(e: unknown): boolean {
  return code(e) === 412;
}

function isNotFound(e: unknown): boolean {
  return code(e) === 404;
}
