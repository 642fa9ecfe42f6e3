import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { configError } from '../errors/rivet-error.js';
import { registerSecret } from '../log/redact.js';
import { BlockPipeline } from './block-pipeline.js';
import type { Destination, ObjectInfo, PartWriter, PutOptions } from './destination.js';
import { alreadyExistsError, destinationError } from './destination-error.js';
import { exactRange } from './exact-range.js';
import { normalizePrefix, objectName, relativeKey } from './object-prefix.js';
import { readSecretEnv } from './secret-env.js';

export interface S3DestinationOptions {
  bucket?: string;
  prefix?: string;
  region?: string;
  /** Custom endpoint (MinIO, moto, GovCloud): requests go path-style to it. */
  endpoint?: string;
  accessKeyEnv?: string;
  secretKeyEnv?: string;
  sessionTokenEnv?: string;
  awsProfile?: string;
  /** Multipart part size; S3 requires ≥ 5 MiB for every part but the last. */
  blockSize?: number;
  /** Parts uploading at once per open part. */
  maxInFlight?: number;
  /** Total attempts per request (first try included). */
  maxAttempts?: number;
  env?: NodeJS.ProcessEnv;
}

// The pinned SDK supports Node 20; its notice is about SDK releases after January 2027 and
// would otherwise print a multi-line warning on every S3 run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const DEFAULT_BLOCK = 8 * 1024 * 1024;
const MIN_BLOCK = 5 * 1024 * 1024;

/**
 * An S3 bucket prefix. A part is a multipart upload that becomes an object only when
 * `CompleteMultipartUpload` succeeds, sent with `If-None-Match: *` so a key another run
 * committed is never replaced; a part smaller than one block goes up as one conditional
 * PutObject instead. Every body carries `Content-MD5`, so S3 itself rejects bytes damaged
 * in transit, and the returned ETags are compared with the MD5s computed here.
 */
