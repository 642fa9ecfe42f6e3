import type { Failure } from './run-plan.js';

/**
 * Where a failed task leaves its reason for the finalizer, and clears it when a retry
 * succeeds. On AWS this is the work bucket (a Distributed Map's Catch only says its failure
 * threshold was exceeded); the local driver hands failures over in-process and needs none.
 */
export interface TaskNotes {
  put(runId: string, taskIndex: number, failure: Failure): Promise<void>;
  clear(runId: string, taskIndex: number): Promise<void>;
  list(runId: string): Promise<{ taskIndex: number; failure: Failure }[]>;
}
