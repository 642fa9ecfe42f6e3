import { gunzipSync, gzipSync } from 'node:zlib';
import type { FileRecord, HistoryStore, MetricsRow, RunAggregateRecord, RunJournal, RunMetrics } from '../state-store.js';
import {
  BOOLorNull, N, S, SorNull, boolOrNull, num, pad, str, strOrNull,
  type DynamoStateDb, type Item, type TxItem,
} from './dynamo-state-table.js';

/**
 * Run history on DynamoDB (key design: dynamo-state-table.ts). Metrics and file rows are
 * written twice (the all-exports partition and the export's own), in one transaction, so
 * `rivet metrics` with or without `-e` is a single Query.
 *
 * Journals can outgrow DynamoDB's 400 KB item limit: the JSON is gzipped and split into
 * parts of at most JOURNAL_PART_BYTES. The parts of a new save are written under a fresh
 * generation first, then the HEAD item is switched to it in one transaction, then the old
 * generation's parts are deleted: a reader sees the old journal or the new one, never a mix.
 */
const JOURNAL_PART_BYTES = 350_000;
/** Error texts are capped so that a row (and its copy) stays far under the item limit. */
const MAX_TEXT = 64 * 1024;
/** Files per transaction: two items each, within TransactWriteItems' 100-item limit. */
const FILES_PER_TX = 50;

