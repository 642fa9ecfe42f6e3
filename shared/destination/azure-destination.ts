import { createHash, randomBytes } from 'node:crypto';
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageRetryPolicyType,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { configError } from '../errors/rivet-error.js';
import { createLogger, type Logger } from '../log/logger.js';
import { BlockPipeline } from './block-pipeline.js';
import type { Destination, ObjectInfo, PartWriter, PutOptions } from './destination.js';
import { alreadyExistsError, destinationError } from './destination-error.js';
import { exactRange } from './exact-range.js';
import { normalizePrefix, objectName, relativeKey } from './object-prefix.js';
import { prepareSasToken } from './sas-token.js';
import { readSecretEnv } from './secret-env.js';

export interface AzureDestinationOptions {
  /** The container. */
  bucket?: string;
  prefix?: string;
  accountName?: string;
  accountKeyEnv?: string;
  sasTokenEnv?: string;
  allowAnonymous?: boolean;
  /** Blob service URL, e.g. Azurite's `http://127.0.0.1:10000/devstoreaccount1`. */
  endpoint?: string;
  blockSize?: number;
  maxInFlight?: number;
  /** Total attempts per request (first try included). */
  maxAttempts?: number;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

const DEFAULT_BLOCK = 8 * 1024 * 1024;

/**
 * An Azure Blob container prefix. Every object, small or large, is written as staged
 * blocks (each sent with a transactional MD5 the service verifies) and made visible by a
 * single Put Block List with `If-None-Match: *`, so an existing blob is never replaced and
 * an aborted part leaves only uncommitted blocks, which are invisible and which the
 * service discards after a week.
 */
export function openAzureDestination(options: AzureDestinationOptions): Destination {
  const container = options.bucket;
  if (!container) throw configError('an Azure destination needs `bucket` (the container name)');
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger();
  if (options.allowAnonymous && (options.accountName || options.accountKeyEnv || options.sasTokenEnv)) {
    throw configError('anonymous Azure access (`allow_anonymous: true`) excludes `account_name`, `account_key_env` and `sas_token_env`');
  }
  if (options.accountKeyEnv && options.sasTokenEnv) {
    throw configError('`account_key_env` and `sas_token_env` cannot both be set, choose a single auth method');
  }
  if (!options.allowAnonymous) {
    if (!options.accountName) {
      throw configError('Azure needs `account_name` (plus `account_key_env` or `sas_token_env`), or `allow_anonymous: true` for Azurite');
    }
    if (!options.accountKeyEnv && !options.sasTokenEnv) {
      throw configError('Azure needs `account_key_env` or `sas_token_env` (or `allow_anonymous: true` for Azurite)');
    }
  } else if (!options.endpoint) {
    throw configError('anonymous Azure access needs `endpoint` (the blob service URL, e.g. Azurite\'s)');
  }
  // Never keep a query string from the configured endpoint: a pasted SAS would end up in URIs.
  const base = (options.endpoint ?? `https://${options.accountName}.blob.core.windows.net`).replace(/[?#].*$/, '').replace(/\/+$/, '');

  const pipelineOptions: StoragePipelineOptions = {
    // Exponential backoff on throttling, 5xx and network errors, bounded in tries and delay.
    retryOptions: {
      retryPolicyType: StorageRetryPolicyType.EXPONENTIAL,
      maxTries: options.maxAttempts ?? 5,
      retryDelayInMs: 200,
      maxRetryDelayInMs: 10_000,
    },
  };
  let service: BlobServiceClient;
  if (options.accountKeyEnv) {
    const key = readSecretEnv(options.accountKeyEnv, 'Azure storage account key', env);
    service = new BlobServiceClient(base, new StorageSharedKeyCredential(options.accountName!, key), pipelineOptions);
  } else if (options.sasTokenEnv) {
    const sas = prepareSasToken(readSecretEnv(options.sasTokenEnv, 'Azure SAS token', env), logger);
    service = new BlobServiceClient(`${base}?${sas}`, new AnonymousCredential(), pipelineOptions);
  } else {
    service = new BlobServiceClient(base, new AnonymousCredential(), pipelineOptions);
  }
  const containerClient = service.getContainerClient(container);
  const blockSize = Math.max(options.blockSize ?? DEFAULT_BLOCK, 1);
  const maxInFlight = Math.max(options.maxInFlight ?? 2, 1);
  const prefix = normalizePrefix(options.prefix);
  const uriOf = (name: string) => `${base}/${container}/${name}`;
  const fail = (action: string, name: string, e: unknown) => destinationError(action, uriOf(name), e);

  /** Stage blocks, then commit them create-only (or replacing, for non-exclusive puts). */
  const openUpload = (name: string) => {
    const blob = containerClient.getBlockBlobClient(name);
    // Block ids must all have one length within a blob; the nonce keeps ours apart from
    // another writer's uncommitted blocks under the same name.
    const nonce = randomBytes(8).toString('hex');
    const blockId = (i: number) => Buffer.from(`${nonce}-${String(i).padStart(6, '0')}`).toString('base64');
    const whole = createHash('md5');
    let size = 0;
    const pipeline = new BlockPipeline<string>({
      blockSize,
      maxInFlight,
      async upload(index, block) {
        const id = blockId(index);
        const md5 = createHash('md5').update(block).digest();
        await blob.stageBlock(id, block, block.byteLength, { transactionalContentMD5: md5 });
        return id;
      },
    });
    return {
      async write(chunk: Uint8Array) {
        whole.update(chunk);
        size += chunk.byteLength;
        try {
          await pipeline.write(chunk);
        } catch (e) {
          throw fail('upload a block of', name, e);
        }
      },
      async commit(ifAbsent: boolean): Promise<number> {
        let ids: string[];
        try {
          ids = await pipeline.finish();
        } catch (e) {
          throw fail('upload a block of', name, e);
        }
        try {
          await blob.commitBlockList(ids, {
            ...(ifAbsent ? { conditions: { ifNoneMatch: '*' } } : {}),
            // Stored, not checked (the blocks were); it is what listings report as the MD5.
            blobHTTPHeaders: { blobContentMD5: whole.digest(), blobContentType: 'application/octet-stream' },
          });
        } catch (e) {
          if (isAlreadyExists(e)) throw alreadyExistsError(uriOf(name));
          throw fail('commit the blocks of', name, e);
        }
        return size;
      },
      abort: () => pipeline.abort(),
    };
  };

  return {
    kind: 'azure',
    uri: `${base}/${container}/${prefix}`,
    capabilities: { streaming: false, createOnly: true, listingHasMd5: true },

    async openPart(key) {
      const upload = openUpload(objectName(prefix, key));
      let settled = false;
      const part: PartWriter = {
        key,
        write: (chunk) => upload.write(chunk),
        async commit() {
          try {
            return { sizeBytes: await upload.commit(true) };
          } finally {
            settled = true;
          }
        },
        async abort() {
          if (settled) return;
          settled = true;
          // Nothing to delete: deleting the name could remove a blob another run committed.
          await upload.abort().catch(() => {});
        },
      };
      return part;
    },

    async put(key, body, putOptions: PutOptions = {}) {
      const upload = openUpload(objectName(prefix, key));
      await upload.write(typeof body === 'string' ? new TextEncoder().encode(body) : body);
      await upload.commit(putOptions.ifAbsent === true);
    },

    async get(key) {
      const name = objectName(prefix, key);
      try {
        const buf = await containerClient.getBlockBlobClient(name).downloadToBuffer();
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        if (isNotFound(e)) return null;
        throw fail('read', name, e);
      }
    },

    async head(key) {
      const name = objectName(prefix, key);
      try {
        const p = await containerClient.getBlockBlobClient(name).getProperties();
        return { key, sizeBytes: p.contentLength ?? 0, ...(p.contentMD5 ? { md5: Buffer.from(p.contentMD5).toString('base64') } : {}) };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw fail('stat', name, e);
      }
    },

    async *read(key) {
      const name = objectName(prefix, key);
      let body: NodeJS.ReadableStream | undefined;
      try {
        body = (await containerClient.getBlockBlobClient(name).download()).readableStreamBody;
      } catch (e) {
        throw fail('read', name, e);
      }
      if (!body) return;
      try {
        for await (const chunk of body) {
          const b = chunk as Buffer;
          yield new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
        }
      } catch (e) {
        throw fail('read', name, e);
      } finally {
        (body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      }
    },

    async readRange(key, offset, length) {
      const name = objectName(prefix, key);
      try {
        return exactRange(await containerClient.getBlockBlobClient(name).downloadToBuffer(offset, length), offset, length);
      } catch (e) {
        throw fail('read', name, e);
      }
    },

    async list(sub = '') {
      const out: ObjectInfo[] = [];
      try {
        for await (const b of containerClient.listBlobsFlat({ prefix: objectName(prefix, sub) })) {
          const rel = relativeKey(prefix, b.name);
          if (!rel) continue;
          const md5 = b.properties.contentMD5 ? Buffer.from(b.properties.contentMD5).toString('base64') : undefined;
          out.push({ key: rel, sizeBytes: b.properties.contentLength ?? 0, ...(md5 ? { md5 } : {}) });
        }
      } catch (e) {
        throw fail('list', objectName(prefix, sub), e);
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async move(from, to) {
      const src = containerClient.getBlockBlobClient(objectName(prefix, from));
      const dst = containerClient.getBlockBlobClient(objectName(prefix, to));
      try {
        // Same-account copies complete synchronously in practice; the poller covers the rest.
        const poller = await dst.beginCopyFromURL(src.url);
        await poller.pollUntilDone();
      } catch (e) {
        throw fail(`copy to ${uriOf(objectName(prefix, to))} from`, objectName(prefix, from), e);
      }
      try {
        await src.deleteIfExists();
      } catch (e) {
        throw fail('delete (after copying it)', objectName(prefix, from), e);
      }
    },

    async delete(key) {
      const name = objectName(prefix, key);
      try {
        await containerClient.getBlockBlobClient(name).deleteIfExists();
      } catch (e) {
        throw fail('delete', name, e);
      }
    },
  };
}

type AzureError = { statusCode?: number; code?: string; details?: { errorCode?: string } };

function isAlreadyExists(e: unknown): boolean {
  const err = e as AzureError;
  return err?.statusCode === 412 || (err?.statusCode === 409 && (err.code ?? err.details?.errorCode) === 'BlobAlreadyExists');
}

function isNotFound(e: unknown): boolean {
  return (e as AzureError)?.statusCode === 404;
}
