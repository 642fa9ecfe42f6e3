import { Option, type Command } from 'commander';
import type { InitOptions } from './init-action.js';

/** Options and help only: the work is in init-action.ts, imported when the command runs (docs/adr/0005). */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('introspect a PostgreSQL or MySQL source (read-only) and print a rivet.yaml scaffold, or with --discover a JSON discovery report')
    .option('--source <url>', 'connection URL (visible in shell history and ps: prefer --source-env)')
    .option('--source-env <var>', 'name of an environment variable holding the URL (recommended)')
    .option('--source-file <path>', 'file holding just the URL')
    .option('--table <name>', 'one table ([schema.]table on PostgreSQL); default: every table and view of the schema')
    .option('--schema <name>', 'PostgreSQL schema (default public) or MySQL database (default: the URL database)')
    .option('-o, --output <path>', 'write to this file instead of stdout')
    .addOption(new Option('--discover', 'emit the JSON discovery artifact instead of YAML').conflicts(['gcsBucket', 'gcsCredentialsFile', 's3Bucket', 's3Region']))
    .addOption(new Option('--gcs-bucket <bucket>', 'scaffold GCS destinations in this bucket').conflicts('s3Bucket'))
    .option('--gcs-credentials-file <path>', 'credentials_file for the GCS destinations (needs --gcs-bucket)')
    .option('--s3-bucket <bucket>', 'scaffold S3 destinations in this bucket')
    .option('--s3-region <region>', 'region for the S3 destinations (needs --s3-bucket)')
    .action(async (opts: InitOptions) => {
      const { initCommand } = await import('./init-action.js');
      process.exitCode = await initCommand(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}
