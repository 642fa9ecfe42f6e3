import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { openAzureDestination } from '../../../shared/destination/azure-destination.js';
import type { Destination } from '../../../shared/destination/destination.js';
import { openGcsDestination } from '../../../shared/destination/gcs-destination.js';
import { openLocalDestination } from '../../../shared/destination/local-destination.js';
import { openS3Destination } from '../../../shared/destination/s3-destination.js';
import { errorChain, isRivetError } from '../../../shared/errors/rivet-error.js';
import { silentLogger } from '../../../shared/log/logger.js';

/*
 * One suite, four backends: every case below runs unchanged against the local directory,
 * S3 (moto), GCS (fake-gcs-server) and Azure Blob (azurite) started by test/services/up.sh.
 *
 * Emulator gaps (docs/destinations/*.md repeats them):
 * - moto and fake-gcs-server do not authenticate requests at all, so their "credentials
 *   never leak" cases use a loopback server that answers like a hostile S3 (echoing the
 *   request's credentials back in its error) or a rejecting OAuth token endpoint; only
 *   azurite really checks the account key.
 * - Azure keeps the blocks of an aborted part as uncommitted blocks (invisible to
 *   listings and reads; the real service drops them after 7 days). The case asserts what
 *   a reader can see, which is nothing.
 */

