/**
 * What `rivet cloud run|status` do, against the Step Functions API. Kept apart from the
 * command registration (cloud.ts) so the SDK is loaded only when a cloud command runs.
 */
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { loadConfig } from '../../shared/config/load.js';
import { parseParams } from '../../shared/config/params.js';
import { EXIT_CONFIG, EXIT_EXPORT_FAILED, EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger } from '../../shared/log/logger.js';
import { makeRunId } from '../../shared/run/run-id.js';
import { stateMachineName } from '../../functions/state-machine-name.js';

export interface CloudOptions {
  config: string;
  export: string;
  stack: string;
  stateMachineArn?: string;
}

export interface CloudRunOptions extends CloudOptions {
  param?: string[];
  at?: string;
  resume?: boolean;
  force?: boolean;
  validate?: boolean;
  reconcile?: boolean;
  wait?: boolean;
}

export interface CloudStatusOptions extends CloudOptions {
  runId?: string;
  watch?: boolean;
}

export async function cloudRun(opts: CloudRunOptions, sfn: SFNClient, out: NodeJS.WritableStream): Promise<number> {
  const params = parseParams(opts.param ?? []);
  await checkExport(opts.config, opts.export, params);
  const at = opts.at ? new Date(opts.at) : new Date();
  if (Number.isNaN(at.getTime())) throw new RivetError('USAGE', `--at '${opts.at}' is not an ISO 8601 time`, { hint: 'e.g. --at 2026-05-01T03:00:00Z' });
  const runId = makeRunId(opts.export, at);
  const arn = await findStateMachine(opts, sfn);
  // StartExecution is idempotent for a running execution with the same name and input (it
  // returns the existing one): ask first, so a second start is refused in every case.
  const existing = await sfn
    .send(new DescribeExecutionCommand({ executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${runId}` }))
    .catch((e: unknown) => {
      if ((e as { name?: string }).name === 'ExecutionDoesNotExist') return null;
      throw awsError(e, 'DescribeExecution');
    });
  if (existing) throw alreadyStarted(runId, opts);
  const input = { v: 1, export: opts.export, params, requestedAt: at.toISOString(), ...(opts.resume ? { resume: true } : {}), ...(opts.force ? { force: true } : {}), ...(opts.validate ? { validate: true } : {}), ...(opts.reconcile ? { reconcile: true } : {}) };
  try {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: runId, input: JSON.stringify(input) }));
    out.write(`started run ${runId}\n  execution ${started.executionArn}\n`);
  } catch (e) {
    if (e instanceof ExecutionAlreadyExists || (e as { name?: string }).name === 'ExecutionAlreadyExists') throw alreadyStarted(runId, opts);
    throw awsError(e, 'StartExecution');
  }
  return opts.wait ? cloudStatus({ ...opts, runId, watch: true }, sfn, out) : EXIT_OK;
}

function alreadyStarted(runId: string, opts: CloudOptions): RivetError {
  return new RivetError('USAGE', `run ${runId} was already started: an execution with that name exists`, {
    hint: `follow it with \`rivet cloud status -c ${opts.config} -e ${opts.export}${opts.stack !== 'Rivet' ? ` --stack ${opts.stack}` : ''} --run-id ${runId}\`; start a new run without --at`,
  });
}

export async function cloudStatus(opts: CloudStatusOptions, sfn: SFNClient, out: NodeJS.WritableStream, pollMs = 5000): Promise<number> {
  const smArn = await findStateMachine(opts, sfn);
  let executionArn: string;
  if (opts.runId) {
    executionArn = `${smArn.replace(':stateMachine:', ':execution:')}:${opts.runId}`;
  } else {
    const latest = await sfn.send(new ListExecutionsCommand({ stateMachineArn: smArn, maxResults: 1 })).catch((e: unknown) => {
      throw awsError(e, 'ListExecutions');
    });
    const first = latest.executions?.[0];
    if (!first?.executionArn) {
      out.write(`export '${opts.export}' has no execution yet; start one with \`rivet cloud run\`\n`);
      return EXIT_OK;
    }
    executionArn = first.executionArn;
  }
  for (;;) {
    const ex = await sfn.send(new DescribeExecutionCommand({ executionArn })).catch((e: unknown) => {
      throw awsError(e, 'DescribeExecution');
    });
    const counts = await mapCounts(sfn, executionArn);
    out.write(statusLine(ex, counts) + '\n');
    if (ex.status !== 'RUNNING' || !opts.watch) return exitFor(ex, out);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

interface Counts {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
}

async function mapCounts(sfn: SFNClient, executionArn: string): Promise<Counts | null> {
  try {
    const runs = await sfn.send(new ListMapRunsCommand({ executionArn }));
    const arn = runs.mapRuns?.[0]?.mapRunArn;
    if (!arn) return null;
    const d = await sfn.send(new DescribeMapRunCommand({ mapRunArn: arn }));
    const c = d.itemCounts;
    return c ? { total: c.total ?? 0, succeeded: c.succeeded ?? 0, failed: c.failed ?? 0, running: c.running ?? 0 } : null;
  } catch {
    // No Map run yet (still planning), or an endpoint without Map runs: the execution status still says enough.
    return null;
  }
}

/** `RUNNING  [##########----------] 5/10 chunks (2 running, 0 failed)  orders_20260501T030000.000` */
export function statusLine(ex: Partial<Pick<DescribeExecutionCommandOutput, 'status' | 'name' | 'startDate' | 'stopDate'>>, counts: Counts | null): string {
  const width = 24;
  const bar = counts && counts.total > 0 ? `[${'#'.repeat(Math.round((counts.succeeded / counts.total) * width)).padEnd(width, '-')}] ${counts.succeeded}/${counts.total} chunks (${counts.running} running, ${counts.failed} failed)` : counts ? '[no chunks]' : '[planning]';
  const took = ex.startDate ? ` ${Math.round(((ex.stopDate ?? new Date()).getTime() - ex.startDate.getTime()) / 1000)} s` : '';
  return `${(ex.status ?? '?').padEnd(10)} ${bar}  ${ex.name ?? ''}${took}`;
}

function exitFor(ex: DescribeExecutionCommandOutput, out: NodeJS.WritableStream): number {
  if (ex.status === 'SUCCEEDED') {
    const result = ex.output ? (JSON.parse(ex.output) as { rows?: number; files?: number; destination?: string; status?: string }) : {};
    out.write(`run ${result.status ?? 'success'}: ${result.rows ?? 0} row(s) in ${result.files ?? 0} part(s) at ${result.destination ?? '?'}\n`);
    return EXIT_OK;
  }
  if (ex.status === 'RUNNING') return EXIT_OK;
  out.write(`${ex.error ?? ex.status}: ${ex.cause ?? ''}\n`);
  return ex.status === 'FAILED' || ex.status === 'TIMED_OUT' || ex.status === 'ABORTED' ? EXIT_EXPORT_FAILED : EXIT_OK;
}

async function checkExport(configPath: string, exportName: string, params: Record<string, string>): Promise<void> {
  // The execution reads the config bundled at deploy time; this only catches a typo early. Secrets need not be set here.
  const env = new Proxy({} as NodeJS.ProcessEnv, { get: (_t, k) => (typeof k === 'string' ? (process.env[k] ?? `\${${k}}`) : undefined) });
  const loaded = await loadConfig(configPath, { params, env, log: createLogger({ level: 'error' }) });
  if (!loaded.config.exports.some((e) => e.name === exportName)) {
    throw new RivetError('USAGE', `export '${exportName}' is not in ${configPath}`, { hint: `exports: ${loaded.config.exports.map((e) => e.name).join(', ')}` });
  }
}

async function findStateMachine(opts: CloudOptions, sfn: SFNClient): Promise<string> {
  if (opts.stateMachineArn) return opts.stateMachineArn;
  const name = stateMachineName(opts.stack, opts.export);
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken })).catch((e: unknown) => {
      throw awsError(e, 'ListStateMachines');
    });
    const hit = page.stateMachines?.find((m) => m.name === name);
    if (hit?.stateMachineArn) return hit.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new RivetError('USAGE', `no state machine named ${name} in this account and region`, {
    hint: 'deploy the stack (npx cdk deploy), pass --stack <stack_name>, set AWS_REGION, or give --state-machine-arn',
    exitCode: EXIT_CONFIG,
  });
}

function awsError(e: unknown, call: string): RivetError {
  const name = (e as { name?: string }).name ?? 'Error';
  return new RivetError('EXPORT_FAILED', `Step Functions ${call} failed: ${name}: ${(e as Error).message}`, {
    hint: 'check AWS credentials, AWS_REGION and that the caller may use states:* on the rivet state machines (docs/aws.md § IAM)',
  });
}
// cloud.ts builds the client after loading this module, so it never loads the SDK itself.
export { SFNClient };