export function openS3Destination(options: S3DestinationOptions): Destination {
  const bucket = options.bucket;
  if (!bucket) throw configError('an S3 destination needs `bucket`', 'set destination.bucket to the bucket name');
  if ((options.accessKeyEnv === undefined) !== (options.secretKeyEnv === undefined)) {
    throw configError(
      'S3 needs both `access_key_env` and `secret_key_env`, or neither (then the default AWS credential chain is used)',
    );
  }
  const env = options.env ?? process.env;
  const blockSize = Math.max(options.blockSize ?? DEFAULT_BLOCK, MIN_BLOCK);
  const maxInFlight = Math.max(options.maxInFlight ?? 2, 1);
  const prefix = normalizePrefix(options.prefix);
  const uriOf = (name: string) => `s3://${bucket}/${name}`;

  const config: S3ClientConfig = {
    // The SDK's standard retry mode: exponential backoff with full jitter on throttling,
    // 5xx and transient network errors, bounded by maxAttempts.
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: 'standard',
    // We send Content-MD5 on every body ourselves; the SDK's default extra CRC32 would cost
    // CPU for nothing and some S3-compatible stores reject its trailer encoding.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (options.region) config.region = options.region;
  else if (options.endpoint) config.region = 'us-east-1';
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.forcePathStyle = true;
  }
  if (options.accessKeyEnv && options.secretKeyEnv) {
    const accessKeyId = readSecretEnv(options.accessKeyEnv, 'S3 access key id', env);
    const secretAccessKey = readSecretEnv(options.secretKeyEnv, 'S3 secret access key', env);
    const sessionToken = options.sessionTokenEnv ? readSecretEnv(options.sessionTokenEnv, 'S3 session token', env) : undefined;
    config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  } else if (options.awsProfile) {
    config.profile = options.awsProfile;
  }
  const client = new S3Client(config);
  // Credentials the SDK resolves itself (aws_profile, the default chain) never pass through
  // readSecretEnv: register what each signed request carries (access key id, session token)
  // so a store quoting them back in an error prints `***`. The secret key never travels.
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      registerSecret(headers['x-amz-security-token']);
      registerSecret(/Credential=([^/,\s]+)\//.exec(headers.authorization ?? '')?.[1]);
      return next(args);
    },
    { step: 'deserialize', name: 'rivetRegisterResolvedCredentials' },
  );

  const fail = (action: string, name: string, e: unknown) => destinationError(action, uriOf(name), e);

  const putObject = async (name: string, body: Uint8Array, ifAbsent: boolean) => {
    const md5 = createHash('md5').update(body).digest();
    let res;
    try {
      res = await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: name,
          Body: body,
          ContentLength: body.byteLength,
          ContentMD5: md5.toString('base64'),
          ...(ifAbsent ? { IfNoneMatch: '*' } : {}),
        }),
      );
    } catch (e) {
      if (isPreconditionFailed(e)) throw alreadyExistsError(uriOf(name));
      throw fail('write', name, e);
    }
    checkEtag(uriOf(name), res.ETag, res.ServerSideEncryption, md5.toString('hex'));
  };

  return {
    kind: 's3',
    uri: `s3://${bucket}/${prefix}`,
    capabilities: { streaming: false, createOnly: true, listingHasMd5: false },

    async openPart(key) {
      const name = objectName(prefix, key);
      const whole = createHash('md5');
      let size = 0;
      let uploadId: Promise<string> | null = null;
      let done = false;
      const ensureUpload = () =>
        (uploadId ??= client
          .send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: name }))
          .then((r) => {
            if (!r.UploadId) throw new Error('S3 returned no UploadId');
            return r.UploadId;
          }));
      const pipeline = new BlockPipeline<{ PartNumber: number; ETag: string; md5: Buffer }>({
        blockSize,
        maxInFlight,
        async upload(index, block) {
          const id = await ensureUpload();
          const md5 = createHash('md5').update(block).digest();
          const res = await client.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: name,
              UploadId: id,
              PartNumber: index + 1,
              Body: block,
              ContentLength: block.byteLength,
              ContentMD5: md5.toString('base64'),
            }),
          );
          checkEtag(uriOf(name), res.ETag, res.ServerSideEncryption, md5.toString('hex'));
          return { PartNumber: index + 1, ETag: res.ETag ?? '', md5 };
        },
      });
      const abortUpload = async () => {
        await pipeline.abort();
        if (uploadId) {
          const id = await uploadId.catch(() => null);
          if (id) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: name, UploadId: id })).catch(() => {});
        }
      };

      const part: PartWriter = {
        key,
        async write(chunk) {
          whole.update(chunk);
          size += chunk.byteLength;
          try {
            await pipeline.write(chunk);
          } catch (e) {
            throw fail('upload a block of', name, e);
          }
        },
        async commit() {
          if (!pipeline.started) {
            await putObject(name, pipeline.tail(), true);
            done = true;
            return { sizeBytes: size };
          }
          try {
            let parts;
            try {
              parts = await pipeline.finish();
            } catch (e) {
              throw fail('upload a block of', name, e);
            }
            const id = await ensureUpload();
            // The ETag S3 gives a completed multipart object: MD5 of the concatenated part MD5s, then "-<count>".
            const expected = `${createHash('md5').update(Buffer.concat(parts.map((p) => p.md5))).digest('hex')}-${parts.length}`;
            let res;
            try {
              res = await client.send(
                new CompleteMultipartUploadCommand({
                  Bucket: bucket,
                  Key: name,
                  UploadId: id,
                  IfNoneMatch: '*',
                  MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
                }),
              );
            } catch (e) {
              if (isPreconditionFailed(e)) {
                // A retried Complete whose first attempt landed meets its own object: only a
                // byte-identical object (same multipart ETag) counts as ours.
                if (attempts(e) > 1 && (await headEtag(client, bucket, name)) === expected) {
                  done = true;
                  return { sizeBytes: size };
                }
                throw alreadyExistsError(uriOf(name));
              }
              throw fail('complete the multipart upload of', name, e);
            }
            checkEtag(uriOf(name), res.ETag, res.ServerSideEncryption, expected);
            done = true;
            return { sizeBytes: size };
          } finally {
            if (!done) await abortUpload();
          }
        },
        async abort() {
          if (done) return;
          done = true;
          await abortUpload().catch(() => {});
        },
      };
      return part;
    },

    async put(key, body, putOptions: PutOptions = {}) {
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
      await putObject(objectName(prefix, key), bytes, putOptions.ifAbsent === true);
    },

    async get(key) {
      const name = objectName(prefix, key);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: name }));
        return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
      } catch (e) {
        if (isNotFound(e)) return null;
        throw fail('read', name, e);
      }
    },

    async head(key) {
      const name = objectName(prefix, key);
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: name }));
        const md5 = md5FromEtag(res.ETag, res.ServerSideEncryption, res.SSECustomerAlgorithm);
        return { key, sizeBytes: res.ContentLength ?? 0, ...(md5 ? { md5 } : {}) };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw fail('stat', name, e);
      }
    },

    async *read(key) {
      const name = objectName(prefix, key);
      let body: Readable;
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: name }));
        body = res.Body as Readable;
      } catch (e) {
        throw fail('read', name, e);
      }
      try {
        for await (const chunk of body) yield asBytes(chunk as Buffer);
      } catch (e) {
        throw fail('read', name, e);
      } finally {
        body.destroy();
      }
    },

    async readRange(key, offset, length) {
      const name = objectName(prefix, key);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: name, Range: `bytes=${offset}-${offset + length - 1}` }));
        return exactRange(Buffer.concat(await collect(res.Body as Readable)), offset, length);
      } catch (e) {
        throw fail('read', name, e);
      }
    },

    async list(sub = '') {
      const out: ObjectInfo[] = [];
      let token: string | undefined;
      do {
        let res;
        try {
          res = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: objectName(prefix, sub), ContinuationToken: token }),
          );
        } catch (e) {
          throw fail('list', objectName(prefix, sub), e);
        }
        for (const o of res.Contents ?? []) {
          const rel = o.Key === undefined ? null : relativeKey(prefix, o.Key);
          // Listings cannot tell whether an ETag is an MD5 (SSE-KMS, multipart), so none is reported.
          if (rel) out.push({ key: rel, sizeBytes: o.Size ?? 0 });
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async move(from, to) {
      const src = objectName(prefix, from);
      const dst = objectName(prefix, to);
      try {
        await client.send(
          new CopyObjectCommand({ Bucket: bucket, Key: dst, CopySource: `${bucket}/${src.split('/').map(encodeURIComponent).join('/')}` }),
        );
      } catch (e) {
        throw fail(`copy to ${uriOf(dst)} from`, src, e);
      }
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: src }));
      } catch (e) {
        throw fail('delete (after copying it) ', src, e);
      }
    },

    async delete(key) {
      const name = objectName(prefix, key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: name }));
      } catch (e) {
        if (!isNotFound(e)) throw fail('delete', name, e);
      }
    },
  };
}

