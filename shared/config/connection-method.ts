import { configError } from '../errors/rivet-error.js';
import type { SourceConfig } from './schema.js';

/**
 * How `source:` says where the database is: one URL field (`url`, `url_env`, `url_file`) or
 * structured fields. `port` alone does not count as structured (it has a default). Checked at
 * load time (validate.ts) and again before connecting, for configs built in code.
 */
export type ConnectionMethod = 'url' | 'url_env' | 'url_file' | 'structured';

const URL_FIELDS = ['url', 'url_env', 'url_file'] as const;
const STRUCTURED_FIELDS = ['host', 'user', 'database', 'password', 'password_env'] as const;

export function connectionMethod(source: SourceConfig): ConnectionMethod {
  const urlFields = URL_FIELDS.filter((k) => source[k] !== undefined);
  const structured = STRUCTURED_FIELDS.some((k) => source[k] !== undefined);
  if (urlFields.length === 0 && !structured) {
    throw configError(
      'source: no connection method is configured; set exactly one of:\n' +
        '  url: postgresql://user@host:5432/db        (inline; keep passwords out of it)\n' +
        '  url_env: DATABASE_URL                      (name of an environment variable holding the URL)\n' +
        '  url_file: secrets/db_url                   (file holding the URL, relative to the config)\n' +
        '  host: / user: / database: (+ port:, password_env:)   (structured fields)',
      'url_env is the usual choice: the URL stays out of the config file',
    );
  }
  if (urlFields.length > 1) {
    throw configError(
      `source: exactly one of url, url_env, url_file may be set, but ${urlFields.length} are set (${urlFields.join(', ')})`,
      'keep the one you mean and delete the others',
    );
  }
  if (urlFields.length === 1 && structured) {
    throw configError(
      'source: choose either URL-based config (url/url_env/url_file) or structured fields (host/user/database/port/password_env), not both',
      'delete the URL field, or delete host/user/database/password/password_env',
    );
  }
  if (urlFields.length === 1) return urlFields[0];
  for (const key of ['host', 'user', 'database'] as const) {
    if (source[key] === undefined) {
      throw configError(`source: the structured connection config is missing \`${key}\``, 'structured config needs host, user and database (port and password_env are optional)');
    }
  }
  if (source.password !== undefined && source.password_env !== undefined) {
    throw configError('source: only one of `password` and `password_env` may be set', 'prefer password_env: the password then stays out of the config file');
  }
  return 'structured';
}
