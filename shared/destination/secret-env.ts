import { configError } from '../errors/rivet-error.js';
import { registerSecret } from '../log/redact.js';

/**
 * Read a credential from the environment variable the config names. The value is
 * registered for redaction before anything else can see it, so an error or log line that
 * later quotes it (an SDK echoing a token, a signed URL) prints `***` instead.
 * A missing or empty variable is a configuration error (exit 2) that names the variable
 * and what it should hold, never a value.
 */
export function readSecretEnv(varName: string, what: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[varName];
  if (value === undefined || value === '') {
    throw configError(
      `environment variable ${varName} is not set; it should hold the ${what}`,
      `export ${varName} before running rivet, or change the destination's *_env key`,
    );
  }
  registerSecret(value);
  return value;
}
