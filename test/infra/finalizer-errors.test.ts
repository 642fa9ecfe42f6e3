import { describe, expect, it, beforeAll } from 'vitest';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { describeCaught } from '../../shared/run/describe-caught.js';
import { workBucket } from '../../functions/work-bucket.js';

/**
 * What the finalizer makes of a Catch's `{Error, Cause}`. A Distributed Map on AWS reports
 * only that its failure threshold was exceeded; the failed tasks' notes in the work bucket
 * (moto here) supply the real reason.
 */
const ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_S3_PORT ?? 54340}`;
const BUCKET = 'rivet-finalizer-errors';

beforeAll(async () => {
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: ENDPOINT, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  await new S3Client({ region: 'us-east-1', endpoint: ENDPOINT, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => {});
});

describe('describeCaught', () => {
  it("reads a Lambda error payload: code from the error name, message and hint from the function's message", async () => {
    const failure = await describeCaught(
      {
        Error: 'Rivet.SOURCE_QUERY',
        Cause: JSON.stringify({ errorType: 'Rivet.SOURCE_QUERY', errorMessage: 'relation "x" does not exist\nhint: check the table name', trace: [] }),
      },
      'r1',
      workBucket(BUCKET).notes,
    );
    expect(failure).toEqual({ code: 'SOURCE_QUERY', message: 'relation "x" does not exist', hint: 'check the table name' });
  });

  it("explains a Distributed Map's threshold error with the failed tasks' notes", async () => {
    const runId = `orders_${Date.now()}`;
    const bucket = workBucket(BUCKET);
    await bucket.notes.put(runId, 3, { code: 'SOURCE_QUERY', message: 'canceling statement due to statement timeout', hint: 'raise statement_timeout_s' });
    await bucket.notes.put(runId, 5, { code: 'SOURCE_QUERY', message: 'canceling statement due to statement timeout' });
    const failure = await describeCaught({ Error: 'States.ExceedToleratedFailureThreshold', Cause: 'The specified tolerated failure threshold was exceeded' }, runId, bucket.notes);
    expect(failure).toEqual({
      code: 'SOURCE_QUERY',
      message: 'task 3 failed: canceling statement due to statement timeout (and 1 other task(s)) [States.ExceedToleratedFailureThreshold]',
      hint: 'raise statement_timeout_s',
    });
    // A retry that succeeded removes its note.
    await bucket.notes.clear(runId, 3);
    await bucket.notes.clear(runId, 5);
    const plain = await describeCaught({ Error: 'States.ExceedToleratedFailureThreshold', Cause: 'threshold exceeded' }, runId, bucket.notes);
    expect(plain).toEqual({ code: 'EXPORT_FAILED', message: 'States.ExceedToleratedFailureThreshold: threshold exceeded' });
  });
});
