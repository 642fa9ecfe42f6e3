import type { TlsOptions } from '../source.js';

/** The `ssl-mode` / `sslmode` URL parameter (MySQL client spelling or libpq's) as a rivet TLS mode. */
export function mysqlUrlTlsMode(u: URL): TlsOptions['mode'] | undefined {
  const raw = (u.searchParams.get('ssl-mode') ?? u.searchParams.get('sslmode') ?? u.searchParams.get('ssl_mode'))?.toLowerCase().replace(/_/g, '-');
  switch (raw) {
    case 'required':
    case 'require':
      return 'require';
    case 'verify-ca':
      return 'verify-ca';
    case 'verify-identity':
    case 'verify-full':
      return 'verify-full';
    case 'disabled':
    case 'disable':
    case 'preferred':
    case 'prefer':
      return 'disable';
    default:
      return undefined;
  }
}