type AwsError = Error & { $metadata?: { httpStatusCode?: number; attempts?: number }; Code?: string };

function status(e: unknown): number | undefined {
  return (e as AwsError)?.$metadata?.httpStatusCode;
}

function attempts(e: unknown): number {
  return (e as AwsError)?.$metadata?.attempts ?? 1;
}

function isPreconditionFailed(e: unknown): boolean {
  return status(e) === 412 || (e as AwsError)?.name === 'PreconditionFailed';
}

function isNotFound(e: unknown): boolean {
  const name = (e as AwsError)?.name;
  return status(e) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

/** SSE-KMS and SSE-C ETags are not MD5s; S3 already checked Content-MD5 for those. */
function etagIsMd5(sse: string | undefined, sseCustomer?: string): boolean {
  return !sseCustomer && (sse === undefined || sse === 'AES256');
}

function checkEtag(uri: string, etag: string | undefined, sse: string | undefined, expected: string): void {
  if (!etag || !etagIsMd5(sse)) return;
  const got = etag.replace(/"/g, '').toLowerCase();
  if (got !== expected) {
    throw destinationError(
      'verify',
      uri,
      new Error(`the checksum S3 reported (${got}) does not match the locally computed MD5 (${expected}); the part was damaged in transit`),
    );
  }
}

function md5FromEtag(etag: string | undefined, sse: string | undefined, sseCustomer: string | undefined): string | undefined {
  const hex = etag?.replace(/"/g, '');
  if (!hex || !/^[0-9a-f]{32}$/i.test(hex) || !etagIsMd5(sse, sseCustomer)) return undefined;
  return Buffer.from(hex, 'hex').toString('base64');
}

async function headEtag(client: S3Client, bucket: string, name: string): Promise<string | undefined> {
  const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: name })).catch(() => null);
  return res?.ETag?.replace(/"/g, '');
}

async function collect(body: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return chunks;
}

function asBytes(chunk: Buffer | Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
