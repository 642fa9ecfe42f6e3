import mysql from 'mysql2/promise';

/** URL of the MariaDB server started by test/services/mariadb.sh (override with RIVET_TEST_MYSQL_URL). */
export function testMysqlUrl(database?: string): string {
  const base = process.env.RIVET_TEST_MYSQL_URL ?? `mysql://rivet:rivet@127.0.0.1:${process.env.RIVET_TEST_MYSQL_PORT ?? '54330'}/rivet_test`;
  if (!database) return base;
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The throwaway CA of the test server's TLS certificate (test/services/mariadb.sh). */
export function testMysqlCaFile(): string {
  return `${process.env.RIVET_TEST_MYSQL_DIR ?? `/tmp/rivet-test-mariadb-${process.getuid?.() ?? 0}`}/tls/ca.pem`;
}

/** Run SQL (several statements allowed) on the test server with a short-lived connection. */
export async function mysqlExec<T = unknown>(sql: string, params: unknown[] = [], database?: string): Promise<T[]> {
  const conn = await mysql.createConnection({ uri: testMysqlUrl(database), multipleStatements: true, timezone: 'Z', supportBigNumbers: true, bigNumberStrings: true });
  try {
    const [rows] = await conn.query(sql, params);
    return rows as T[];
  } finally {
    await conn.end();
  }
}

/** A fresh database for one test file, so files can run in parallel against one server. Returns its name. */
export async function freshDatabase(prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e6)}`.toLowerCase();
  await mysqlExec(`DROP DATABASE IF EXISTS \`${name}\`; CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  return name;
}
