import { configError } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import { openDynamoStateStore } from './dynamodb-state-store.js';
import { openPostgresStateStore } from './postgres-state-store.js';
import { openSqliteStateStore } from './sqlite-state-store.js';
import type { StateStore } from './state-store.js';

/** Which backend keeps the state, from the environment (docs/reference/state.md § Selecting a backend). */
export type StateBackend =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema: string }
  | { kind: 'dynamodb'; table: string; endpoint?: string; region?: string };

export const DEFAULT_PG_STATE_SCHEMA = 'rivet_state';

const URL_FORMS = 'postgresql://<user>@<host>:5432/<db>[?sslmode=require&schema=rivet_state] (password in the URL or PGPASSWORD), or dynamodb://<table>[?region=…&endpoint=…]';
const PG_SCHEMA = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const DYNAMO_TABLE = /^[A-Za-z0-9_.-]{3,255}$/;

function badUrl(what: string): never {
  throw configError(`RIVET_STATE_URL ${what}`, `use ${URL_FORMS}; unset it to keep the state in .rivet_state.db next to the config`);
}

function dynamoBackend(table: string, params: URLSearchParams, source: string): StateBackend {
  if (!DYNAMO_TABLE.test(table)) {
    throw configError(`${source} names an invalid DynamoDB table '${table}'`, 'table names are 3–255 characters of letters, digits, _ . and -');
  }
  const endpoint = params.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw configError(`${source}: the endpoint '${endpoint}' is not an http(s) URL`, 'e.g. dynamodb://rivet-state?endpoint=http://127.0.0.1:8000 for DynamoDB Local');
  }
  const region = params.get('region') ?? undefined;
  return { kind: 'dynamodb', table, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) };
}

/**
 * The backend the environment selects: `RIVET_STATE_URL` (`postgres://` / `postgresql://`
 * → PostgreSQL, `dynamodb://<table>` → DynamoDB), else `RIVET_STATE_TABLE` → DynamoDB, else
 * the SQLite file at `sqlitePath`. A value we cannot use is a config error (exit 2), never
 * a silent fall back to a local file that other workers would not see. Errors never echo
 * the URL: it may carry a password.
 */
export function stateBackend(sqlitePath: string, env: NodeJS.ProcessEnv = process.env): StateBackend {
  const url = env.RIVET_STATE_URL?.trim();
  const table = env.RIVET_STATE_TABLE?.trim();
  if (url) {
    if (/^postgres(ql)?:\/\//i.test(url)) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return badUrl('is not a valid PostgreSQL URL');
      }
      if (!parsed.hostname) badUrl('has no host');
      const schema = parsed.searchParams.get('schema') ?? (env.RIVET_STATE_SCHEMA?.trim() || DEFAULT_PG_STATE_SCHEMA);
      if (!PG_SCHEMA.test(schema)) badUrl(`names an invalid schema '${schema}' (letters, digits and _, at most 63)`);
      return { kind: 'postgres', url, schema };
    }
    const dynamo = /^dynamodb:\/\/([^?#]*)(?:\?([^#]*))?$/i.exec(url);
    if (dynamo) {
      const name = decodeURIComponent(dynamo[1].replace(/\/+$/, '')) || table;
      if (!name) badUrl('names no DynamoDB table (dynamodb://<table>, or set RIVET_STATE_TABLE)');
      return dynamoBackend(name, new URLSearchParams(dynamo[2] ?? ''), 'RIVET_STATE_URL');
    }
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
    badUrl(scheme ? `has an unsupported scheme '${scheme}:'` : 'is not a URL');
  }
  if (table) return dynamoBackend(table, new URLSearchParams(), 'RIVET_STATE_TABLE');
  return { kind: 'sqlite', path: sqlitePath };
}

/**
 * Open a backend. Its modules (and better-sqlite3, pg or the DynamoDB client) load on the
 * first call, which also opens the file or connects, so opening never blocks and a command
 * loads only the backend it uses.
 */
export function openBackend(backend: StateBackend, log?: Logger): StateStore {
  switch (backend.kind) {
    case 'sqlite':
      return openSqliteStateStore(backend.path);
    case 'postgres':
      return openPostgresStateStore({ url: backend.url, schema: backend.schema }, log);
    case 'dynamodb':
      return openDynamoStateStore(backend);
  }
}

/** The state store the environment selects; `sqlitePath` is the file used when no remote backend is configured. */
export function openStateStore(options: { sqlitePath: string; env?: NodeJS.ProcessEnv; log?: Logger }): StateStore {
  return openBackend(stateBackend(options.sqlitePath, options.env), options.log);
}