const cap = (s: string | null): string | null => (s !== null && s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}… (truncated)` : s);

function metricsItem(m: RunMetrics, id: number, runAt: string): Item {
  return {
    id: N(id),
    runAt: S(runAt),
    runId: S(m.runId),
    exportName: S(m.exportName),
    durationMs: N(m.durationMs),
    totalRows: N(m.totalRows),
    peakRssMb: N(m.peakRssMb),
    status: S(m.status),
    errorMessage: SorNull(cap(m.errorMessage)),
    tuningProfile: S(m.tuningProfile),
    format: S(m.format),
    mode: S(m.mode),
    filesProduced: N(m.filesProduced),
    bytesWritten: N(m.bytesWritten),
    retries: N(m.retries),
    validated: BOOLorNull(null),
    schemaChanged: BOOLorNull(m.schemaChanged ?? null),
  };
}

function metricsRow(i: Item): MetricsRow {
  return {
    id: num(i, 'id'),
    runAt: str(i, 'runAt'),
    runId: str(i, 'runId'),
    exportName: str(i, 'exportName'),
    durationMs: num(i, 'durationMs'),
    totalRows: num(i, 'totalRows'),
    peakRssMb: num(i, 'peakRssMb'),
    status: str(i, 'status') as MetricsRow['status'],
    errorMessage: strOrNull(i, 'errorMessage'),
    tuningProfile: str(i, 'tuningProfile'),
    format: str(i, 'format') as MetricsRow['format'],
    mode: str(i, 'mode'),
    filesProduced: num(i, 'filesProduced'),
    bytesWritten: num(i, 'bytesWritten'),
    retries: num(i, 'retries'),
    validated: boolOrNull(i, 'validated'),
    schemaChanged: i.schemaChanged ? boolOrNull(i, 'schemaChanged') : null,
  };
}

const limitOf = (limit: number) => Math.max(0, Math.trunc(limit));

export function dynamoHistory(db: DynamoStateDb): HistoryStore {
  const now = () => new Date().toISOString();

  const readJournal = async (runId: string, head?: Item | null): Promise<RunJournal | null> => {
    const h = head === undefined ? await db.get({ pk: `JOURNAL#${runId}`, sk: 'HEAD' }) : head;
    if (!h) return null;
    const parts = await db.query(`JOURNAL#${runId}`, { prefix: `PART#${str(h, 'gen')}#` });
    if (parts.length !== num(h, 'parts')) return null; // replaced between the two reads: the caller's view is gone
    const gz = Buffer.concat(parts.map((p) => Buffer.from(p.data.B ?? new Uint8Array())));
    return JSON.parse(gunzipSync(gz).toString('utf8')) as RunJournal;
  };

  return {
    async recordMetrics(m: RunMetrics) {
      const id = await db.nextIds('metrics', 1);
      const row = metricsItem(m, id, now());
      const sk = pad(id);
      await db.transact([
        { put: { pk: S('METRICS'), sk: S(sk), ...row } },
        { put: { pk: S(`METRICS#${m.exportName}`), sk: S(sk), ...row } },
        { put: { pk: S(`RUNMETRICS#${m.runId}`), sk: S(sk), exportName: S(m.exportName) } },
      ]);
    },
    async recordFiles(files: FileRecord[]) {
      if (files.length === 0) return;
      const createdAt = now();
      const last = await db.nextIds('files', files.length);
      const first = last - files.length + 1;
      for (let at = 0; at < files.length; at += FILES_PER_TX) {
        const tx: TxItem[] = [];
        files.slice(at, at + FILES_PER_TX).forEach((f, k) => {
          const id = first + at + k;
          const row: Item = {
            id: N(id), runId: S(f.runId), exportName: S(f.exportName), fileName: S(f.fileName), rowCount: N(f.rowCount),
            bytes: N(f.bytes), format: S(f.format), compression: S(f.compression), createdAt: S(createdAt),
          };
          tx.push({ put: { pk: S('FILES'), sk: S(pad(id)), ...row } }, { put: { pk: S(`FILES#${f.exportName}`), sk: S(pad(id)), ...row } });
        });
        await db.transact(tx);
      }
    },
    async saveJournal(j: RunJournal) {
      const gz = gzipSync(Buffer.from(JSON.stringify(j), 'utf8'));
      const gen = pad(await db.nextIds('journal', 1));
      const partCount = Math.max(1, Math.ceil(gz.length / JOURNAL_PART_BYTES));
      const pk = `JOURNAL#${j.run_id}`;
      await db.batchWrite(
        Array.from({ length: partCount }, (_, n) => ({
          put: { pk: S(pk), sk: S(`PART#${gen}#${pad(n, 6)}`), data: { B: gz.subarray(n * JOURNAL_PART_BYTES, (n + 1) * JOURNAL_PART_BYTES) } },
        })),
      );
      const finishedAt = now();
      // A resumed run adopts its run id: the new journal replaces the old one, HEAD and listing pointer together.
      for (;;) {
        const old = await db.get({ pk, sk: 'HEAD' });
        const switched = await db.transact([
          {
            put: { pk: S(pk), sk: S('HEAD'), exportName: S(j.export_name), finishedAt: S(finishedAt), gen: S(gen), parts: N(partCount) },
            expr: old ? { condition: '#g = :old', names: { '#g': 'gen' }, values: { ':old': S(str(old, 'gen')) } } : { condition: 'attribute_not_exists(pk)' },
          },
          ...(old ? [{ delete: { pk: `JOURNALS#${str(old, 'exportName')}`, sk: `${str(old, 'finishedAt')}#${str(old, 'gen')}` } }] : []),
          { put: { pk: S(`JOURNALS#${j.export_name}`), sk: S(`${finishedAt}#${gen}`), runId: S(j.run_id) } },
        ]);
        if (!switched) continue; // another save of this run switched HEAD first: replace its journal instead
        if (old) {
          const stale = await db.query(pk, { prefix: `PART#${str(old, 'gen')}#` });
          await db.batchWrite(stale.map((p) => ({ delete: { pk, sk: str(p, 'sk') } })));
        }
        return;
      }
    },
    async recentMetrics({ exportName, limit = 20 } = {}) {
      const n = limitOf(limit);
      if (n === 0) return [];
      const items = await db.query(exportName ? `METRICS#${exportName}` : 'METRICS', { desc: true, limit: n });
      return items.map(metricsRow);
    },
    async recentFiles({ exportName, limit = 50 } = {}) {
      const n = limitOf(limit);
      if (n === 0) return [];
      const items = await db.query(exportName ? `FILES#${exportName}` : 'FILES', { desc: true, limit: n });
      return items.map((i) => ({
        runId: str(i, 'runId'),
        exportName: str(i, 'exportName'),
        fileName: str(i, 'fileName'),
        rowCount: num(i, 'rowCount'),
        bytes: num(i, 'bytes'),
        format: str(i, 'format') as FileRecord['format'],
        compression: str(i, 'compression'),
        createdAt: str(i, 'createdAt'),
      }));
    },
    getJournal: (runId) => readJournal(runId),
    async recentJournals(exportName, limit) {
      const n = limitOf(limit);
      if (n === 0) return [];
      const pointers = await db.query(`JOURNALS#${exportName}`, { desc: true, limit: n });
      const out: RunJournal[] = [];
      for (const p of pointers) {
        const j = await readJournal(str(p, 'runId'));
        if (j) out.push(j);
      }
      return out;
    },
    async markValidated(runId, passed) {
      const rows = await db.query(`RUNMETRICS#${runId}`);
      for (const r of rows) {
        const sk = str(r, 'sk');
        const set = 'SET #v = :v';
        const expr = { condition: 'attribute_exists(pk)', names: { '#v': 'validated' }, values: { ':v': { BOOL: passed } } };
        await db.transact([
          { update: { pk: 'METRICS', sk }, set, expr },
          { update: { pk: `METRICS#${str(r, 'exportName')}`, sk }, set, expr },
        ]);
      }
    },
    async recordAggregate(a) {
      // Sorted by when the run finished, as `idx_run_aggregate_finished` orders the SQL tables.
      const put = await db.put(
        { pk: S('AGGREGATE'), sk: S(`${a.finished_at}#${a.run_aggregate_id}`), id: S(a.run_aggregate_id), data: S(JSON.stringify(a)) },
        { condition: 'attribute_not_exists(pk)' },
      );
      if (!put) throw new Error(`run aggregate ${a.run_aggregate_id} is already stored`);
    },
    async recentAggregates(limit) {
      const n = limitOf(limit);
      if (n === 0) return [];
      const items = await db.query('AGGREGATE', { desc: true, limit: n });
      return items.map((i) => JSON.parse(str(i, 'data')) as RunAggregateRecord);
    },
  };
}