const S3_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_S3_PORT ?? 54340}`;
const GCS_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_GCS_PORT ?? 54341}`;
const AZURE_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_AZURE_PORT ?? 54342}/devstoreaccount1`;
const BUCKET = 'rivet-conformance';
// Azurite's documented development account key: public, not a secret.
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const MiB = 1024 * 1024;

process.env.RIVET_CONF_S3_ACCESS = 'conformance-access';
process.env.RIVET_CONF_S3_SECRET = 'conformance-secret';
process.env.RIVET_CONF_AZURE_KEY = AZURITE_KEY;

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const md5b64 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');
const runId = randomBytes(4).toString('hex');

// A collector to call before sampling RSS: what the bounded-memory case asserts is the
// memory a part keeps alive, not garbage V8 has not collected yet (its timing depends on
// whatever ran before in this process).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

interface Backend {
  name: string;
  open(prefix: string): Promise<Destination>;
}

const backends: Backend[] = [
  {
    name: 'local',
    open: async (prefix) => openLocalDestination(join(await mkdtemp(join(tmpdir(), 'rivet-conf-')), prefix)),
  },
  {
    name: 's3',
    open: async (prefix) =>
      openS3Destination({
        bucket: BUCKET,
        prefix,
        endpoint: S3_ENDPOINT,
        accessKeyEnv: 'RIVET_CONF_S3_ACCESS',
        secretKeyEnv: 'RIVET_CONF_S3_SECRET',
      }),
  },
  {
    name: 'gcs',
    open: async (prefix) => openGcsDestination({ bucket: BUCKET, prefix, endpoint: GCS_ENDPOINT, allowAnonymous: true }),
  },
  {
    name: 'azure',
    open: async (prefix) =>
      openAzureDestination({
        bucket: BUCKET,
        prefix,
        endpoint: AZURE_ENDPOINT,
        accountName: 'devstoreaccount1',
        accountKeyEnv: 'RIVET_CONF_AZURE_KEY',
        logger: silentLogger,
      }),
  },
];

beforeAll(async () => {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: 'conformance-access', secretAccessKey: 'conformance-secret' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: Error) => {
    if (!/BucketAlready/.test(e.name)) throw e;
  });
  const gcs = await fetch(`${GCS_ENDPOINT}/storage/v1/b?project=rivet`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: BUCKET }),
  });
  if (gcs.status !== 200 && gcs.status !== 409) throw new Error(`fake-gcs-server: cannot create bucket (HTTP ${gcs.status})`);
  const azure = new BlobServiceClient(AZURE_ENDPOINT, new StorageSharedKeyCredential('devstoreaccount1', AZURITE_KEY));
  await azure.getContainerClient(BUCKET).createIfNotExists();
});

describe.each(backends)('destination conformance: $name', (backend) => {
  let n = 0;
  /** A fresh prefix per case, so reruns against long-lived emulators never collide. */
  const fresh = () => backend.open(`conf-${runId}/${backend.name}-${++n}`);

  it('keeps a part invisible until commit', async () => {
    const dest = await fresh();
    const part = await dest.openPart('part-000001.csv');
    await part.write(bytes('a,b\n'));
    await part.write(bytes('1,2\n'));
    expect(await dest.head('part-000001.csv')).toBeNull();
    expect(await dest.get('part-000001.csv')).toBeNull();
    expect(await dest.list()).toEqual([]);
    expect(await part.commit()).toEqual({ sizeBytes: 8 });
    expect(text(await dest.get('part-000001.csv'))).toBe('a,b\n1,2\n');
    expect((await dest.list()).map((o) => [o.key, o.sizeBytes])).toEqual([['part-000001.csv', 8]]);
  });

  it('leaves nothing after abort, also when blocks were already uploaded', async () => {
    const dest = await fresh();
    const small = await dest.openPart('part-000001.csv');
    await small.write(bytes('x'));
    await small.abort();
    // 9 MiB is more than one 8 MiB block: the multipart upload / staged blocks have started.
    const big = await dest.openPart('part-000002.csv');
    const chunk = randomBytes(MiB);
    for (let i = 0; i < 9; i++) await big.write(chunk);
    await big.abort();
    await big.abort(); // idempotent
    expect(await dest.list()).toEqual([]);
    expect(await dest.head('part-000001.csv')).toBeNull();
    expect(await dest.head('part-000002.csv')).toBeNull();
    if (backend.name === 's3') {
      const s3 = new S3Client({
        region: 'us-east-1',
        endpoint: S3_ENDPOINT,
        forcePathStyle: true,
        credentials: { accessKeyId: 'conformance-access', secretAccessKey: 'conformance-secret' },
      });
      const pending = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: dest.uri.replace(`s3://${BUCKET}/`, '') }));
      expect(pending.Uploads ?? []).toEqual([]);
    }
  });

  it('refuses a second commit or put-if-absent to a committed key and keeps the first content', async () => {
    const dest = await fresh();
    const first = await dest.openPart('part-000001.csv');
    await first.write(bytes('first'));
    await first.commit();
    const second = await dest.openPart('part-000001.csv');
    await second.write(bytes('second'));
    const err = await second.commit().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isRivetError(err) && err.code).toBe('DESTINATION');
    expect(errorChain(err)).toMatch(/already exists/);
    await second.abort();
    expect(text(await dest.get('part-000001.csv'))).toBe('first');

    await expect(dest.put('part-000001.csv', 'third', { ifAbsent: true })).rejects.toThrow(/already exists/);
    expect(text(await dest.get('part-000001.csv'))).toBe('first');
    expect((await dest.list()).map((o) => o.key)).toEqual(['part-000001.csv']);
    if (backend.name !== 'local') {
      // A multipart-sized second writer is refused too (CompleteMultipartUpload / Put Block List / resumable finalize).
      const big = await dest.openPart('part-000001.csv');
      await big.write(new Uint8Array(9 * MiB));
      await expect(big.commit()).rejects.toThrow(/already exists/);
      await big.abort();
      expect(text(await dest.get('part-000001.csv'))).toBe('first');
    }
  });

  it('puts, gets, heads, lists recursively, moves and deletes', async () => {
    const dest = await fresh();
    await dest.put('manifest.json', '{}');
    await dest.put('manifest.json', '{"v":2}');
    expect(text(await dest.get('manifest.json'))).toBe('{"v":2}');
    expect(await dest.get('missing')).toBeNull();
    expect(await dest.head('missing')).toBeNull();
    await dest.put('_rivet/runs/r1/plan.json', bytes('{"plan":1}'));
    await dest.put('_SUCCESS', 'xxh3:0123456789abcdef\n');

    const head = await dest.head('manifest.json');
    expect(head?.key).toBe('manifest.json');
    expect(head?.sizeBytes).toBe(7);
    if (head?.md5 !== undefined) expect(head.md5).toBe(md5b64(bytes('{"v":2}')));

    const all = await dest.list();
    expect(all.map((o) => [o.key, o.sizeBytes])).toEqual([
      ['_SUCCESS', 22],
      ['_rivet/runs/r1/plan.json', 10],
      ['manifest.json', 7],
    ]);
    for (const o of all) {
      if (dest.capabilities.listingHasMd5) expect(o.md5).toBeDefined();
      if (o.md5 !== undefined) expect(o.md5).toBe(md5b64((await dest.get(o.key))!));
    }
    expect((await dest.list('_rivet/')).map((o) => o.key)).toEqual(['_rivet/runs/r1/plan.json']);
    expect(await dest.list('nothing-here/')).toEqual([]);

    await dest.move('manifest.json', '_quarantine/r0/manifest.json');
    expect(await dest.head('manifest.json')).toBeNull();
    expect(text(await dest.get('_quarantine/r0/manifest.json'))).toBe('{"v":2}');
    await dest.delete('_quarantine/r0/manifest.json');
    await dest.delete('does-not-exist');
    expect((await dest.list()).map((o) => o.key)).toEqual(['_SUCCESS', '_rivet/runs/r1/plan.json']);
  });

  it('streams back the exact bytes with read', async () => {
    const dest = await fresh();
    const body = randomBytes(3 * MiB + 17);
    const part = await dest.openPart('part-000001.parquet');
    for (let off = 0; off < body.byteLength; off += 256 * 1024) await part.write(body.subarray(off, off + 256 * 1024));
    await part.commit();
    const chunks: Uint8Array[] = [];
    for await (const c of dest.read('part-000001.parquet')) chunks.push(c);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
    const missing = (async () => {
      for await (const _ of dest.read('absent.parquet')) void _;
    })();
    await expect(missing).rejects.toMatchObject({ code: 'DESTINATION' });
  });

  it('reads exact byte ranges, the tail included, and refuses ranges it cannot fill', async () => {
    const dest = await fresh();
    const body = randomBytes(70_000);
    await dest.put('part-000001.parquet', body);
    const range = async (offset: number, length: number) => Buffer.from(await dest.readRange('part-000001.parquet', offset, length));
    expect((await range(0, 4)).equals(body.subarray(0, 4))).toBe(true);
    expect((await range(body.length - 8, 8)).equals(body.subarray(body.length - 8))).toBe(true);
    expect((await range(1234, 65536)).equals(body.subarray(1234, 1234 + 65536))).toBe(true);
    await expect(dest.readRange('part-000001.parquet', body.length - 4, 8)).rejects.toMatchObject({ code: 'DESTINATION' });
    await expect(dest.readRange('absent.parquet', 0, 8)).rejects.toMatchObject({ code: 'DESTINATION' });
  });

  it('streams an 80 MiB part with memory far below the part size', async () => {
    const dest = await fresh();
    const size = 80 * MiB;
    const chunk = randomBytes(MiB);
    const written = createHash('md5');
    const part = await dest.openPart('part-000001.parquet');
    collect();
    const base = process.memoryUsage().rss;
    let peak = base;
    for (let i = 0; i < size / MiB; i++) {
      chunk.writeUInt32LE(i, 0); // every MiB differs, so no store can deduplicate
      written.update(chunk);
      await part.write(chunk);
      if (i % 4 === 3) {
        collect();
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    expect(await part.commit()).toEqual({ sizeBytes: size });
    const growthMiB = (peak - base) / MiB;
    console.log(`[${backend.name}] 80 MiB part: RSS growth ${growthMiB.toFixed(1)} MiB`);
    // Two 8 MiB blocks in flight plus one filling is ~24 MiB of buffers; allow SDK overhead.
    // Sampled after a collection every 4 MiB: the memory the upload keeps alive.
    expect(growthMiB).toBeLessThan(40);

    const read = createHash('md5');
    let readBytes = 0;
    for await (const c of dest.read('part-000001.parquet')) {
      read.update(c);
      readBytes += c.byteLength;
    }
    expect(readBytes).toBe(size);
    expect(read.digest('hex')).toBe(written.digest('hex'));
    expect((await dest.head('part-000001.parquet'))?.sizeBytes).toBe(size);
    await dest.delete('part-000001.parquet');
  }, 180_000);
});

