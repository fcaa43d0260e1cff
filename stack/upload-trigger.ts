/**
 * Uploads processed on their own: an object created or removed under the input prefix -> S3 event
 * notification -> SQS queue -> detect-faces (event source mapping, `ReportBatchItemFailures`).
 * A message that keeps failing unexpectedly moves to a dead-letter queue after
 * `uploadMaxReceiveCount` receives; typed failures never come back (the function records them
 * and acknowledges the message). Only S3, for this bucket in this account, may send to the queue.
 */
import type { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import type { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { SqsQueueRedriveAllowPolicy } from '@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import type { StackConfig } from './config';
import { policyDocument } from './policy';
import { deadLetterQueue } from './queues';

/** The stack settings the upload trigger is built from. */
export const UPLOAD_TRIGGER_SETTINGS = [
  'stackName', 'inputPrefix', 'detectTimeoutSeconds', 'uploadBatchSize', 'uploadMaxConcurrency', 'uploadMaxReceiveCount',
] as const satisfies readonly (keyof StackConfig)[];
export type UploadTriggerSettings = Pick<StackConfig, (typeof UPLOAD_TRIGGER_SETTINGS)[number]>;

export interface UploadTriggerProps {
  readonly settings: UploadTriggerSettings;
  readonly bucketId: string;
  readonly bucketArn: string;
  /** The deploying account's id (the stack looks it up once). */
  readonly accountId: string;
}

/** AWS's guidance for Lambda on SQS: a visibility timeout of at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export class UploadTrigger extends Construct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly queuePolicy: SqsQueuePolicy;
  readonly notification: S3BucketNotification;
  mapping?: LambdaEventSourceMapping;

  constructor(scope: Construct, id: string, private readonly props: UploadTriggerProps) {
    super(scope, id);
    const { settings: config } = props;
    const name = `${config.stackName}-uploads`;

    this.deadLetterQueue = deadLetterQueue(this, 'dead-letters', `${name}-dead-letters`);

    this.queue = new SqsQueue(this, 'queue', {
      name,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * config.detectTimeoutSeconds,
      messageRetentionSeconds: 4 * 86400,
      sqsManagedSseEnabled: true,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: config.uploadMaxReceiveCount }),
    });

    // The dead-letter queue serves this queue only.
    new SqsQueueRedriveAllowPolicy(this, 'dead-letters-allow', {
      queueUrl: this.deadLetterQueue.url,
      redriveAllowPolicy: Fn.jsonencode({ redrivePermission: 'byQueue', sourceQueueArns: [this.queue.arn] }),
    });

    const document = policyDocument(this, 'queue-policy-document', [
      {
        sid: 'S3NotificationsFromThisBucketOnly',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.arn],
        principals: [{ type: 'Service', identifiers: ['s3.amazonaws.com'] }],
        conditions: [
          { test: 'ArnEquals', variable: 'aws:SourceArn', values: [props.bucketArn] },
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
        ],
      },
      {
        sid: 'DenyInsecureTransport',
        effect: 'Deny',
        actions: ['sqs:*'],
        resources: [this.queue.arn],
        principals: [{ type: '*', identifiers: ['*'] }],
        conditions: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      },
    ]);
    this.queuePolicy = new SqsQueuePolicy(this, 'queue-policy', { queueUrl: this.queue.url, policy: document.json });

    this.notification = new S3BucketNotification(this, 'notification', {
      bucket: props.bucketId,
      // Removals too: a deleted upload's output and record go with it (in version order, uploads/batch.ts).
      queue: [{ id: 'uploads', queueArn: this.queue.arn, events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'], filterPrefix: config.inputPrefix }],
      // S3 checks, when the configuration is put, that it may send to the queue.
      dependsOn: [this.queuePolicy],
    });
  }

  /** Connects the queue to the function, once the function's role may receive from it. */
  deliverTo(fn: LambdaFunction, rolePolicy: IamRolePolicy): LambdaEventSourceMapping {
    const { settings: config } = this.props;
    this.mapping = new LambdaEventSourceMapping(this, 'mapping', {
      eventSourceArn: this.queue.arn,
      functionName: fn.arn,
      batchSize: config.uploadBatchSize,
      functionResponseTypes: ['ReportBatchItemFailures'],
      scalingConfig: { maximumConcurrency: config.uploadMaxConcurrency },
      // Lambda checks the role's SQS permissions when the mapping is created.
      dependsOn: [rolePolicy],
    });
    return this.mapping;
  }
}
