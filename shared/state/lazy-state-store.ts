import type { StateStore } from './state-store.js';

type Method = Exclude<keyof StateStore, 'kind' | 'close'>;

/** Every method of StateStore but `close`. */
const METHODS = [
  'recordMetrics', 'recordFiles', 'saveJournal', 'recentMetrics', 'recentFiles', 'getJournal', 'recentJournals', 'markValidated',
  'recordAggregate', 'recentAggregates',
  'getCursor', 'setCursor', 'advanceCursor', 'getBoundary', 'commitBoundary', 'resetCursor', 'listCursors',
  'recordCommittedProgression', 'recordVerifiedProgression', 'listProgression',
  'createChunkRun', 'inProgressChunkRun', 'latestChunkRun', 'inProgressChunkExports', 'chunkTasks', 'startChunkTask',
  'claimChunkTask', 'completeChunkTask', 'failChunkTask', 'resetChunkTask', 'resetRunningChunkTasks', 'completeChunkRun', 'deleteChunkRuns',
  'getLease', 'putLease', 'renewLease', 'releaseLease',
] as const satisfies readonly Method[];
/** Compiles only while METHODS names every method: a method added to StateStore and not listed makes this `never`. */
const EVERY_METHOD_LISTED: Exclude<Method, (typeof METHODS)[number]> extends never ? true : never = true;
void EVERY_METHOD_LISTED;

/**
 * A store whose backend is loaded and opened on the first call, so a command loads only the
 * backend it uses (better-sqlite3, pg or the DynamoDB client) and opening never blocks. A
 * failed load (a state file that cannot be opened) rejects that call; the next call tries again.
 */
export function lazyStateStore(kind: StateStore['kind'], load: () => Promise<StateStore>): StateStore {
  let loading: Promise<StateStore> | null = null;
  const store = (): Promise<StateStore> => {
    loading ??= load().catch((e: unknown) => {
      loading = null;
      throw e;
    });
    return loading;
  };
  const methods = Object.fromEntries(
    METHODS.map((name) => [name, async (...args: unknown[]) => ((await store())[name] as (...a: unknown[]) => Promise<unknown>)(...args)]),
  ) as Pick<StateStore, Method>;
  return {
    kind,
    ...methods,
    async close() {
      const opened = loading;
      loading = null;
      if (opened) await (await opened.catch(() => null))?.close();
    },
  };
}
