import { loadConfig } from '../../shared/config/load.js';
import { resolveSourceConnection } from '../../shared/config/connection.js';
import { expandPlaceholders, utcDate } from '../../shared/config/placeholders.js';
import { EXIT_CONFIG, EXIT_EXPORT_FAILED, EXIT_OK, RivetError, errorChain } from '../../shared/errors/rivet-error.js';
import type { Logger } from '../../shared/log/logger.js';
import { redact } from '../../shared/log/redact.js';
import { openDestination, type DestinationTarget } from '../../shared/destination/registry.js';
import { destinationTarget } from '../../shared/run/destination-target.js';
import { openSource, sourceEngine } from '../../shared/source/registry.js';
import type { CommandIO } from './run-action.js';

const PROBE_KEY = '.rivet_doctor_probe';

/**
 * `rivet doctor`: parse the config, connect to the source (`SELECT 1`), and write a tiny
 * probe object to each distinct destination, so an expired key or a missing bucket shows
 * up before a long export starts. Each failure says what kind it is and what to try.
 * A config error exits 2 like everywhere; a failed probe exits 1.
 */
export async function doctorCommand(opts: { config: string }, io: CommandIO): Promise<number> {
  const out = (line = '') => io.stdout.write(redact(line) + '\n');
  const warnings: string[] = [];
  const log: Logger = {
    error: () => {},
    info: () => {},
    debug: () => {},
    warn: (m) => warnings.push(m),
    warnOnce: (_k, m) => {
      if (!warnings.includes(m)) warnings.push(m);
    },
  };
  out(`rivet doctor: checking config '${opts.config}'`);
  out();
  const loaded = await loadConfig(opts.config, { log }); // a config error propagates: exit 2
  out('[OK]   config parsed');
  let failed = 0;
  // A missing env var or a refused key combination is a config problem (exit 2), found here
  // alongside the others so one doctor run lists everything to fix.
  let configFailures = 0;

  const { source } = loaded.config;
  try {
    const connection = resolveSourceConnection(source, { configDir: loaded.dir, log });
    for (const w of warnings.splice(0)) out(`[WARN] ${w}`);
    const src = await openSource({ connection, log });
    try {
      await src.describe('SELECT 1 AS ok');
    } finally {
      await src.close().catch(() => {});
    }
    out(`[OK]   source reachable and credentials accepted (${source.type})`);
  } catch (e) {
    failed++;
    const msg = message(e);
    if (e instanceof RivetError && e.exitCode === 2) {
      configFailures++;
      out(`[FAIL] source config error: ${msg}`);
      if (e.hint) out(`       hint: ${e.hint}`);
    } else {
      out(`[FAIL] source ${sourceCategory(msg)}: ${msg}`);
      out(`       hint: ${sourceHint(msg, e, sourceEngine(source.type).hints.auth)}`);
    }
  }

  const seen = new Set<string>();
  const now = new Date();
  for (const exp of loaded.config.exports) {
    const d = exp.destination;
    if (d.type === 'stdout') continue;
    const key = `${d.type}:${d.bucket ?? '-'}:${d.endpoint ?? '-'}:${d.type === 'local' ? (d.path ?? d.prefix ?? '.') : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const label = destinationLabel(d.type, d.bucket ?? undefined, d.path ?? d.prefix ?? undefined);
    try {
      const t = destinationTarget(d);
      const ctx = { date: utcDate(now), exportName: exp.name, runId: 'doctor' };
      const target: DestinationTarget = { ...t, path: t.path && expandPlaceholders(t.path, ctx), prefix: t.prefix && expandPlaceholders(t.prefix, ctx) };
      const dest = await openDestination(target, { logger: log });
      await dest.put(PROBE_KEY, 'ok');
      // Best effort: a principal allowed to write but not to delete still passes the probe.
      await dest.delete(PROBE_KEY).catch(() => {});
      for (const w of warnings.splice(0)) out(`[WARN] ${w}`);
      out(`[OK]   destination ${label}`);
    } catch (e) {
      if (e instanceof RivetError && e.exitCode === 2) {
        failed++;
        configFailures++;
        out(`[FAIL] destination ${label} -- config error: ${message(e)}`);
        if (e.hint) out(`       hint: ${e.hint}`);
        continue;
      }
      failed++;
      const msg = message(e);
      const category = destinationCategory(msg, d.type);
      out(`[FAIL] destination ${label} -- ${category}: ${msg}`);
      out(`       hint: ${destinationHint(category, d.type)}`);
    }
  }
  return finish();

  function finish(): number {
    out();
    if (failed === 0) {
      out('All checks passed.');
      return EXIT_OK;
    }
    out(`${failed} check(s) failed; fix them before running exports.`);
    return configFailures > 0 ? EXIT_CONFIG : EXIT_EXPORT_FAILED;
  }
}

function message(e: unknown): string {
  return redact(e instanceof RivetError ? e.message : errorChain(e));
}

function destinationLabel(type: string, bucket?: string, path?: string): string {
  switch (type) {
    case 'local':
      return `Local(${path ?? '.'})`;
    case 's3':
      return `S3(${bucket ?? '?'})`;
    case 'gcs':
      return `GCS(${bucket ?? '?'})`;
    default:
      return `Azure(${bucket ?? '?'})`;
  }
}

export function sourceCategory(msg: string): string {
  const m = msg.toLowerCase();
  if (/password|authentication|access denied/.test(m)) return 'auth error';
  if (/connect|refused|timed out|could not translate host|name or service not known|enotfound/.test(m)) return 'connectivity error';
  return 'error';
}

/** `authHint` is the engine's own: what besides the password decides whether it lets a client in. */
function sourceHint(msg: string, e: unknown, authHint: string): string {
  const m = msg.toLowerCase();
  if (/tls|ssl|certificate|handshake/.test(m)) return 'check `source.tls` (mode, and `ca_file:` for a private CA)';
  if (e instanceof RivetError && e.hint) return e.hint;
  if (sourceCategory(msg) === 'auth error') return authHint;
  return 'check the host and port, that the server runs, and any firewall or bastion in between';
}

export function destinationCategory(msg: string, type: string): string {
  const m = msg.toLowerCase();
  if (m.includes('expired') && m.includes('sas')) return 'sas expired';
  if (/credential|permission denied|access denied|unauthorized|forbidden|invalid_grant|token|eacces|authoriz|authenticat|http 403/.test(m)) return 'auth error';
  if (/not found|nosuchbucket|no such bucket|404|containernotfound|enoent/.test(m)) {
    return type === 'azure' ? 'container not found' : type === 'local' ? 'path not found' : 'bucket not found';
  }
  if (/connect|refused|timed out|dns|endpoint|enotfound/.test(m)) return 'connectivity error';
  return 'error';
}

function destinationHint(category: string, type: string): string {
  switch (category) {
    case 'sas expired':
      return 'issue a fresh SAS token, e.g. `az storage container generate-sas --permissions rwdlc --expiry <future-date>`';
    case 'auth error':
      return type === 's3'
        ? 'check the access key env vars (or the profile / default chain) and that the principal may s3:PutObject on the prefix'
        : type === 'gcs'
          ? 'check `credentials_file` / GOOGLE_APPLICATION_CREDENTIALS and the storage.objects.create permission'
          : type === 'azure'
            ? 'check the account key or SAS token and its permissions (write, list, delete)'
            : 'check the directory permissions';
    case 'bucket not found':
    case 'container not found':
      return 'rivet never creates buckets or containers: create it, or fix the name (and for S3 the `region`/`endpoint`)';
    case 'path not found':
      return 'create the parent directory or fix `path:`';
    case 'connectivity error':
      return 'check `endpoint:`/`region:` and the network path to the store';
    default:
      return 'see docs/destinations/ for this backend';
  }
}
