import { chunkRunInProgressError, type ChunkRunRow, type ChunkStore, type ChunkTaskRow, type NewChunkRun } from '../chunk-store.js';
import { N, NUL, S, SorNull, num, numOrNull, pad, str, strOrNull, type DynamoStateDb, type Expr, type Item } from './dynamo-state-table.js';

/**
 * Chunk checkpoints on DynamoDB (key design: dynamo-state-table.ts). A run is a partition
 * (`CHUNKRUN#<run id>`: its HEAD item and one item per task); `CHUNKACTIVE/<export>` is the
 * export's lock, created with the run in one conditional transaction, so two processes can
 * never both start a run of one export. Every task change is a transaction with the bump
 * of its run's updatedAt, conditioned on the state the caller saw (optimistic concurrency):
 * of two workers claiming the same task, exactly one transaction goes through.
 */
const MAX_TEXT = 64 * 1024;
const cap = (s: string | null): string | null => (s !== null && s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}… (truncated)` : s);

const runPk = (runId: string) => `CHUNKRUN#${runId}`;
const headKey = (runId: string) => ({ pk: runPk(runId), sk: 'HEAD' });
const taskKey = (runId: string, index: number) => ({ pk: runPk(runId), sk: `TASK#${pad(index, 10)}` });
const lockKey = (exportName: string) => ({ pk: 'CHUNKACTIVE', sk: exportName });
const STATUS = { '#st': 'status' };

function runRow(i: Item): ChunkRunRow {
  return {
    runId: str(i, 'runId'),
    exportName: str(i, 'exportName'),
    planHash: str(i, 'planHash'),
    status: str(i, 'status') as ChunkRunRow['status'],
    maxChunkAttempts: num(i, 'maxChunkAttempts'),
    prefix: strOrNull(i, 'prefix'),
    createdAt: str(i, 'createdAt'),
    updatedAt: str(i, 'updatedAt'),
  };
}

function taskRow(i: Item): ChunkTaskRow {
  return {
    runId: str(i, 'runId'),
    chunkIndex: num(i, 'chunkIndex'),
    startKey: str(i, 'startKey'),
    endKey: str(i, 'endKey'),
    status: str(i, 'status') as ChunkTaskRow['status'],
    attempts: num(i, 'attempts'),
    lastError: strOrNull(i, 'lastError'),
    rowsWritten: numOrNull(i, 'rowsWritten'),
    fileName: strOrNull(i, 'fileName'),
    updatedAt: str(i, 'updatedAt'),
  };
}

