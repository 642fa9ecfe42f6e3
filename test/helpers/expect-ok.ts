import { expect } from 'vitest';
import { runCli, type CliResult } from './cli.js';

/** Run the built CLI and require a clean exit 0 (the stderr shown when not), with no stack trace. */
export async function expectOk(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  const r = await runCli(args, { env });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code, r.stderr).toBe(0);
  return r;
}
