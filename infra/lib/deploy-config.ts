import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadConfig, type LoadedConfig } from '../../shared/config/load.js';
import { RivetError } from '../../shared/errors/rivet-error.js';
import { silentLogger } from '../../shared/log/logger.js';

/**
 * `rivet.deploy.yaml`: how to deploy a `rivet.yaml` on AWS. A sidecar rather than a `deploy:`
 * key inside rivet.yaml, so rivet.yaml keeps the reference tool's strict grammar (Rivet 0.9.4
 * refuses unknown keys) and one config can run locally, in CI and on AWS unchanged.
 */
const FunctionSettingsSchema = z.strictObject({
  memory_mb: z.number().int().min(128).max(10_240).optional(),
  timeout_s: z.number().int().min(10).max(900).optional(),
});

const ExportDeploySchema = z.strictObject({
  /** EventBridge Scheduler expression: `cron(0 3 * * ? *)`, `rate(1 hour)`, `at(…)`. */
  schedule: z.string().regex(/^(cron|rate|at)\(.+\)$/, 'expected cron(…), rate(…) or at(…)').optional(),
  timezone: z.string().default('UTC'),
  /** `--param` values the scheduled runs pass. */
  params: z.record(z.string(), z.string()).default({}),
});

export const DeployConfigSchema = z.strictObject({
  /** The rivet.yaml to deploy, relative to this file. */
  config: z.string().default('rivet.yaml'),
  stack_name: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/).default('Rivet'),
  /** Env var named by the config (`url_env`, `password_env`, `access_key_env`, …) → Secrets Manager secret ARN (`#field` picks a JSON field). */
  secrets: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[^:]+:\d{12}:secret:[^#]+(#.+)?$/, 'expected a secret ARN')).default({}),
  /** Lambdas in a VPC (to reach RDS): existing subnets and security groups. */
  vpc: z
    .strictObject({
      vpc_id: z.string().regex(/^vpc-[0-9a-f]+$/),
      subnet_ids: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).min(1),
      security_group_ids: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).min(1),
    })
    .optional(),
  planner: FunctionSettingsSchema.default({}),
  worker: FunctionSettingsSchema.default({}),
  finalizer: FunctionSettingsSchema.default({}),
  /** First retry delay of a failed chunk (seconds); later ones double, with full jitter. */
  retry_interval_s: z.number().int().min(1).max(3600).default(5),
  /** SNS topic the failed-execution alarm notifies (optional). */
  alarm_topic_arn: z.string().startsWith('arn:').optional(),
  log_retention_days: z.number().int().positive().default(30),
  /** Per-export deploy settings (schedules); every export of the config is deployed either way. */
  exports: z.record(z.string(), ExportDeploySchema).default({}),
});
export type DeployConfig = z.infer<typeof DeployConfigSchema>;

export interface DeployPlan {
  deploy: DeployConfig;
  /** Absolute path of rivet.deploy.yaml. */
  deployPath: string;
  rivet: LoadedConfig;
}

/**
 * Every `${NAME}` resolves to itself: the stack needs the config's structure, not its
 * secrets, and the machine running `cdk synth` has none of them.
 */
const STRUCTURE_ONLY_ENV = new Proxy({} as NodeJS.ProcessEnv, {
  get: (_t, name) => (typeof name === 'string' ? `\${${name}}` : undefined),
  has: () => true,
});

export async function loadDeployPlan(deployPath: string): Promise<DeployPlan> {
  const abs = path.resolve(deployPath);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch {
    throw new RivetError('CONFIG_NOT_FOUND', `deploy file not found: ${deployPath}`, {
      hint: 'create rivet.deploy.yaml next to rivet.yaml (see docs/aws.md), or pass -c deploy=<path> to cdk',
    });
  }
  const parsed = DeployConfigSchema.safeParse(parse(text) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RivetError('CONFIG_INVALID', `invalid deploy file ${deployPath}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      hint: 'see docs/aws.md for the keys of rivet.deploy.yaml',
    });
  }
  const deploy = parsed.data;
  const rivet = await loadConfig(path.resolve(path.dirname(abs), deploy.config), { env: STRUCTURE_ONLY_ENV, log: silentLogger });
  for (const name of Object.keys(deploy.exports)) {
    if (!rivet.config.exports.some((e) => e.name === name)) {
      throw new RivetError('CONFIG_INVALID', `invalid deploy file ${deployPath}: exports.${name} is not an export of ${deploy.config}`, {
        hint: `exports in the config: ${rivet.config.exports.map((e) => e.name).join(', ')}`,
      });
    }
  }
  return { deploy, deployPath: abs, rivet };
}