export function dynamoChunks(db: DynamoStateDb): ChunkStore {
  const now = () => new Date().toISOString();

  /** Change one task (if it exists and `expr` holds) and touch its run, atomically. False when nothing was changed. */
  const taskTx = (runId: string, index: number, set: string, expr: Expr, runCondition?: string) => {
    const at = now();
    return db.transact([
      {
        update: taskKey(runId, index),
        set: `${set}, updatedAt = :at`,
        expr: {
          condition: expr.condition ? `attribute_exists(pk) AND (${expr.condition})` : 'attribute_exists(pk)',
          names: expr.names,
          values: { ...expr.values, ':at': S(at) },
        },
      },
      {
        update: headKey(runId),
        set: 'SET updatedAt = :at',
        expr: runCondition
          ? { condition: `attribute_exists(pk) AND ${runCondition}`, names: STATUS, values: { ':at': S(at), ':inprog': S('in_progress') } }
          : { condition: 'attribute_exists(pk)', values: { ':at': S(at) } },
      },
    ]);
  };

  const activeRun = async (exportName: string): Promise<ChunkRunRow | null> => {
    const lock = await db.get(lockKey(exportName));
    if (!lock) return null;
    const head = await db.get(headKey(str(lock, 'runId')));
    return head && str(head, 'status') === 'in_progress' ? runRow(head) : null;
  };

  return {
    async createChunkRun(r: NewChunkRun) {
      const lock = await db.get(lockKey(r.exportName));
      let stale: string | null = null;
      if (lock) {
        const open = await activeRun(r.exportName);
        if (open) throw chunkRunInProgressError(r.exportName, open.runId);
        stale = str(lock, 'runId'); // points at a run that is over: taking it over is fine
      }
      const at = now();
      // Tasks first: nothing reaches them until the transaction below creates their run.
      await db.batchWrite(
        r.chunks.map((c, index) => ({
          put: {
            pk: S(runPk(r.runId)), sk: S(taskKey(r.runId, index).sk), runId: S(r.runId), chunkIndex: N(index), startKey: S(c.startKey), endKey: S(c.endKey), status: S('pending'),
            attempts: N(0), lastError: NUL, rowsWritten: NUL, fileName: NUL, updatedAt: S(at),
          },
        })),
      );
      const seq = await db.nextIds('chunkrun', 1);
      const created = await db.transact([
        {
          put: { pk: S('CHUNKACTIVE'), sk: S(r.exportName), runId: S(r.runId) },
          expr: stale === null ? { condition: 'attribute_not_exists(pk)' } : { condition: 'attribute_not_exists(pk) OR runId = :stale', values: { ':stale': S(stale) } },
        },
        {
          put: {
            pk: S(runPk(r.runId)), sk: S('HEAD'), runId: S(r.runId), exportName: S(r.exportName), planHash: S(r.planHash), status: S('in_progress'),
            maxChunkAttempts: N(r.maxChunkAttempts), prefix: SorNull(r.prefix), createdAt: S(at), updatedAt: S(at), seq: N(seq),
          },
          expr: { condition: 'attribute_not_exists(pk)' },
        },
        { put: { pk: S(`CHUNKRUNS#${r.exportName}`), sk: S(r.runId) } },
      ]);
      if (created) return;
      await db.batchWrite(r.chunks.map((_, index) => ({ delete: taskKey(r.runId, index) })));
      const open = await activeRun(r.exportName);
      if (open) throw chunkRunInProgressError(r.exportName, open.runId);
      throw new Error(`chunk run ${r.runId} could not be created: the run id is taken or another run started at the same time`);
    },
    inProgressChunkRun: activeRun,
    async latestChunkRun(exportName) {
      const pointers = await db.query(`CHUNKRUNS#${exportName}`);
      let best: Item | null = null;
      for (const p of pointers) {
        const h = await db.get(headKey(str(p, 'sk')));
        if (!h) continue;
        const newer = !best || str(h, 'updatedAt') > str(best, 'updatedAt') || (str(h, 'updatedAt') === str(best, 'updatedAt') && num(h, 'seq') > num(best, 'seq'));
        if (newer) best = h;
      }
      return best ? runRow(best) : null;
    },
    async inProgressChunkExports() {
      const out: string[] = [];
      for (const lock of await db.query('CHUNKACTIVE')) {
        if (await activeRun(str(lock, 'sk'))) out.push(str(lock, 'sk'));
      }
      return out;
    },
    async chunkTasks(runId) {
      return (await db.query(runPk(runId), { prefix: 'TASK#' })).map(taskRow);
    },
    async startChunkTask(runId, chunkIndex) {
      for (;;) {
        const t = await db.get(taskKey(runId, chunkIndex));
        if (!t) return 0;
        const seen = num(t, 'attempts');
        const done = await taskTx(runId, chunkIndex, 'SET #st = :running, attempts = :next', {
          condition: 'attempts = :seen',
          names: STATUS,
          values: { ':running': S('running'), ':next': N(seen + 1), ':seen': N(seen) },
        });
        if (done) return seen + 1;
        if (!(await db.get(headKey(runId)))) return 0;
      }
    },
    async claimChunkTask(runId) {
      for (;;) {
        const head = await db.get(headKey(runId));
        if (!head || str(head, 'status') !== 'in_progress') return null;
        const max = num(head, 'maxChunkAttempts');
        const candidates = (await db.query(runPk(runId), { prefix: 'TASK#' }))
          .map(taskRow)
          .filter((t) => t.status === 'pending' || (t.status === 'failed' && t.attempts < max));
        if (candidates.length === 0) return null;
        for (const t of candidates) {
          // Conditioned on the status and attempts we read: if another worker took it first, this fails and we try the next.
          const won = await taskTx(
            runId,
            t.chunkIndex,
            'SET #st = :running, attempts = :next',
            { condition: '#st = :seenStatus AND attempts = :seen', names: STATUS, values: { ':running': S('running'), ':next': N(t.attempts + 1), ':seen': N(t.attempts), ':seenStatus': S(t.status) } },
            '#st = :inprog',
          );
          if (won) return { chunkIndex: t.chunkIndex, startKey: t.startKey, endKey: t.endKey, attempts: t.attempts + 1 };
        }
      }
    },
    async completeChunkTask(runId, chunkIndex, { rows, fileName }) {
      await taskTx(runId, chunkIndex, 'SET #st = :s, rowsWritten = :rows, fileName = :file, lastError = :null', {
        names: STATUS,
        values: { ':s': S('completed'), ':rows': N(rows), ':file': SorNull(fileName), ':null': NUL },
      });
    },
    async failChunkTask(runId, chunkIndex, error) {
      await taskTx(runId, chunkIndex, 'SET #st = :s, lastError = :e', { names: STATUS, values: { ':s': S('failed'), ':e': SorNull(cap(error)) } });
    },
    async resetChunkTask(runId, chunkIndex, reason) {
      await taskTx(runId, chunkIndex, 'SET #st = :s, rowsWritten = :null, fileName = :null, lastError = :e', {
        names: STATUS,
        values: { ':s': S('pending'), ':null': NUL, ':e': SorNull(cap(reason)) },
      });
    },
    async resetRunningChunkTasks(runId) {
      let n = 0;
      for (const t of (await db.query(runPk(runId), { prefix: 'TASK#' })).map(taskRow)) {
        if (t.status !== 'running') continue;
        const done = await taskTx(runId, t.chunkIndex, 'SET #st = :s', { condition: '#st = :running', names: STATUS, values: { ':s': S('pending'), ':running': S('running') } });
        if (done) n++;
      }
      return n;
    },
    async completeChunkRun(runId) {
      const head = await db.get(headKey(runId));
      if (!head) return;
      const set = 'SET #st = :s, updatedAt = :at';
      const expr: Expr = { condition: 'attribute_exists(pk)', names: STATUS, values: { ':s': S('completed'), ':at': S(now()) } };
      // The run and the release of its export's lock together; if the lock is not this run's, only the run.
      const released = await db.transact([
        { update: headKey(runId), set, expr },
        { delete: lockKey(str(head, 'exportName')), expr: { condition: 'runId = :r', values: { ':r': S(runId) } } },
      ]);
      if (!released) await db.update(headKey(runId), set, expr);
    },
    async deleteChunkRuns(exportName) {
      let n = 0;
      for (const p of await db.query(`CHUNKRUNS#${exportName}`)) {
        const runId = str(p, 'sk');
        const items = await db.query(runPk(runId));
        if (items.some((i) => str(i, 'sk') === 'HEAD')) n++;
        await db.batchWrite(items.map((i) => ({ delete: { pk: runPk(runId), sk: str(i, 'sk') } })));
        await db.del({ pk: `CHUNKRUNS#${exportName}`, sk: runId });
      }
      await db.del(lockKey(exportName));
      return n;
    },
  };
}
