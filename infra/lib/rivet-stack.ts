import path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, TimeZone, Token, Validations, type CfnElement, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Effect, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput, ContextAttribute } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  ResultWriterV2,
  S3JsonItemReader,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { ExportConfig } from '../../shared/config/schema.js';
import { RETRYABLE_ERROR } from '../../shared/errors/rivet-error.js';
import { runLimitsOfConfig } from '../../shared/run/run-limits.js';
import type { DeployPlan } from './deploy-config.js';
import { machineId, stateMachineName } from '../../functions/state-machine-name.js';
import { CONFIG_DIR_IN_BUNDLE, functionsCode } from './functions-code.js';

export interface RivetStackProps extends StackProps {
  plan: DeployPlan;
  /** Repository root: functions/*.ts, package-lock.json and node_modules live here. */
  repoRoot: string;
}

/**
 * Error names a chunk is retried on: what rivet calls retryable (its own deadline stop, a
 * transient source error — never a task that published a part), Lambda's service hiccups,
 * and a worker process that died mid-task (`Runtime.ExitError`: killed, out of memory). A
 * dead worker published nothing unless it got past its part's commit, and part keys are
 * create-only, so its retry either writes the part afresh or fails on the existing key —
 * it can neither duplicate rows nor replace a part.
 */