describe('credentials never appear in errors', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  /** A loopback HTTP server answering every request with `respond(req body, headers)`. */
  const serve = async (respond: (body: string, headers: Record<string, unknown>) => { status: number; type: string; body: string }) => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('latin1')));
      req.on('end', () => {
        const r = respond(body, req.headers);
        res.writeHead(r.status, { 'content-type': r.type });
        res.end(r.body);
      });
    });
    servers.push(server);
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };

  const expectClean = (err: unknown, secrets: string[]) => {
    expect(isRivetError(err)).toBe(true);
    const texts = [errorChain(err), JSON.stringify(err), String((err as Error).stack), JSON.stringify((err as Error).cause ?? null)];
    for (const t of texts) for (const s of secrets) expect(t).not.toContain(s);
  };

  it('S3: a server echoing the signed request back in its error (moto does not authenticate)', async () => {
    const endpoint = await serve((_body, headers) => ({
      status: 403,
      type: 'application/xml',
      body: `<?xml version="1.0"?><Error><Code>InvalidAccessKeyId</Code><Message>rejected ${String(headers.authorization)} token ${String(headers['x-amz-security-token'])}</Message></Error>`,
    }));
    const secrets = ['AKIAFAKEKNOWNACCESS1', 'fakeKnownSecret/abc+DEF123456789', 'FakeKnownSessionToken0123456789'];
    const env = { AK: secrets[0], SK: secrets[1], ST: secrets[2] };
    const dest = openS3Destination({
      bucket: BUCKET,
      endpoint,
      accessKeyEnv: 'AK',
      secretKeyEnv: 'SK',
      sessionTokenEnv: 'ST',
      maxAttempts: 1,
      env,
    });
    const err = await dest.put('x', 'y').catch((e: unknown) => e);
    expect(errorChain(err)).toMatch(/HTTP 403/);
    expect(errorChain(err)).toContain('***'); // the echoed access key id was there, masked
    expectClean(err, secrets);
  });

  it('S3: a missing credential variable is a config error naming the variable, not a value', () => {
    let err: unknown;
    try {
      openS3Destination({ bucket: BUCKET, accessKeyEnv: 'RIVET_CONF_S3_ACCESS', secretKeyEnv: 'RIVET_CONF_UNSET_SECRET', env: { RIVET_CONF_S3_ACCESS: 'AKIAPRESENTVALUE' } });
    } catch (e) {
      err = e;
    }
    expect(isRivetError(err) && err.code).toBe('CONFIG_INVALID');
    expect(isRivetError(err) && err.exitCode).toBe(2);
    expect(errorChain(err)).toContain('RIVET_CONF_UNSET_SECRET');
    expect(errorChain(err)).toContain('secret access key');
    expectClean(err, ['AKIAPRESENTVALUE']);
  });

  it('Azure: azurite rejects a wrong account key', async () => {
    const wrongKey = Buffer.from('rivet-fake-known-azure-account-key-0123456789abcdef').toString('base64');
    const dest = openAzureDestination({
      bucket: BUCKET,
      endpoint: AZURE_ENDPOINT,
      accountName: 'devstoreaccount1',
      accountKeyEnv: 'K',
      maxAttempts: 1,
      env: { K: wrongKey },
      logger: silentLogger,
    });
    const err = await dest.put('x', 'y').catch((e: unknown) => e);
    expect(errorChain(err)).toMatch(/HTTP 403/);
    expectClean(err, [wrongKey]);
  });

  it('Azure: a rejected SAS token is masked, signature included', async () => {
    const sig = 'FakeKnownSig+/0123456789abcdefABCDEF=';
    const sas = `?sv=2024-08-04&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=${encodeURIComponent(sig)}`;
    const dest = openAzureDestination({
      bucket: BUCKET,
      endpoint: AZURE_ENDPOINT,
      accountName: 'devstoreaccount1',
      sasTokenEnv: 'S',
      maxAttempts: 1,
      env: { S: sas },
      logger: silentLogger,
    });
    const err = await dest.put('x', 'y').catch((e: unknown) => e);
    expect(errorChain(err)).toMatch(/HTTP 403/);
    expectClean(err, [sig, encodeURIComponent(sig), sas.slice(1)]);
  });

  it('Azure: an expired SAS token is refused before any request, a nearly expired one warns', () => {
    let err: unknown;
    try {
      openAzureDestination({ bucket: BUCKET, accountName: 'acct', sasTokenEnv: 'S', env: { S: 'sv=2024-08-04&se=2001-01-01T00:00:00Z&sig=abcdEFGH' } });
    } catch (e) {
      err = e;
    }
    expect(isRivetError(err) && err.code).toBe('CONFIG_INVALID');
    expect(errorChain(err)).toMatch(/expiry \(se=2001-01-01T00:00:00.000Z\) is in the past/);
    expectClean(err, ['abcdEFGH']);
    const warnings: string[] = [];
    const soon = new Date(Date.now() + 10 * 60_000).toISOString();
    openAzureDestination({
      bucket: BUCKET,
      accountName: 'acct',
      sasTokenEnv: 'S',
      env: { S: `sv=2024-08-04&se=${soon}&sig=abcdEFGH` },
      logger: { ...silentLogger, warn: (m) => warnings.push(m) },
    });
    expect(warnings.join('\n')).toMatch(/expires in \d+ min/);
  });

  it('GCS: a service-account key the token endpoint rejects (fake-gcs-server does not authenticate)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const dir = await mkdtemp(join(tmpdir(), 'rivet-conf-gcs-'));
    const keyFile = join(dir, 'sa.json');
    await writeFile(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: 'rivet-test',
        private_key_id: 'abc123',
        private_key: pem,
        client_email: 'rivet@rivet-test.iam.gserviceaccount.com',
        client_id: '1',
      }),
    );
    // Authentication is kept for custom endpoints, so the client must first trade the key
    // for a token; Google's token endpoint (unreachable here, or rejecting the fake key
    // where there is internet) refuses, and that error must not carry the key.
    const dest = openGcsDestination({ bucket: BUCKET, endpoint: GCS_ENDPOINT, credentialsFile: keyFile, maxAttempts: 1 });
    const err = await dest.head('x').catch((e: unknown) => e);
    expect(isRivetError(err) && err.code).toBe('DESTINATION');
    const pemBody = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    expectClean(err, [pem, ...pemBody]);
  });
});
