import { Option } from 'commander';
import { redact } from '../shared/log/redact.js';

/**
 * The house convention for machine-readable output (docs/commands/README.md): `--format
 * pretty|json`, as the reference's plan, validate, reconcile and repair have it; `run --json`
 * and `check --json` keep the reference's spelling. JSON is one document on stdout, keys in
 * snake_case like the manifest and the plan artifact, and nothing else is written to stdout.
 */
export type OutputFormat = 'pretty' | 'json';

export function formatOption(): Option {
  return new Option('--format <format>', 'pretty: a table for people; json: one JSON document on stdout').choices(['pretty', 'json']).default('pretty');
}

/** Write one JSON document, passed through the same redaction as every other output. */
export function writeJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(redact(JSON.stringify(value, null, 2)) + '\n');
}