export const WORKER_RETRY_ERRORS = [
  RETRYABLE_ERROR,
  'Runtime.ExitError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

const WORKER_TIMEOUT_S = 900;
const MAX_RETRY_DELAY_S = 300;


/**
 * One stack: the state table, the work bucket, three functions shared by every export, and
 * per export a Standard state machine (planner → Distributed Map of workers → finalizer), an
 * alarm on failed executions and, if asked for, an EventBridge Scheduler schedule.
 */
export class RivetStack extends Stack {
  readonly stateMachines: Record<string, StateMachine> = {};

  constructor(scope: Construct, id: string, props: RivetStackProps) {
    super(scope, id, props);
    // ResultWriter V2 renders the Map's ResultWriter for JSONPath state machines (set before any child exists).
    this.node.setContext('@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2', true);
    const { deploy, rivet } = props.plan;
    const retention = retentionDays(deploy.log_retention_days);

    const table = new Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      // Cursors and chunk checkpoints outlive any deployment.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const workBucket = new Bucket(this, 'WorkBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Task lists, failure notes and Map results matter for a run's lifetime only.
      lifecycleRules: [{ expiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(workBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The work bucket holds only task lists (SQL text, no rows, no credentials) and failure notes, each expiring after 30 days; Step Functions execution history already records every access.',
    });

    // Source credentials go to every function: the finalizer counts the source for `--reconcile`, as a local run does after its commit.
    const secrets = Object.entries(deploy.secrets).map(([envName, ref]) => {
      const arn = ref.split('#')[0];
      // A complete ARN ends in the 6-character suffix Secrets Manager appends; a partial one is granted with a wildcard suffix.
      const secret = /-[A-Za-z0-9]{6}$/.test(arn) ? Secret.fromSecretCompleteArn(this, `Secret${envName}`, arn) : Secret.fromSecretPartialArn(this, `Secret${envName}`, arn);
      return { envName, ref, secret };
    });

    const vpcProps = deploy.vpc
      ? {
          vpc: Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: deploy.vpc.vpc_id, availabilityZones: deploy.vpc.subnet_ids.map((_, i) => `${this.region}-${i}`) }),
          vpcSubnets: { subnets: deploy.vpc.subnet_ids.map((s, i) => Subnet.fromSubnetId(this, `Subnet${i}`, s)) },
          securityGroups: deploy.vpc.security_group_ids.map((s, i) => SecurityGroup.fromSecurityGroupId(this, `Sg${i}`, s, { mutable: false })),
        }
      : {};

    const code = functionsCode(props.repoRoot, rivet);
    // The run lease is renewed by each worker as its task starts and checked by the finalizer,
    // so it must outlast one worker invocation plus the longest retry delay (5 min) between
    // two renewals; 5 more minutes of slack. A crashed execution frees its export after that.
    const leaseTtlS = (deploy.worker.timeout_s ?? WORKER_TIMEOUT_S) + 2 * MAX_RETRY_DELAY_S;
    const makeFn = (role: 'planner' | 'worker' | 'finalizer', defaults: { memory: number; timeout: number }) => {
      const settings = deploy[role];
      const fnSecrets = secrets;
      const fn = new LambdaFunction(this, cap(role), {
        code,
        handler: `${role}.handler`,
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: settings.memory_mb ?? defaults.memory,
        timeout: Duration.seconds(settings.timeout_s ?? defaults.timeout),
        tracing: Tracing.ACTIVE,
        logGroup: new LogGroup(this, `${cap(role)}Logs`, { retention, removalPolicy: RemovalPolicy.DESTROY }),
        environment: {
          RIVET_CONFIG: `/var/task/${CONFIG_DIR_IN_BUNDLE}/${path.basename(rivet.path)}`,
          RIVET_WORK_BUCKET: workBucket.bucketName,
          RIVET_STATE_TABLE: table.tableName,
          RIVET_LOG: 'info',
          RIVET_LEASE_TTL_S: String(leaseTtlS),
          ...(fnSecrets.length ? { RIVET_SECRETS: JSON.stringify(Object.fromEntries(fnSecrets.map((s) => [s.envName, s.ref]))) } : {}),
        },
        ...vpcProps,
      });
      for (const s of fnSecrets) s.secret.grantRead(fn);
      table.grantReadWriteData(fn);
      return fn;
    };
    const planner = makeFn('planner', { memory: 1024, timeout: 300 });
    const worker = makeFn('worker', { memory: 2048, timeout: WORKER_TIMEOUT_S });
    const finalizer = makeFn('finalizer', { memory: 1024, timeout: 300 });

    const work = (fn: LambdaFunction, actions: string[], keys: string) =>
      fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources: [workBucket.arnForObjects(keys)] }));
    work(planner, ['s3:PutObject'], 'runs/*/tasks.json');
    work(worker, ['s3:PutObject', 's3:DeleteObject'], 'runs/*/errors/*');
    work(finalizer, ['s3:GetObject'], 'runs/*/errors/*');
    finalizer.addToRolePolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['s3:ListBucket'], resources: [workBucket.bucketArn], conditions: { StringLike: { 's3:prefix': ['runs/*'] } } }),
    );

    // The exports' destinations: each function gets only what its phase does, on the export's prefix only.
    for (const exp of rivet.config.exports) {
      const d = exp.destination;
      if (d.type !== 's3' || !d.bucket) continue;
      const prefix = staticPrefix(d.prefix ?? '');
      grantPrefix(planner, d.bucket, prefix, ['s3:GetObject', 's3:PutObject']);
      grantPrefix(worker, d.bucket, prefix, ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload']);
      grantPrefix(finalizer, d.bucket, prefix, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
    }

    const alarmTopic = deploy.alarm_topic_arn ? Topic.fromTopicArn(this, 'AlarmTopic', deploy.alarm_topic_arn) : undefined;
    for (const exp of rivet.config.exports) {
      const mid = machineId(exp.name);
      // Attempts per chunk and Map concurrency: the numbers a local run of this export uses (shared/run/run-limits.ts).
      const limits = runLimitsOfConfig(rivet.config.source, exp);
      const sm = this.exportStateMachine(mid, exp, { planner, worker, finalizer, workBucket, retention, attempts: limits.taskAttempts, concurrency: limits.concurrency, retryInterval: deploy.retry_interval_s });
      this.stateMachines[exp.name] = sm;

      const failed = new MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: { failed: sm.metricFailed(), timedOut: sm.metricTimedOut(), aborted: sm.metricAborted() },
        period: Duration.minutes(5),
        label: `${exp.name}: failed, timed-out or aborted executions`,
      });
      const alarm = new Alarm(this, `${mid}FailedAlarm`, {
        alarmDescription: `rivet export '${exp.name}': an execution failed (its manifest says why; no _SUCCESS was written)`,
        metric: failed,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      if (alarmTopic) alarm.addAlarmAction(new SnsAction(alarmTopic));

      const sched = deploy.exports[exp.name];
      if (sched?.schedule) {
        new Schedule(this, `${mid}Schedule`, {
          description: `rivet export '${exp.name}'`,
          schedule: ScheduleExpression.expression(sched.schedule, TimeZone.of(sched.timezone)),
          target: new StepFunctionsStartExecution(sm, {
            // The scheduled time fixes the run id: a retried delivery of the same slot is refused, not run twice.
            input: ScheduleTargetInput.fromObject({ v: 1, export: exp.name, params: sched.params, requestedAt: ContextAttribute.scheduledTime }),
            retryAttempts: 2,
          }),
        });
      }
      new CfnOutput(this, `${mid}StateMachineArn`, { value: sm.stateMachineArn, description: `state machine of export '${exp.name}'` });
    }
    new CfnOutput(this, 'WorkBucketName', { value: workBucket.bucketName });
    new CfnOutput(this, 'StateTableName', { value: table.tableName });
    this.acknowledgeFindings({ planner, worker, finalizer, workBucket, destinations: rivet.config.exports });
  }

  private exportStateMachine(
    mid: string,
    exp: ExportConfig,
    x: { planner: LambdaFunction; worker: LambdaFunction; finalizer: LambdaFunction; workBucket: Bucket; retention: RetentionDays; attempts: number; concurrency: number; retryInterval: number },
  ): StateMachine {
    const id = (s: string) => `${mid}${s}`;
    const plan = new LambdaInvoke(this, id('Plan'), {
      stateName: 'Plan',
      lambdaFunction: x.planner,
      payloadResponseOnly: true,
      // No payload: the state input itself is the event (`Parameters: "$"` would be invalid ASL).
      resultPath: '$.plan',
      retryOnServiceExceptions: true,
    });

    const work = new LambdaInvoke(this, id('ExportChunk'), {
      stateName: 'ExportChunk',
      lambdaFunction: x.worker,
      payloadResponseOnly: true,
      // No payload: the state input itself is the event (`Parameters: "$"` would be invalid ASL).
      retryOnServiceExceptions: false,
    });
    if (x.attempts > 1) {
      work.addRetry({
        errors: WORKER_RETRY_ERRORS,
        interval: Duration.seconds(x.retryInterval),
        backoffRate: 2,
        maxAttempts: x.attempts - 1,
        maxDelay: Duration.seconds(MAX_RETRY_DELAY_S),
        jitterStrategy: JitterType.FULL,
      });
    }

    const map = new DistributedMap(this, id('Chunks'), {
      stateName: 'Chunks',
      label: 'Chunks',
      maxConcurrency: x.concurrency,
      itemReader: new S3JsonItemReader({ bucket: x.workBucket, key: JsonPath.stringAt('$.plan.taskList.key') }),
      itemSelector: { v: 1, task: JsonPath.stringAt('$$.Map.Item.Value') },
      // Receipts are read from the destination by the finalizer, never from the Map's output. The
      // children's summaries go to the work bucket, so thousands of chunks cannot overflow the
      // 256 KB state limit.
      resultPath: JsonPath.DISCARD,
      resultWriterV2: new ResultWriterV2({ bucket: x.workBucket, prefix: 'map-results' }),
      toleratedFailurePercentage: 0,
      // Standard children: a chunk may run up to the worker's 15 min limit, beyond Express's 5 min.
      mapExecutionType: StateMachineType.STANDARD,
    });
    map.itemProcessor(work);

    const finalize = new LambdaInvoke(this, id('Finalize'), {
      stateName: 'Finalize',
      lambdaFunction: x.finalizer,
      payloadResponseOnly: true,
      // The post-run checks the execution input asked for (`rivet cloud run --validate/--reconcile`), as the planner passed them on.
      payload: TaskInput.fromObject({ v: 1, header: JsonPath.objectAt('$.plan.header'), checks: JsonPath.objectAt('$.plan.checks') }),
      resultPath: '$.result',
      retryOnServiceExceptions: true,
    });
    const finalizeFailed = new LambdaInvoke(this, id('FinalizeFailed'), {
      stateName: 'FinalizeFailed',
      lambdaFunction: x.finalizer,
      payloadResponseOnly: true,
      payload: TaskInput.fromObject({ v: 1, header: JsonPath.objectAt('$.plan.header'), error: JsonPath.objectAt('$.error') }),
      resultPath: '$.result',
      retryOnServiceExceptions: true,
    });
    const finalizeUnplanned = new LambdaInvoke(this, id('FinalizeUnplanned'), {
      stateName: 'FinalizeUnplanned',
      lambdaFunction: x.finalizer,
      payloadResponseOnly: true,
      payload: TaskInput.fromObject({ v: 1, request: JsonPath.objectAt('$'), error: JsonPath.objectAt('$.error') }),
      resultPath: '$.result',
      retryOnServiceExceptions: true,
    });

    const verdict = new Choice(this, id('Verdict'), { stateName: 'Verdict' })
      .when(
        Condition.stringEquals('$.result.status', 'failed'),
        new Fail(this, id('RunFailed'), { stateName: 'RunFailed', errorPath: '$.result.error.code', causePath: '$.result.error.message' }),
      )
      .otherwise(new Succeed(this, id('Done'), { stateName: 'Done', outputPath: '$.result' }));

    plan.addCatch(finalizeUnplanned, { errors: ['States.ALL'], resultPath: '$.error' });
    map.addCatch(finalizeFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    finalizeUnplanned.next(verdict);
    finalizeFailed.next(verdict);

    const sm = new StateMachine(this, id('StateMachine'), {
      stateMachineName: stateMachineName(this.stackName, exp.name),
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(plan.next(map).next(finalize).next(verdict)),
      tracingEnabled: true,
      logs: { destination: new LogGroup(this, id('ExecLogs'), { retention: x.retention, removalPolicy: RemovalPolicy.DESTROY }), level: LogLevel.ALL, includeExecutionData: false },
    });
    return sm;
  }

  /**
   * cdk-nag findings that are by design, each acknowledged on the resource it concerns with
   * its reason. IAM5 findings are acknowledged one by one (cdk-nag matches exact finding ids),
   * so a new wildcard still fails the check until someone justifies it here.
   */
  private acknowledgeFindings(x: { planner: LambdaFunction; worker: LambdaFunction; finalizer: LambdaFunction; workBucket: Bucket; destinations: ExportConfig[] }): void {
    const ack = (scope: Construct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
    const logical = (c: Construct) => this.getLogicalId(c.node.defaultChild as CfnElement);
    const bucketId = logical(x.workBucket);
    const XRAY = 'X-Ray tracing: xray:PutTraceSegments/PutTelemetryRecords only exist on "*".';
    const prefixes = [...new Set(x.destinations.filter((e) => e.destination.type === 's3' && e.destination.bucket).map((e) => `arn:aws:s3:::${e.destination.bucket}/${staticPrefix(e.destination.prefix ?? '')}*`))];
    const roles: [LambdaFunction, string[]][] = [
      [x.planner, [`Resource::<${bucketId}.Arn>/runs/*/tasks.json`]],
      [x.worker, [`Resource::<${bucketId}.Arn>/runs/*/errors/*`]],
      [x.finalizer, [`Resource::<${bucketId}.Arn>/runs/*/errors/*`]],
    ];
    for (const [fn, keys] of roles) {
      ack(fn, 'AwsSolutions-L1', 'Node.js 22 is the runtime rivet is built and tested for (esbuild target node22); move when the test matrix covers a newer one.');
      ack(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'The minimal AWS-managed policy for a function to write its own logs.');
      if (this.node.tryFindChild('Vpc')) {
        ack(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]', 'The minimal AWS-managed policy for a function to attach to the VPC given in rivet.deploy.yaml.');
      }
      ack(fn, 'AwsSolutions-IAM5[Resource::*]', XRAY);
      for (const k of keys) ack(fn, `AwsSolutions-IAM5[${k}]`, 'Object keys of this run only exist at run time (runs/<run_id>/…); the grant is limited to that key pattern in the work bucket.');
      for (const p of prefixes) ack(fn, `AwsSolutions-IAM5[Resource::${p}]`, "Parts, receipts and manifests are keys under the export's prefix; the grant is limited to that prefix.");
    }
    const region = Token.isUnresolved(this.region) ? '<AWS::Region>' : this.region;
    const account = Token.isUnresolved(this.account) ? '<AWS::AccountId>' : this.account;
    for (const sm of Object.values(this.stateMachines)) {
      const smId = logical(sm);
      for (const fn of [x.planner, x.worker, x.finalizer]) {
        ack(sm, `AwsSolutions-IAM5[Resource::<${logical(fn)}.Arn>:*]`, 'Invoking a function includes its versions (arn:…:function:name:*); only our three functions are named.');
      }
      ack(sm, 'AwsSolutions-IAM5[Resource::*]', `${XRAY} Step Functions log delivery (logs:CreateLogDelivery …) is also granted on "*" only.`);
      ack(sm, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<${bucketId}>/*]`, "The Map's ItemReader reads the task list of the run, whose key exists only at run time, from the work bucket only.");
      const exec = `arn:<AWS::Partition>:states:${region}:${account}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${smId}"}]}]}`;
      for (const suffix of [':*', '/Chunks:*']) {
        ack(sm, `AwsSolutions-IAM5[Resource::${exec}${suffix}]`, 'A Distributed Map describes and stops the child executions of its own state machine only.');
      }
    }
  }
}

/** The part of a destination prefix before its first `{placeholder}`: what IAM can pin down at deploy time. */
export function staticPrefix(prefix: string): string {
  const i = prefix.indexOf('{');
  const p = i >= 0 ? prefix.slice(0, i) : prefix;
  return p.replace(/^\/+/, '');
}

function grantPrefix(fn: IGrantable, bucket: string, prefix: string, actions: string[]): void {
  fn.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ effect: Effect.ALLOW, actions, resources: [`arn:aws:s3:::${bucket}/${prefix}*`] }),
  );
  fn.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['s3:ListBucket'],
      resources: [`arn:aws:s3:::${bucket}`],
      ...(prefix ? { conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } } : {}),
    }),
  );
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function retentionDays(days: number): RetentionDays {
  const allowed = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number' && v > 0).sort((a, b) => a - b);
  return allowed.find((v) => v >= days) ?? RetentionDays.TEN_YEARS;
}
