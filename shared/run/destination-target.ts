import type { DestinationConfig } from '../config/schema.js';
import type { DestinationTarget } from '../destination/registry.js';

/**
 * A config `destination:` block as a target, placeholders still in it. `run` and
 * `validate` both go through here, so they always look at the same prefix.
 */
export function destinationTarget(d: DestinationConfig): DestinationTarget {
  return {
    kind: d.type,
    path: d.type === 'local' ? (d.path ?? d.prefix ?? '.') : undefined,
    bucket: d.bucket ?? undefined,
    prefix: d.type === 'local' ? undefined : (d.prefix ?? ''),
    // Credentials travel as env var NAMES; the backend reads the values when it opens.
    region: d.region ?? undefined,
    endpoint: d.endpoint ?? undefined,
    credentials_file: d.credentials_file ?? undefined,
    access_key_env: d.access_key_env ?? undefined,
    secret_key_env: d.secret_key_env ?? undefined,
    session_token_env: d.session_token_env ?? undefined,
    aws_profile: d.aws_profile ?? undefined,
    account_name: d.account_name ?? undefined,
    account_key_env: d.account_key_env ?? undefined,
    sas_token_env: d.sas_token_env ?? undefined,
    allow_anonymous: d.allow_anonymous ?? undefined,
  };
}
