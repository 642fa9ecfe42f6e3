import { RivetError } from '../errors/rivet-error.js';
import { redact } from '../log/redact.js';

/**
 * Errors for object-store backends. Messages name the object by its public URI (never a
 * signed URL or an endpoint carrying a token) and pass the store's own reason through
 * `redact`, because SDK messages sometimes quote request headers or query strings.
 */
export function destinationError(action: string, uri: string, cause: unknown, hint?: string): RivetError {
  return new RivetError('DESTINATION', `cannot ${action} ${uri}: ${redact(describeCause(cause))}`, {
    hint: hint ?? 'check the destination settings, the credentials and that the bucket/container exists',
    cause: sanitizedCause(cause),
  });
}

/** The refusal every create-only backend gives when a key is already taken. */
export function alreadyExistsError(uri: string): RivetError {
  return new RivetError('DESTINATION', `${uri} already exists; rivet never replaces a committed part`, {
    hint: 'another run wrote this part; run `rivet validate` on the prefix or choose another destination path',
  });
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const e = cause as Error & { code?: unknown; statusCode?: unknown; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode ?? (typeof e.statusCode === 'number' ? e.statusCode : undefined);
    const name = typeof e.code === 'string' ? e.code : e.name !== 'Error' ? e.name : '';
    // Services append request ids and timestamps on further lines; the first line says what happened.
    const firstLine = e.message.split('\n')[0].trim();
    return [name, status ? `HTTP ${status}` : '', firstLine].filter((s) => s).join(': ');
  }
  return String(cause);
}

/**
 * SDK errors carry the request (headers, signed query strings) on their properties; a
 * caller that logs `cause` deeply must not find credentials there. Keep only a redacted
 * message.
 */
function sanitizedCause(cause: unknown): Error {
  const e = new Error(redact(describeCause(cause)));
  e.name = cause instanceof Error ? cause.name : 'Error';
  return e;
}
