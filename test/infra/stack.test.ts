import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { synthRivet } from './synth.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { loadDeployPlan } from '../../infra/lib/deploy-config.js';

/** Template tests of the example deployment (infra/example/), cdk-nag AwsSolutions included. */
const EXAMPLE = path.join(REPO_ROOT, 'infra/example/rivet.deploy.yaml');

type Json = Record<string, unknown>;

/** asl-validator ships no types; its export is the validate function. */
const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => { isValid: boolean; errorsText(separator?: string): string };

function stateMachineDefinition(template: Template, namePart: string): Json {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [, sm] = Object.entries(machines).find(([id]) => id.startsWith(namePart))!;
  const body = (sm as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString;
  // The definition is an Fn::Join of strings and tokens: joined with placeholders it is valid JSON.
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as Json;
}

describe('the CDK stack (infra/example)', () => {
  let template: Template;
  beforeAll(async () => {
    ({ template } = await synthRivet(EXAMPLE));
  });

  it('has one Standard state machine per export: Plan → Distributed Map (ItemReader, MaxConcurrency = parallel) → Finalize', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    const def = stateMachineDefinition(template, 'orders') as { StartAt: string; States: Record<string, Json> };
    expect(def.StartAt).toBe('Plan');
    const map = def.States.Chunks as Json & { ItemProcessor: { ProcessorConfig: Json; States: Record<string, Json> }; ItemReader: Json };
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ItemReader).toMatchObject({ Resource: 'arn:TOKEN:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Key.$': '$.plan.taskList.key' } });
    expect(map.MaxConcurrency).toBe(8); // orders: parallel: 8
    expect(map.ResultPath).toBeNull();
    // Children's summaries go to the work bucket, not into the 256 KB execution state.
    expect(map.ResultWriter).toMatchObject({ Resource: 'arn:TOKEN:states:::s3:putObject', Parameters: { Prefix: 'map-results' } });
    expect(map.ItemSelector).toEqual({ v: 1, 'task.$': '$$.Map.Item.Value' });
    expect(map.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FinalizeFailed' }]);
    expect((def.States.Plan as Json).Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FinalizeUnplanned' }]);
    expect((def.States.FinalizeFailed as Json).Next).toBe('Verdict');
    expect(def.States.RunFailed).toEqual({ Type: 'Fail', ErrorPath: '$.result.error.code', CausePath: '$.result.error.message' });

    // customers is a full export: one task at a time.
    const customers = stateMachineDefinition(template, 'customers') as { States: Record<string, Json> };
    expect((customers.States.Chunks as Json).MaxConcurrency).toBe(1);
  });

  it('emits definitions asl-validator accepts', () => {
    for (const name of ['orders', 'customers']) {
      // Tokens (ARNs, bucket names) stand in as plausible literals.
      const text = JSON.stringify(stateMachineDefinition(template, name)).replace(/arn:TOKEN:states/g, 'arn:aws:states').replace(/"TOKEN"/g, '"arn:aws:lambda:eu-west-1:123456789012:function:f"');
      const result = validateAsl(JSON.parse(text));
      expect(result.isValid, result.errorsText()).toBe(true);
    }
  });

  it('retries a chunk with full jitter, chunk_max_attempts in all, on retryable errors only', () => {
    const def = stateMachineDefinition(template, 'orders') as { States: { Chunks: { ItemProcessor: { States: Record<string, Json> } } } };
    const chunk = def.States.Chunks.ItemProcessor.States.ExportChunk as { Retry: Json[] };
    expect(chunk.Retry).toEqual([
      expect.objectContaining({
        ErrorEquals: expect.arrayContaining(['Rivet.Retryable', 'Runtime.ExitError', 'Lambda.TooManyRequestsException']),
        JitterStrategy: 'FULL',
        MaxAttempts: 3, // chunk_max_attempts: 4 → 1 attempt + 3 retries
        BackoffRate: 2,
        IntervalSeconds: 5,
        MaxDelaySeconds: 300,
      }),
    ]);
    expect(JSON.stringify(chunk.Retry)).not.toContain('Rivet.SOURCE');
  });

  it('keeps state in an on-demand DynamoDB table with PITR, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('has an encrypted, private, TLS-only work bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('bundles three Node.js 22 functions with the config and the secrets map', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { Runtime: string; Environment: { Variables: Record<string, unknown> }; Timeout: number } }[];
    for (const f of fns) {
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(f.Properties.Environment.Variables.RIVET_CONFIG).toBe('/var/task/config/rivet.yaml');
    }
    const secretsOf = fns.map((f) => f.Properties.Environment.Variables.RIVET_SECRETS ?? null);
    // Every function reads the source secret: the finalizer counts the source rows for --reconcile.
    expect(secretsOf.filter((s) => typeof s === 'string' && s.includes('DATABASE_URL'))).toHaveLength(3);
    expect(fns.filter((f) => 'RIVET_STAND_IN_ENV' in f.Properties.Environment.Variables)).toHaveLength(0);
  });

  it('schedules only the export that asks for it, with the scheduled time as run instant', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      Target: Match.objectLike({ Input: JSON.stringify({ v: 1, export: 'orders', params: {}, requestedAt: '<aws.scheduler.scheduled-time>' }) }),
    });
  });

  it('alarms on failed, timed-out or aborted executions of each export', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
    });
  });

  it('scopes IAM: the mapped secrets only, destination grants to the export prefix, no s3:* anywhere', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).map(([id, p]) => [id, JSON.stringify(p)] as const);
    const secretReaders = policies.filter(([, p]) => p.includes('secretsmanager:GetSecretValue')).map(([id]) => id);
    // The finalizer too: --reconcile counts the source after the commit.
    expect(secretReaders.sort()).toEqual([expect.stringMatching(/^Finalizer/), expect.stringMatching(/^Planner/), expect.stringMatching(/^Worker/)]);
    for (const [, p] of policies) {
      expect(p).not.toMatch(/"s3:\*"|"Action":"\*"/);
    }
    const worker = policies.find(([id]) => id.startsWith('Worker'))![1];
    expect(worker).toContain('arn:aws:s3:::example-lake/raw/orders/*');
    expect(worker).not.toContain('s3:DeleteObject","Effect":"Allow","Resource":"arn:aws:s3:::example-lake');
    const finalizer = policies.find(([id]) => id.startsWith('Finalizer'))![1];
    expect(finalizer).toContain('s3:DeleteObject');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('passes for the example and for a VPC deployment (synth throws on an unacknowledged error)', async () => {
    await expect(synthRivet(EXAMPLE)).resolves.toBeDefined();
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-deploy-'));
    copyFileSync(path.join(REPO_ROOT, 'infra/example/rivet.yaml'), path.join(dir, 'rivet.yaml'));
    writeFileSync(
      path.join(dir, 'rivet.deploy.yaml'),
      'vpc: { vpc_id: vpc-0abc, subnet_ids: [subnet-0a, subnet-0b], security_group_ids: [sg-0123456789abcdef0] }\nexports: { customers: { schedule: "rate(1 hour)" } }\n',
    );
    const { template } = await synthRivet(path.join(dir, 'rivet.deploy.yaml'));
    template.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: ['subnet-0a', 'subnet-0b'], SecurityGroupIds: ['sg-0123456789abcdef0'] } });
  });

  it('fails when a wildcard grant is added without a justification', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-deploy-'));
    // A second destination bucket whose prefix nobody acknowledged would be fine (acknowledged per prefix);
    // a grant added outside the stack's own rules is not: prove the check can fail.
    copyFileSync(path.join(REPO_ROOT, 'infra/example/rivet.yaml'), path.join(dir, 'rivet.yaml'));
    writeFileSync(path.join(dir, 'rivet.deploy.yaml'), '{}\n');
    const { App, Validations } = await import('aws-cdk-lib');
    const { AwsSolutionsChecks } = await import('cdk-nag');
    const { RivetStack } = await import('../../infra/lib/rivet-stack.js');
    const { PolicyStatement } = await import('aws-cdk-lib/aws-iam');
    const plan = await loadDeployPlan(path.join(dir, 'rivet.deploy.yaml'));
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new RivetStack(app, 'Rivet', { plan, repoRoot: REPO_ROOT });
    const worker = stack.node.findChild('Worker') as import('aws-cdk-lib/aws-lambda').Function;
    worker.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::other-bucket/*'] }));
    expect(() => app.synth()).toThrow(/Validation failed|AwsSolutions-IAM5/);
  });
});

describe('rivet.deploy.yaml', () => {
  it('refuses unknown keys and exports the config does not have', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-deploy-'));
    copyFileSync(path.join(REPO_ROOT, 'infra/example/rivet.yaml'), path.join(dir, 'rivet.yaml'));
    writeFileSync(path.join(dir, 'a.yaml'), 'workers: {}\n');
    await expect(loadDeployPlan(path.join(dir, 'a.yaml'))).rejects.toThrow(/invalid deploy file .*a\.yaml/);
    writeFileSync(path.join(dir, 'b.yaml'), 'exports: { invoices: { schedule: "rate(1 day)" } }\n');
    await expect(loadDeployPlan(path.join(dir, 'b.yaml'))).rejects.toThrow(/exports\.invoices is not an export/);
  });
});
