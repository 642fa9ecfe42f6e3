import type * as S3 from '@aws-sdk/client-s3';
import { RivetError } from '../shared/errors/rivet-error.js';
import { FailureSchema, type ChunkTask, type Failure } from '../shared/run/run-plan.js';
import type { TaskNotes } from '../shared/run/task-notes.js';

/**
 * The deployment's own bucket (not the export's destination): the task list the Map reads
 * with `ItemReader`, and a note per failed task so the finalizer can say what went wrong
 * (a Distributed Map's Catch only reports that the failure threshold was exceeded).
 *
 *   runs/<run_id>/tasks.json                  JSON array of ChunkTask (the Map's items)
 *   runs/<run_id>/errors/task-NNNNNN.json     the task's last failure, removed when it succeeds
 */
export const taskListKey = (runId: string) => `runs/${runId}/tasks.json`;
const errorPrefix = (runId: string) => `runs/${runId}/errors/`;
const errorKey = (runId: string, taskIndex: number) => `${errorPrefix(runId)}task-${String(taskIndex).padStart(6, '0')}.json`;

export interface WorkBucket {
  readonly name: string;
  putTaskList(runId: string, tasks: ChunkTask[]): Promise<string>;
  /** The failed tasks' notes, `runs/<run_id>/errors/`. */
  readonly notes: TaskNotes;
}

let loaded: Promise<{ client: S3.S3Client; sdk: typeof S3 }> | undefined;

/** The SDK is imported on first use: `rivet run` reuses these handlers but never has a work bucket. */
function s3(): Promise<{ client: S3.S3Client; sdk: typeof S3 }> {
  loaded ??= import('@aws-sdk/client-s3').then((sdk) => {
    // A custom endpoint (moto, LocalStack, MinIO) is reached path-style: it has no per-bucket DNS names.
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    return { client: new sdk.S3Client(endpoint ? { endpoint, forcePathStyle: true, region: process.env.AWS_REGION ?? 'us-east-1' } : {}), sdk };
  });
  return loaded;
}

/** The work bucket named by RIVET_WORK_BUCKET (set by the stack). */
export function workBucketFromEnv(env: NodeJS.ProcessEnv = process.env): WorkBucket {
  const name = env.RIVET_WORK_BUCKET;
  if (!name) throw new RivetError('USAGE', 'RIVET_WORK_BUCKET is not set', { hint: 'the CDK stack sets it; when invoking a handler by hand, name the work bucket' });
  return workBucket(name);
}

export function workBucket(name: string): WorkBucket {
  return {
    name,
    async putTaskList(runId, tasks) {
      const key = taskListKey(runId);
      const { client, sdk } = await s3();
      await client.send(new sdk.PutObjectCommand({ Bucket: name, Key: key, Body: JSON.stringify(tasks), ContentType: 'application/json' }));
      return key;
    },
    notes: {
      async put(runId: string, taskIndex: number, failure: Failure) {
        const { client, sdk } = await s3();
        await client.send(new sdk.PutObjectCommand({ Bucket: name, Key: errorKey(runId, taskIndex), Body: JSON.stringify(failure), ContentType: 'application/json' }));
      },
      async clear(runId: string, taskIndex: number) {
        const { client, sdk } = await s3();
        await client.send(new sdk.DeleteObjectCommand({ Bucket: name, Key: errorKey(runId, taskIndex) }));
      },
      async list(runId: string) {
        const { client, sdk } = await s3();
        const listed = await client.send(new sdk.ListObjectsV2Command({ Bucket: name, Prefix: errorPrefix(runId), MaxKeys: 20 }));
        const out: { taskIndex: number; failure: Failure }[] = [];
        for (const o of listed.Contents ?? []) {
          const m = /task-(\d+)\.json$/.exec(o.Key ?? '');
          if (!m) continue;
          const got = await client.send(new sdk.GetObjectCommand({ Bucket: name, Key: o.Key }));
          const parsed = FailureSchema.safeParse(JSON.parse((await got.Body?.transformToString()) ?? 'null'));
          if (parsed.success) out.push({ taskIndex: Number(m[1]), failure: parsed.data });
        }
        return out;
      },
    },
  };
}
