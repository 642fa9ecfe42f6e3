import { Connection, Request } from 'tedious';
import { mssqlConnectionConfig } from '../../shared/source/mssql/mssql-connect.js';

/** The live server of `npm run test:mssql` (checked by require-server.ts). */
export function testMssqlUrl(database?: string): string {
  const url = process.env.RIVET_TEST_MSSQL_URL;
  if (!url) throw new Error('RIVET_TEST_MSSQL_URL is not set');
  if (!database) return url;
  // Replace the path after the host (the userinfo ends at the last @).
  const at = url.lastIndexOf('@');
  const head = url.slice(0, at + 1);
  const tail = url.slice(at + 1);
  const q = tail.indexOf('?');
  const authority = tail.slice(0, tail.search(/[/?]|$/));
  return `${head}${authority}/${encodeURIComponent(database)}${q >= 0 ? tail.slice(q) : ''}`;
}

/** Run T-SQL (several statements allowed) on a short-lived connection; rows of the last result as objects. */
export async function mssqlExec<T = Record<string, unknown>>(sql: string, database?: string): Promise<T[]> {
  const config = mssqlConnectionConfig({ engine: 'mssql', url: testMssqlUrl(database) });
  const conn = new Connection({ ...config, options: { ...config.options, useColumnNames: true } });
  await new Promise<void>((resolve, reject) => conn.connect((e) => (e ? reject(e) : resolve())));
  try {
    return await new Promise<T[]>((resolve, reject) => {
      let rows: T[] = [];
      const req = new Request(sql, (e) => (e ? reject(e) : resolve(rows)));
      req.on('columnMetadata', () => {
        rows = [];
      });
      req.on('row', (cols: Record<string, { value: unknown }>) => {
        rows.push(Object.fromEntries(Object.entries(cols).map(([k, c]) => [k, c.value])) as T);
      });
      conn.execSqlBatch(req);
    });
  } finally {
    conn.close();
  }
}

/** A fresh database for one test file, with snapshot isolation allowed (the isolation rivet prefers). */
export async function freshMssqlDatabase(prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  await mssqlExec(`CREATE DATABASE [${name}]; ALTER DATABASE [${name}] SET ALLOW_SNAPSHOT_ISOLATION ON;`);
  return name;
}

export async function dropMssqlDatabase(name: string): Promise<void> {
  await mssqlExec(`IF DB_ID(N'${name}') IS NOT NULL BEGIN ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${name}]; END`);
}
