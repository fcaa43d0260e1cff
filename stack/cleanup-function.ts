/**
 * cleanup: deletes old marked images, run by EventBridge Scheduler. Its role may list only under
 * the image prefix and delete only there; the scheduler's role may invoke only this function.
 */
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Construct } from 'constructs';
import { CLEANUP_ENV } from '../functions/cleanup/contract';
import { toEnvironment } from '../functions/common/schema';
import { FUNCTION_BUNDLES } from '../bundling/functions';
import type { StackConfig } from './config';
import { NodejsFunction, type FunctionConstructProps } from './nodejs-function';
import { assumeRolePolicy, policyDocument } from './policy';
import { deadLetterQueue } from './queues';

/** The stack settings cleanup and its schedule are built from. */
export const CLEANUP_FUNCTION_SETTINGS = [
  'stackName', 'architecture', 'cleanupMemoryMb', 'cleanupTimeoutSeconds', 'logRetentionDays', 'logLevel',
  'imagePrefix', 'cleanupMaxAgeSeconds', 'cleanupSchedule',
] as const satisfies readonly (keyof StackConfig)[];
export type CleanupFunctionSettings = Pick<StackConfig, (typeof CLEANUP_FUNCTION_SETTINGS)[number]>;

export interface CleanupFunctionProps extends FunctionConstructProps<CleanupFunctionSettings> {
  /** The deploying account's id (the stack looks it up once). */
  readonly accountId: string;
}

export class CleanupFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly schedule: SchedulerSchedule;
  readonly schedulerRole: IamRole;
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, props: CleanupFunctionProps) {
    super(scope, id);
    const { settings: config } = props;
    const name = `${config.stackName}-cleanup`;

    this.fn = new NodejsFunction(this, 'cleanup', {
      functionName: name,
      description: `Deletes marked images under ${config.imagePrefix} older than ${config.cleanupMaxAgeSeconds} s`,
      bundle: FUNCTION_BUNDLES.cleanup,
      architecture: config.architecture,
      prebuiltZip: props.prebuiltZip,
      memoryMb: config.cleanupMemoryMb,
      timeoutSeconds: config.cleanupTimeoutSeconds,
      logRetentionDays: config.logRetentionDays,
      logLevel: config.logLevel,
      statements: [
        {
          sid: 'ListOnlyMarkedImages',
          actions: ['s3:ListBucket'],
          resources: [props.bucketArn],
          conditions: [{ test: 'StringLike', variable: 's3:prefix', values: [`${config.imagePrefix}*`] }],
        },
        { sid: 'DeleteOnlyMarkedImages', actions: ['s3:DeleteObject'], resources: [`${props.bucketArn}/${config.imagePrefix}*`] },
      ],
      environment: cleanupEnvironment(config, props.bucketName),
    });

    this.deadLetterQueue = deadLetterQueue(this, 'dead-letters', `${name}-dead-letters`);

    this.schedulerRole = new IamRole(this, 'scheduler-role', {
      name: `${name}-scheduler-role`,
      assumeRolePolicy: assumeRolePolicy(this, 'scheduler-trust', 'scheduler.amazonaws.com', props.accountId).json,
    });
    const schedulerPermissions = policyDocument(this, 'scheduler-permissions', [
      { sid: 'InvokeCleanupOnly', actions: ['lambda:InvokeFunction'], resources: [this.fn.function.arn] },
      { sid: 'ReportFailedInvocations', actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.arn] },
    ]);
    new IamRolePolicy(this, 'scheduler-policy', {
      name: `${name}-scheduler-policy`,
      role: this.schedulerRole.id,
      policy: schedulerPermissions.json,
    });

    this.schedule = new SchedulerSchedule(this, 'schedule', {
      name: `${name}-schedule`,
      description: `Runs ${name} ${config.cleanupSchedule}`,
      scheduleExpression: config.cleanupSchedule,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.fn.function.arn,
        roleArn: this.schedulerRole.arn,
        input: '{}',
        retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 3 },
        deadLetterConfig: { arn: this.deadLetterQueue.arn },
      },
    });
  }
}

/** The environment cleanup runs with, written by its contract; the local runner uses the same. */
export function cleanupEnvironment(config: CleanupFunctionSettings, bucketName: string): Record<string, string> {
  return toEnvironment(CLEANUP_ENV, { bucket: bucketName, prefix: config.imagePrefix, maxAgeSeconds: config.cleanupMaxAgeSeconds, dryRun: false });
}
