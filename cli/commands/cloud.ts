import type { Command } from 'commander';
import type { CloudRunOptions, CloudStatusOptions } from './cloud-actions.js';

/** `rivet cloud run|status`: drive the deployed state machine of an export (docs/aws.md). */
export function registerCloud(program: Command): void {
  const cloud = program.command('cloud').description('run and follow an export on the AWS deployment (Step Functions; see docs/aws.md)');
  const common = (c: Command) =>
    c
      .requiredOption('-c, --config <path>', 'path to rivet.yaml')
      .requiredOption('-e, --export <name>', 'export to run')
      .option('--stack <name>', 'CDK stack name (stack_name of rivet.deploy.yaml)', 'Rivet')
      .option('--state-machine-arn <arn>', 'the state machine, when it cannot be found by name');
  common(cloud.command('run').description('start an execution named by the run id (a second start of the same run is refused)'))
    .option('-p, --param <key=value>', 'query parameter (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--at <iso-time>', 'the instant the run stands for (fixes the run id and {date}); default now')
    .option('--resume', "adopt the export's unfinished checkpointed run")
    .option('--force', 'with --resume: even over an existing _SUCCESS')
    .option('--validate', 'after the commit, the finalizer verifies the prefix; a prefix that does not verify fails the run')
    .option('--reconcile', "after the commit, the finalizer compares the source's row count with the rows committed; a mismatch fails the run")
    .option('--wait', 'follow the execution until it ends (like `rivet cloud status --watch`)')
    .action(async (opts: CloudRunOptions) => {
      const { cloudRun, SFNClient } = await import('./cloud-actions.js');
      process.exitCode = await cloudRun(opts, new SFNClient({}), process.stdout);
    });
  common(cloud.command('status').description("show an execution's state and its Map run's chunk counts"))
    .option('--run-id <id>', 'the run (execution name); default the latest execution')
    .option('--watch', 'refresh until the execution ends')
    .action(async (opts: CloudStatusOptions) => {
      const { cloudStatus, SFNClient } = await import('./cloud-actions.js');
      process.exitCode = await cloudStatus(opts, new SFNClient({}), process.stdout);
    });
}

