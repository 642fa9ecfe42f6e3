import type { RunDeps, ResolvedExport } from './run-deps.js';

/**
 * `SELECT count(*) FROM (<base query>)` on a fresh source connection: the number of rows the
 * export's base query yields now, for `rivet run --reconcile`. Reads one row; honours the
 * export's statement and lock timeouts like the export itself.
 */
export async function sourceRowCount(exp: ResolvedExport, deps: Pick<RunDeps, 'openSource' | 'log'>): Promise<number> {
  const source = await deps.openSource({ connection: exp.connection, log: deps.log });
  try {
    const sql = source.dialect.countSql(exp.sql);
    for await (const batch of source.read(sql, {
      batchSize: 1,
      statementTimeoutS: exp.tuning.statementTimeoutS,
      lockTimeoutS: exp.tuning.lockTimeoutS,
    })) {
      if (batch.numRows > 0) return Number(batch.getChildAt(0)?.get(0));
    }
    return 0;
  } finally {
    await source.close();
  }
}
