import { configError } from '../errors/rivet-error.js';
import { registerSecret } from '../log/redact.js';
import type { Logger } from '../log/logger.js';

const WARN_WITHIN_MS = 60 * 60 * 1000;

/**
 * Prepare an Azure SAS token read from the environment: drop the leading `?` people paste
 * from the portal, register the token and its signature (in raw and URL-decoded form, as
 * it appears in request URLs) for redaction, and refuse an already expired token before a
 * long export starts instead of failing at its first write.
 */
export function prepareSasToken(raw: string, logger: Logger, now: Date = new Date()): string {
  const token = raw.trim().replace(/^\?/, '');
  registerSecret(token);
  const params = new URLSearchParams(token);
  const sig = params.get('sig');
  if (sig) {
    registerSecret(sig);
    registerSecret(encodeURIComponent(sig));
    const rawSig = /(?:^|&)sig=([^&]*)/.exec(token)?.[1];
    registerSecret(rawSig);
  }
  const se = params.get('se');
  if (se === null) return token;
  const expiry = Date.parse(se);
  if (Number.isNaN(expiry)) {
    logger.warn(`the Azure SAS token's expiry (se=${se}) cannot be parsed; rivet cannot tell whether it is still valid`);
    return token;
  }
  if (expiry <= now.getTime()) {
    throw configError(
      `the Azure SAS token's expiry (se=${new Date(expiry).toISOString()}) is in the past`,
      'issue a fresh SAS token and rerun',
    );
  }
  if (expiry - now.getTime() <= WARN_WITHIN_MS) {
    const mins = Math.floor((expiry - now.getTime()) / 60_000);
    logger.warn(
      `the Azure SAS token expires in ${mins} min (se=${new Date(expiry).toISOString()}); an export still running then fails at its next write`,
    );
  }
  return token;
}
