import { configError } from '../errors/rivet-error.js';

/**
 * `table:` is `name` or `schema.name`, each part a plain SQL identifier
 * (`[A-Za-z_][A-Za-z0-9_]*`). It is pasted unquoted into `SELECT * FROM <table>`, so nothing
 * else may get through; identifiers that need quoting belong in `query:`.
 */
export interface TableName {
  schema?: string;
  name: string;
}

export function parseTableName(raw: string, at: string): TableName {
  if (raw === '') {
    throw configError(`${at}: \`table\` is empty`, 'write `table: <name>` or `table: <schema>.<name>`');
  }
  const parts = raw.split('.');
  if (parts.length > 2) {
    throw configError(`${at}: \`table\` must be <name> or <schema>.<name>, got '${raw}'`, 'for other shapes write a `query:` instead');
  }
  for (const part of parts) {
    if (part === '') {
      throw configError(`${at}: \`table\` has an empty part in '${raw}'`, 'write `table: <name>` or `table: <schema>.<name>`');
    }
    if (!/^[A-Za-z_]/.test(part)) {
      throw configError(
        `${at}: \`table\` part '${part}' must start with a letter or '_'`,
        `identifiers that need quoting go in a query, e.g. query: SELECT * FROM "${part}"`,
      );
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) {
      throw configError(
        `${at}: \`table\` part '${part}' contains characters other than letters, digits and '_'`,
        `identifiers that need quoting go in a query, e.g. query: SELECT * FROM "${part}"`,
      );
    }
  }
  return parts.length === 2 ? { schema: parts[0], name: parts[1] } : { name: parts[0] };
}
