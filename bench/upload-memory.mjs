// Peak memory of streaming one large part to each object-store emulator through rivet's
// destinations (dist/ build). Usage: node bench/upload-memory.mjs [MiB=1024]
// Needs `bash test/services/up.sh` (moto, fake-gcs-server, azurite on loopback).
import { randomBytes } from 'node:crypto';
import { openDestination } from '../dist/shared/destination/registry.js';

const mib = Number(process.argv[2] ?? 1024);
const BUCKET = 'rivet-bench';
const S3 = `http://127.0.0.1:${process.env.RIVET_TEST_S3_PORT ?? 54340}`;
const GCS = `http://127.0.0.1:${process.env.RIVET_TEST_GCS_PORT ?? 54341}`;
const AZ = `http://127.0.0.1:${process.env.RIVET_TEST_AZURE_PORT ?? 54342}/devstoreaccount1`;
process.env.BENCH_S3_ACCESS = 'bench';
process.env.BENCH_S3_SECRET = 'bench';
// Azurite's documented development account key (public).
process.env.BENCH_AZ_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

async function ensureBuckets() {
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({ region: 'us-east-1', endpoint: S3, forcePathStyle: true, credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => {});
  await fetch(`${GCS}/storage/v1/b?project=rivet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: BUCKET }) });
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  await new BlobServiceClient(AZ, new StorageSharedKeyCredential('devstoreaccount1', process.env.BENCH_AZ_KEY)).getContainerClient(BUCKET).createIfNotExists();
}

const targets = {
  s3: { kind: 's3', bucket: BUCKET, prefix: `bench-${Date.now()}/`, region: 'us-east-1', endpoint: S3, access_key_env: 'BENCH_S3_ACCESS', secret_key_env: 'BENCH_S3_SECRET' },
  gcs: { kind: 'gcs', bucket: BUCKET, prefix: `bench-${Date.now()}/`, endpoint: GCS, allow_anonymous: true },
  azure: { kind: 'azure', bucket: BUCKET, prefix: `bench-${Date.now()}/`, endpoint: AZ, account_name: 'devstoreaccount1', account_key_env: 'BENCH_AZ_KEY' },
};

await ensureBuckets();
const only = process.argv[3];
for (const [name, target] of Object.entries(targets)) {
  if (only && only !== name) continue;
  const dest = await openDestination(target);
  const chunk = randomBytes(1024 * 1024);
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  const t0 = Date.now();
  const part = await dest.openPart('part-000001.bin');
  for (let i = 0; i < mib; i++) await part.write(Buffer.from(chunk)); // a fresh buffer per write: the sink owns it
  const { sizeBytes } = await part.commit();
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  const secs = (Date.now() - t0) / 1000;
  console.log(`| ${new Date().toISOString().slice(0, 10)} | ${name} | ${(sizeBytes / 1048576).toFixed(0)} MiB | ${(peak / 1048576).toFixed(0)} MB | ${secs.toFixed(1)} s | ${(sizeBytes / 1048576 / secs).toFixed(0)} MiB/s |`);
  await dest.delete('part-000001.bin');
}
