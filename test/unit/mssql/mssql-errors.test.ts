import { createServer } from 'node:net';
import { ConnectionError, RequestError } from 'tedious';
import { describe, expect, it } from 'vitest';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { silentLogger } from '../../../shared/log/logger.js';
import { redact } from '../../../shared/log/redact.js';
import { classifyMssqlError, mssqlQueryError } from '../../../shared/source/mssql/mssql-errors.js';
import { classifySourceError, openSource } from '../../../shared/source/registry.js';

/** A server error the way tedious reports it: a RequestError with the server's number. */
function serverError(number: number, message: string): RequestError {
  const e = new RequestError(message, 'EREQUEST');
  e.number = number;
  e.state = 1;
  e.class = 16;
  return e;
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function connectError(url: string): Promise<RivetError> {
  try {
    const s = await openSource({ connection: { engine: 'mssql', url }, log: silentLogger });
    await s.close();
  } catch (e) {
    return e as RivetError;
  }
  throw new Error('expected the connection to fail');
}

const PASSWORD = 'Sup3r-Secret-Pw9';

describe('classifyMssqlError (docs/modes.md)', () => {
  it.each([
    [serverError(1205, 'Transaction (Process ID 57) was deadlocked on lock resources with another process and has been chosen as the deadlock victim.'), { transient: true, reconnect: false, extraDelayMs: 1000 }],
    [serverError(1222, 'Lock request time out period exceeded.'), { transient: true, reconnect: false, extraDelayMs: 0 }],
    [serverError(40613, 'Database is not currently available.'), { transient: true, reconnect: true, extraDelayMs: 15000 }],
    [serverError(40501, 'The service is currently busy.'), { transient: true, reconnect: true, extraDelayMs: 15000 }],
    [serverError(701, 'There is insufficient system memory'), { transient: true, reconnect: false, extraDelayMs: 5000 }],
    [serverError(208, "Invalid object name 'dbo.nope'."), { transient: false, reconnect: false, extraDelayMs: 0 }],
    [serverError(18456, "Login failed for user 'sa'."), { transient: false, reconnect: false, extraDelayMs: 0 }],
    [new RequestError('Timeout: Request failed to complete in 1000ms', 'ETIMEOUT'), { transient: true, reconnect: false, extraDelayMs: 0 }],
    [new ConnectionError('Failed to connect to db:1433 in 15000ms', 'ETIMEOUT'), { transient: true, reconnect: true, extraDelayMs: 0 }],
    [new ConnectionError('Connection lost - read ECONNRESET', 'ESOCKET'), { transient: true, reconnect: true, extraDelayMs: 0 }],
    [new RequestError('Connection closed before request completed.', 'ECLOSE'), { transient: true, reconnect: true, extraDelayMs: 0 }],
    [new ConnectionError('Login failed.', 'ELOGIN'), { transient: false, reconnect: false, extraDelayMs: 0 }],
    [new RequestError('Canceled.', 'ECANCEL'), { transient: false, reconnect: false, extraDelayMs: 0 }],
    [new Error('something else'), { transient: false, reconnect: false, extraDelayMs: 0 }],
  ])('%s', (err, expected) => {
    expect(classifyMssqlError(err)).toEqual(expected);
    // also through a RivetError wrapper, as the modes see it
    expect(classifyMssqlError(mssqlQueryError(err))).toEqual(expected);
    expect(classifySourceError('mssql', err)).toEqual(expected);
  });
});

describe('query errors', () => {
  it('gives missing tables their own code and common T-SQL wrapping mistakes a hint', () => {
    expect(mssqlQueryError(serverError(208, "Invalid object name 'dbo.nope'."), { action: 'reading the query' })).toMatchObject({
      code: 'SOURCE_TABLE_NOT_FOUND',
      message: "SQL Server reading the query: Invalid object name 'dbo.nope'. (error 208, state 1)",
    });
    expect(mssqlQueryError(serverError(1033, 'The ORDER BY clause is invalid in views…')).hint).toMatch(/ORDER BY inside a subquery/);
    expect(mssqlQueryError(serverError(8155, "No column name was specified for column 1 of '_rivet'.")).hint).toMatch(/AS name/);
    expect(mssqlQueryError(new RequestError('Timeout: Request failed to complete in 5000ms', 'ETIMEOUT')).hint).toMatch(/statement_timeout_s/);
  });
});

describe('connection failures without a server', () => {
  it('refused port: names host and port, says why, never the password', async () => {
    const port = await closedPort();
    const err = await connectError(`sqlserver://sa:${PASSWORD}@127.0.0.1:${port}/master`);
    expect(err).toBeInstanceOf(RivetError);
    expect(err.code).toBe('SOURCE_CONNECT');
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(`cannot connect to SQL Server at 127.0.0.1:${port}: connection refused`);
    expect(err.hint).toMatch(/host and port/);
    expect(JSON.stringify(err)).not.toContain(PASSWORD);
    expect(redact(String((err.cause as Error)?.message))).not.toContain(PASSWORD);
    expect(classifySourceError('mssql', err)).toEqual({ transient: true, reconnect: true, extraDelayMs: 0 });
  });

  it('unknown host: reports the DNS failure', async () => {
    const err = await connectError(`mssql://sa:${PASSWORD}@no-such-host.invalid:1433/master`);
    expect(err.code).toBe('SOURCE_CONNECT');
    expect(err.message).toMatch(/^cannot connect to SQL Server at no-such-host\.invalid:1433: host name could not be resolved \(DNS: (ENOTFOUND|EAI_AGAIN)\)$/);
    expect(err.message).not.toContain(PASSWORD);
  });

  it('a bad URL fails before any connection, without quoting it', async () => {
    const err = await connectError(`sqlserver://sa:${PASSWORD}@db:1433`);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/has no database/);
    expect(err.message).not.toContain(PASSWORD);
  });
});
