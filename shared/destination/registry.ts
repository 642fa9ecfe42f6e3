import { notSupportedYet } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import type { Destination, DestinationKind } from './destination.js';
import { openLocalDestination } from './local-destination.js';
import { openStdoutDestination } from './stdout-destination.js';

/** Where one run writes: the backend and its resolved root (placeholders already expanded). */
export interface DestinationTarget {
  kind: DestinationKind;
  /** Local directory, or `bucket` + `prefix` for object stores. */
  path?: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  credentials_file?: string;
  /** Names of environment variables holding credentials (read at open time, never the values themselves). */
  access_key_env?: string;
  secret_key_env?: string;
  session_token_env?: string;
  aws_profile?: string;
  account_name?: string;
  account_key_env?: string;
  sas_token_env?: string;
  allow_anonymous?: boolean;
}

/**
 * The one place that maps `destination.type` to an implementation. Cloud SDKs are loaded
 * only when used: they cost most of a second at start-up for runs that never touch them.
 */
export async function openDestination(target: DestinationTarget, options: { logger?: Logger } = {}): Promise<Destination> {
  switch (target.kind) {
    case 'local':
      return openLocalDestination(target.path ?? '.');
    case 'stdout':
      return openStdoutDestination();
    case 's3': {
      const { openS3Destination } = await import('./s3-destination.js');
      return openS3Destination({
        bucket: target.bucket,
        prefix: target.prefix,
        region: target.region,
        endpoint: target.endpoint,
        accessKeyEnv: target.access_key_env,
        secretKeyEnv: target.secret_key_env,
        sessionTokenEnv: target.session_token_env,
        awsProfile: target.aws_profile,
      });
    }
    case 'gcs': {
      const { openGcsDestination } = await import('./gcs-destination.js');
      return openGcsDestination({
        bucket: target.bucket,
        prefix: target.prefix,
        credentialsFile: target.credentials_file,
        endpoint: target.endpoint,
        allowAnonymous: target.allow_anonymous,
      });
    }
    case 'azure': {
      const { openAzureDestination } = await import('./azure-destination.js');
      return openAzureDestination({
        bucket: target.bucket,
        prefix: target.prefix,
        accountName: target.account_name,
        accountKeyEnv: target.account_key_env,
        sasTokenEnv: target.sas_token_env,
        allowAnonymous: target.allow_anonymous,
        endpoint: target.endpoint,
        logger: options.logger,
      });
    }
    default:
      throw notSupportedYet(`destination type '${target.kind}'`, 'use one of `type: local`, `s3`, `gcs`, `azure` or `stdout`');
  }
}
