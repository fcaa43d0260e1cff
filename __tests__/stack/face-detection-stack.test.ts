import 'cdktf/lib/testing/adapters/jest';
/** Properties of every resource in the synthesized stack, and snapshots of its HCL and JSON. */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaLayerVersion } from '@cdktf/provider-aws/lib/lambda-layer-version';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureZips, only, synthStack, TEST_BUCKET } from '../helpers/stack-fixture';
import { CLEANUP_ENV } from '../../functions/cleanup/contract';
import { settingsFromEnv } from '../../functions/common/settings';
import { detectConfigFromEnv } from '../../functions/detect-faces/settings';
import { imageWorkMs, UPLOAD_DEFAULTS_ENV } from '../../functions/detect-faces/contract';
import { cleanupEnvironment } from '../../stack/cleanup-function';
import { detectEnvironment } from '../../stack/detect-function';
import { loadConfig } from '../../stack/config';

describe('storage', () => {
  const { json, parsed } = synthStack();

  test('bucket is encrypted, owner-enforced and expires marked images after a day', () => {
    expect(json).toHaveResourceWithProperties(S3Bucket, { bucket: TEST_BUCKET });
    expect(json).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: 'BucketOwnerEnforced' } });
    expect(json).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' }, bucket_key_enabled: true }],
    });
    expect(json).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [
        expect.objectContaining({ id: 'expire-marked-images', status: 'Enabled', filter: [{ prefix: 'tmp/' }], expiration: [{ days: 1 }] }),
        expect.objectContaining({ id: 'expire-inputs', status: 'Enabled', filter: [{ prefix: 'inputs/' }], expiration: [{ days: 14 }] }),
        expect.objectContaining({ id: 'expire-results', status: 'Enabled', filter: [{ prefix: 'results/' }], expiration: [{ days: 30 }] }),
        // Uploads' redacted images live as long as their records by default.
        expect.objectContaining({ id: 'expire-outputs', status: 'Enabled', filter: [{ prefix: 'outputs/' }], expiration: [{ days: 30 }] }),
      ],
    });
    const rules = (context: Record<string, unknown>) => only(synthStack(context).parsed, 'aws_s3_bucket_lifecycle_configuration').rule as { id: string; expiration: { days: number }[] }[];
    expect(rules({ resultLifecycleDays: 90 }).find((r) => r.id === 'expire-outputs')!.expiration).toEqual([{ days: 90 }]);
    expect(rules({ resultLifecycleDays: 90, outputLifecycleDays: 7 }).find((r) => r.id === 'expire-outputs')!.expiration).toEqual([{ days: 7 }]);
  });

  test('public mode: ACLs blocked, only the bucket policy may grant public reads', () => {
    expect(json).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      ignore_public_acls: true,
      block_public_policy: false,
      restrict_public_buckets: false,
    });
    const policy = only(parsed, 'aws_s3_bucket_policy');
    expect(policy.depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_public_access_block\./)]);
    expect(json).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
      statement: expect.arrayContaining([
        expect.objectContaining({ sid: 'PublicReadMarkedImages', actions: ['s3:GetObject'], resources: [expect.stringMatching(/\/tmp\/\*$/)] }),
      ]),
    });
  });

  test('presigned mode: everything public is blocked and no statement grants reads', () => {
    const presigned = synthStack({ outputAccess: 'presigned' });
    expect(presigned.json).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      ignore_public_acls: true,
      block_public_policy: true,
      restrict_public_buckets: true,
    });
    expect(presigned.json).not.toContain('PublicReadMarkedImages');
    expect(presigned.json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'face-detection-detect-faces',
      environment: { variables: expect.objectContaining({ OUTPUT_ACCESS: 'presigned', PRESIGN_EXPIRES_SECONDS: '3600' }) },
    });
  });

  test('without a bucket name Terraform picks a unique one from the prefix', () => {
    const { parsed: p } = synthStack({ bucketName: undefined });
    expect(only(p, 'aws_s3_bucket')).toEqual({ bucket_prefix: 'face-detection-' });
  });

  test('bucket policy is attached', () => {
    expect(json).toHaveResource(S3BucketPolicy);
  });
});

describe('layer', () => {
  test('small zips upload directly, with runtimes, architectures and the zip hash', () => {
    const { json, parsed } = synthStack();
    expect(json).toHaveResourceWithProperties(LambdaLayerVersion, {
      layer_name: 'face-detection-opencv',
      compatible_runtimes: ['nodejs24.x'],
      compatible_architectures: ['x86_64'],
      filename: expect.stringMatching(/^assets\/.*\/opencv-layer-x86_64\.zip$/),
      source_code_hash: expect.stringMatching(/^\$\{filebase64sha256\("assets\/.*opencv-layer-x86_64\.zip"\)\}$/),
    });
    expect(json).not.toHaveResource(S3Object);
    expect(only(parsed, 'aws_lambda_layer_version').s3_key).toBeUndefined();
  });

  test('zips over the threshold go through an S3 object', () => {
    const { json, parsed } = synthStack({ layerS3ThresholdBytes: 10 });
    expect(json).toHaveResourceWithProperties(S3Object, { key: 'artifacts/layers/face-detection-opencv.zip' });
    const layer = only(parsed, 'aws_lambda_layer_version');
    expect(layer.filename).toBeUndefined();
    expect(layer.s3_key).toMatch(/^\$\{aws_s3_object\./);
    expect(layer.s3_bucket).toMatch(/^\$\{aws_s3_object\./);
  });
});

describe('functions', () => {
  const { json, parsed } = synthStack();

  test.each([
    ['face-detection-detect-faces', 1769, 30],
    ['face-detection-cleanup', 256, 300],
  ])('%s: nodejs24.x on x86_64, bundled zip, memory %d MB, timeout %d s, own log group, JSON logs at INFO', (name, memory, timeout) => {
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: name,
      runtime: 'nodejs24.x',
      architectures: ['x86_64'],
      handler: 'index.handler',
      memory_size: memory,
      timeout,
      source_code_hash: expect.stringMatching(/^\$\{filebase64sha256\("assets\/.*\.zip"\)\}$/),
      logging_config: { log_format: 'JSON', application_log_level: 'INFO', log_group: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\./) },
    });
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: `/aws/lambda/${name}`, retention_in_days: 14 });
    expect(json).toHaveResourceWithProperties(IamRole, { name: `${name}-role` });
  });

  test('detect-faces carries the layer and its settings', () => {
    const detect = Object.values(parsed.resource.aws_lambda_function).find((f) => f.function_name === 'face-detection-detect-faces')!;
    expect(detect.layers).toEqual([expect.stringMatching(/^\$\{aws_lambda_layer_version\..*\.arn\}$/)]);
    expect(detect.environment.variables).toEqual({
      BUCKET_NAME: expect.stringMatching(/^\$\{aws_s3_bucket\./),
      IMAGE_PREFIX: 'tmp/',
      INPUT_PREFIX: 'inputs/',
      RESULT_PREFIX: 'results/',
      OUTPUT_PREFIX: 'outputs/',
      WRITE_TIMEOUT_MS: '5000',
      UPLOAD_QUEUE_URL: `\${aws_sqs_queue.${Object.entries(parsed.resource.aws_sqs_queue).find(([, q]) => q.name === 'face-detection-uploads')![0]}.url}`,
      DEAD_LETTER_QUEUE_URL: `\${aws_sqs_queue.${Object.entries(parsed.resource.aws_sqs_queue).find(([, q]) => q.name === 'face-detection-uploads-dead-letters')![0]}.url}`,
      OUTPUT_ACCESS: 'public',
      PRESIGN_EXPIRES_SECONDS: '3600',
      DETECTOR: 'yunet',
      DETECT_BUDGET_MS: '12500',
      JPEG_QUALITY: '90',
      MAX_IMAGE_BYTES: '10485760',
      MAX_IMAGE_PIXELS: '40000000',
      DOWNLOAD_TIMEOUT_MS: '10000',
      MODELS_DIR: '/opt/models',
      OPENCV_LOG_LEVEL: 'ERROR',
      NODE_OPTIONS: '--max-semi-space-size=4 --expose-gc',
      // glibc keeps what the detector frees (stack/detect-function.ts, DETECT_ALLOCATOR_ENV).
      MALLOC_MMAP_THRESHOLD_: '33554432',
      MALLOC_TRIM_THRESHOLD_: '1073741824',
    });
  });

  test('cleanup has no layer and knows its prefix and age', () => {
    const cleanup = Object.values(parsed.resource.aws_lambda_function).find((f) => f.function_name === 'face-detection-cleanup')!;
    expect(cleanup.layers).toBeUndefined();
    expect(cleanup.environment.variables).toEqual(expect.objectContaining({ IMAGE_PREFIX: 'tmp/', MAX_AGE_SECONDS: '3600', DRY_RUN: 'false' }));
  });

  test('memory, timeout and retention follow configuration', () => {
    const { json: custom } = synthStack({ detectMemoryMb: 3008, detectTimeoutSeconds: 60, logRetentionDays: 30 });
    expect(custom).toHaveResourceWithProperties(LambdaFunction, { function_name: 'face-detection-detect-faces', memory_size: 3008, timeout: 60 });
    // The download deadline follows a short function timeout.
    expect(synthStack({ detectTimeoutSeconds: 6 }).json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'face-detection-detect-faces',
      environment: { variables: expect.objectContaining({ DOWNLOAD_TIMEOUT_MS: '2000' }) },
    });
    expect(custom).toHaveResourceWithProperties(CloudwatchLogGroup, { retention_in_days: 30 });
  });

  test('logLevel: every function\'s Lambda application log level (which Lambda hands the code as AWS_LAMBDA_LOG_LEVEL); a bad value names the setting', () => {
    const functions = Object.values(synthStack({ logLevel: 'debug' }).parsed.resource.aws_lambda_function);
    expect(functions.length).toBeGreaterThanOrEqual(2);
    for (const f of functions) expect(f.logging_config).toMatchObject({ log_format: 'JSON', application_log_level: 'DEBUG' });
    expect(() => synthStack({ logLevel: 'verbose' })).toThrow(/logLevel/);
  });

  test('architecture: the functions, the layer\'s compatible architectures and the layer zip follow it; a bad value names the setting', () => {
    const arm = synthStack({ architecture: 'arm64' });
    for (const fn of Object.values(arm.parsed.resource.aws_lambda_function)) expect(fn.architectures).toEqual(['arm64']);
    expect(only(arm.parsed, 'aws_lambda_layer_version')).toMatchObject({ compatible_architectures: ['arm64'], description: expect.stringContaining('(arm64)') });
    for (const fn of Object.values(parsed.resource.aws_lambda_function)) expect(fn.architectures).toEqual(['x86_64']);
    expect(loadConfig({ architecture: 'arm64' }, {}).artifacts.layerZip).toBe('layer/dist/opencv-layer-arm64.zip');
    expect(loadConfig({}, {}).artifacts.layerZip).toBe('layer/dist/opencv-layer-x86_64.zip');
    expect(() => loadConfig({}, { FACE_ARCHITECTURE: 'amd64' })).toThrow('invalid architecture (context) / FACE_ARCHITECTURE (env): "amd64"; expected one of x86_64, arm64');
  });

  test('the detect budget is what the timeout leaves after the other terms of a photo\'s worst case, or its setting; a minimum score reaches the function', () => {
    const env = (context: Record<string, unknown>) =>
      Object.values(synthStack(context).parsed.resource.aws_lambda_function).find((f) => f.function_name === 'face-detection-detect-faces')!.environment.variables;
    // 30 s: read 10 s + budget 12.5 s + image work 2 s + writes 5 s + answer margin 0.5 s.
    expect(env({})).toMatchObject({ DETECT_BUDGET_MS: '12500', DOWNLOAD_TIMEOUT_MS: '10000', WRITE_TIMEOUT_MS: '5000' });
    expect(env({ detectTimeoutSeconds: 60 }).DETECT_BUDGET_MS).toBe('42500');
    expect(env({ detectTimeoutSeconds: 60, detectBudgetMs: 40000, minScore: 0.6 })).toMatchObject({ DETECT_BUDGET_MS: '40000', MIN_SCORE: '0.6' });
    expect(env({}).MIN_SCORE).toBeUndefined();
    // The image work stretches with less CPU (half a vCPU: twice the time) and with larger photos.
    expect(imageWorkMs(885, 40e6)).toBe(3998);
    expect(env({ detectMemoryMb: 885 }).DETECT_BUDGET_MS).toBe(String(30_000 - 10_000 - 3998 - 5000 - 500));
    expect(env({ maxImagePixels: 80_000_000 }).DETECT_BUDGET_MS).toBe(String(30_000 - 10_000 - 4000 - 5000 - 500));
    // One photo's worst case must fit the timeout: each term named in the refusal.
    expect(() => synthStack({ detectTimeoutSeconds: 30, detectBudgetMs: 29000 })).toThrow(
      'invalid detectBudgetMs (context) / FACE_DETECT_BUDGET_MS (env): "29000"; expected at most 12500: the timeout (30000 ms) less the read deadline downloadTimeoutMs (10000), the image work allowance at detectMemoryMb and maxImagePixels (2000), the write deadline writeTimeoutMs (5000) and the answer margin (500)',
    );
    expect(() => synthStack({ detectTimeoutSeconds: 30, detectBudgetMs: 17500, downloadTimeoutMs: 5000, writeTimeoutMs: 5000 })).not.toThrow();
    expect(() => synthStack({ detectTimeoutSeconds: 30, detectBudgetMs: 17500, downloadTimeoutMs: 5001, writeTimeoutMs: 5000 })).toThrow(/at most 17499/);
    expect(() => synthStack({ detectTimeoutSeconds: 30, detectBudgetMs: 12500, detectMemoryMb: 885 })).toThrow(/at most 10502: .*the image work allowance at detectMemoryMb and maxImagePixels \(3998\)/);
    // A timeout too short for the defaults is refused by name, not given a budget that cannot hold.
    expect(env({ detectTimeoutSeconds: 6 })).toMatchObject({ DETECT_BUDGET_MS: '500', DOWNLOAD_TIMEOUT_MS: '2000', WRITE_TIMEOUT_MS: '1000' });
    expect(() => synthStack({ detectTimeoutSeconds: 3 })).toThrow(
      'invalid detectTimeoutSeconds (context) / FACE_DETECT_TIMEOUT_SECONDS (env): "3"; expected room for a detect budget of at least 100 ms; the timeout (3000 ms) less the read deadline downloadTimeoutMs (1000), the image work allowance at detectMemoryMb and maxImagePixels (2000), the write deadline writeTimeoutMs (500) and the answer margin (500) leaves -1000 ms (raise the timeout or detectMemoryMb, or lower the deadlines)',
    );
    expect(env({ detectTimeoutSeconds: 3, downloadTimeoutMs: 150, writeTimeoutMs: 150 }).DETECT_BUDGET_MS).toBe('200');
    expect(() => synthStack({ minScore: 2 })).toThrow(/minScore .*"2"; expected a number from 0.09 to 1/);
  });

  test('what the stack writes, each function parses back to the same values (one contract on both sides)', () => {
    const { config } = synthStack({ jpegQuality: 75, imagePrefix: 'marked/', outputAccess: 'presigned', minScore: 0.7 });
    const detect = detectConfigFromEnv(detectEnvironment(config, 'bucket-x'));
    expect(detect).toMatchObject({ bucket: 'bucket-x', jpegQuality: 75, imagePrefix: 'marked/', outputAccess: 'presigned', minScore: 0.7, detectBudgetMs: config.detectBudgetMs, modelsDir: '/opt/models' });
    const cleanup = settingsFromEnv(CLEANUP_ENV, cleanupEnvironment(config, 'bucket-x'));
    expect(cleanup).toEqual({ bucket: 'bucket-x', prefix: 'marked/', maxAgeSeconds: config.cleanupMaxAgeSeconds, dryRun: false, s3AttemptTimeoutMs: 3000 });
  });

  test('no policy statement uses a "*" resource', () => {
    for (const doc of Object.values(parsed.data.aws_iam_policy_document)) {
      for (const statement of doc.statement) expect(statement.resources ?? []).not.toContain('*');
    }
  });
});

describe('cleanup schedule', () => {
  test('runs the cleanup function hourly, with retries and a dead-letter queue', () => {
    const { json, parsed } = synthStack();
    expect(json).toHaveResourceWithProperties(SchedulerSchedule, {
      schedule_expression: 'rate(1 hour)',
      flexible_time_window: { mode: 'OFF' },
      target: expect.objectContaining({
        retry_policy: { maximum_event_age_in_seconds: 3600, maximum_retry_attempts: 3 },
        input: '{}',
      }),
    });
    const schedule = only(parsed, 'aws_scheduler_schedule');
    const [cleanupId] = Object.entries(parsed.resource.aws_lambda_function).find(([, f]) => f.function_name === 'face-detection-cleanup')!;
    const [queueId] = Object.entries(parsed.resource.aws_sqs_queue).find(([, q]) => q.name === 'face-detection-cleanup-dead-letters')!;
    expect(schedule.target.arn).toBe(`\${aws_lambda_function.${cleanupId}.arn}`);
    expect(schedule.target.dead_letter_config.arn).toBe(`\${aws_sqs_queue.${queueId}.arn}`);
    expect(schedule.target.role_arn).toMatch(/^\$\{aws_iam_role\..*scheduler-role.*\.arn\}$/);
    expect(json).toHaveResourceWithProperties(SqsQueue, { name: 'face-detection-cleanup-dead-letters', sqs_managed_sse_enabled: true });
  });

  test('the rate is configurable', () => {
    expect(synthStack({ cleanupSchedule: 'rate(15 minutes)' }).json).toHaveResourceWithProperties(SchedulerSchedule, {
      schedule_expression: 'rate(15 minutes)',
    });
  });
});

describe('uploads processed on their own', () => {
  const { json, parsed } = synthStack();
  const queues = () => Object.entries(parsed.resource.aws_sqs_queue);
  const queueId = (name: string) => queues().find(([, q]) => q.name === name)![0];
  const detectId = () => Object.entries(parsed.resource.aws_lambda_function).find(([, f]) => f.function_name === 'face-detection-detect-faces')![0];

  test('S3 notifies the queue of objects created and removed under the input prefix, once the queue policy lets it', () => {
    expect(json).toHaveResourceWithProperties(S3BucketNotification, {
      queue: [{ id: 'uploads', events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'], filter_prefix: 'inputs/', queue_arn: `\${aws_sqs_queue.${queueId('face-detection-uploads')}.arn}` }],
    });
    const notification = only(parsed, 'aws_s3_bucket_notification');
    expect(notification.bucket).toMatch(/^\$\{aws_s3_bucket\./);
    expect(notification.depends_on).toEqual([expect.stringMatching(/^aws_sqs_queue_policy\./)]);
  });

  test('the queue: visibility six times the function timeout, SSE, dead-letter queue after the receive limit', () => {
    const queue = parsed.resource.aws_sqs_queue[queueId('face-detection-uploads')];
    expect(queue).toMatchObject({ visibility_timeout_seconds: 180, sqs_managed_sse_enabled: true, message_retention_seconds: 4 * 86400 });
    expect(queue.redrive_policy).toBe(`\${jsonencode({"deadLetterTargetArn" = aws_sqs_queue.${queueId('face-detection-uploads-dead-letters')}.arn, "maxReceiveCount" = 5})}`);
    expect(json).toHaveResourceWithProperties(SqsQueue, { name: 'face-detection-uploads-dead-letters', message_retention_seconds: 14 * 86400, sqs_managed_sse_enabled: true });
    expect(only(parsed, 'aws_sqs_queue_redrive_allow_policy').redrive_allow_policy).toContain('byQueue');
    const custom = synthStack({ detectTimeoutSeconds: 60, uploadMaxReceiveCount: 3 }).parsed;
    const q = Object.values(custom.resource.aws_sqs_queue).find((x) => x.name === 'face-detection-uploads')!;
    expect(q.visibility_timeout_seconds).toBe(360);
    expect(q.redrive_policy).toContain('"maxReceiveCount" = 3');
  });

  test('the event source mapping: batch size, maximum concurrency, partial batch failures, after the role may receive', () => {
    expect(json).toHaveResourceWithProperties(LambdaEventSourceMapping, {
      event_source_arn: `\${aws_sqs_queue.${queueId('face-detection-uploads')}.arn}`,
      function_name: `\${aws_lambda_function.${detectId()}.arn}`,
      batch_size: 1,
      function_response_types: ['ReportBatchItemFailures'],
      scaling_config: { maximum_concurrency: 10 },
    });
    expect(only(parsed, 'aws_lambda_event_source_mapping').depends_on).toEqual([expect.stringMatching(/^aws_iam_role_policy\..*detect/)]);
    expect(synthStack({ uploadBatchSize: 10, uploadMaxConcurrency: 2 }).json).toHaveResourceWithProperties(LambdaEventSourceMapping, {
      batch_size: 10,
      scaling_config: { maximum_concurrency: 2 },
    });
  });

  test('settings: bounds, and prefixes that never nest (outputs must not come back as uploads)', () => {
    expect(() => synthStack({ uploadMaxConcurrency: 1 })).toThrow(/uploadMaxConcurrency .*"1"; expected a whole number from 2 to 1000/);
    expect(() => synthStack({ uploadBatchSize: 11 })).toThrow(/uploadBatchSize/);
    expect(() => synthStack({ inputPrefix: 'tmp/in/' })).toThrow(/invalid inputPrefix .*"tmp\/in\/"; expected a prefix that neither contains nor is contained in imagePrefix/);
    expect(() => synthStack({ resultPrefix: 'inputs/' })).toThrow(/resultPrefix|inputPrefix/);
    expect(() => synthStack({ inputPrefix: 'artifacts/photos/' })).toThrow(/invalid inputPrefix .*contained in artifacts\//);
    expect(() => synthStack({ outputPrefix: 'results/img/' })).toThrow(/invalid outputPrefix .*contained in resultPrefix/);
    expect(() => synthStack({ outputPrefix: 'inputs/out/' })).toThrow(/outputPrefix/);
    expect(() => synthStack({ inputPrefix: 'in/', resultPrefix: 'out/', outputPrefix: 'red/' })).not.toThrow();
  });

  test("the deployment's upload options reach the function as its UPLOAD_* settings; shape or padding with box is refused", () => {
    const { config } = synthStack({ uploadMark: 'fill', uploadPadding: 0.5, uploadMinFaceSize: 24 });
    expect(detectEnvironment(config, 'bucket-x')).toMatchObject({ UPLOAD_MARK: 'fill', UPLOAD_PADDING: '0.5', UPLOAD_MIN_FACE_SIZE: '24' });
    expect(detectConfigFromEnv(detectEnvironment(config, 'bucket-x'))).toMatchObject({ uploadMark: 'fill', uploadPadding: 0.5, uploadMinFaceSize: 24, uploadShape: undefined });
    expect(() => synthStack({ uploadMark: 'sparkle' })).toThrow(/uploadMark .*"sparkle"; expected one of box, fill, pixelate, blur/);
    expect(() => synthStack({ uploadPadding: 2, uploadMark: 'blur' })).toThrow(/uploadPadding .*expected a number from 0 to 1/);
    expect(() => synthStack({ uploadPadding: 0.2 })).toThrow(/invalid uploadPadding .*unset while uploadMark is box/);
    expect(() => synthStack({ uploadMark: 'box', uploadShape: 'rect' })).toThrow(/invalid uploadShape/);
  });

  test('every upload default of the contract reaches the function, each set one at a time', () => {
    const values: Record<keyof typeof UPLOAD_DEFAULTS_ENV, string | number> = {
      uploadMinFaceSize: 24, uploadMinScore: 0.3, uploadMaxFaces: 7, uploadMark: 'pixelate', uploadShape: 'rect', uploadPadding: 0.3, uploadOutput: 'reencode',
    };
    for (const [name, value] of Object.entries(values) as [keyof typeof UPLOAD_DEFAULTS_ENV, string | number][]) {
      // Shape and padding are refused with the box mark (the default): they come with a redaction.
      const { config } = synthStack({ [name]: value, ...(name === 'uploadShape' || name === 'uploadPadding' ? { uploadMark: 'fill' } : {}) });
      expect(detectEnvironment(config, 'bucket-x')[UPLOAD_DEFAULTS_ENV[name].env]).toBe(String(value));
      expect(detectConfigFromEnv(detectEnvironment(config, 'bucket-x'))[name]).toBe(value);
    }
  });

  test('a dead letter raises an alarm on an SNS topic, and so does a failed cleanup run; alarmEmail subscribes an address', () => {
    const alarms = Object.values(parsed.resource.aws_cloudwatch_metric_alarm) as Record<string, any>[];
    const alarm = alarms.find((a) => a.alarm_name === 'face-detection-uploads-dead-letters')!;
    expect(alarm).toMatchObject({
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: `\${aws_sqs_queue.${queueId('face-detection-uploads-dead-letters')}.name}` },
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      evaluation_periods: 1,
      treat_missing_data: 'notBreaching',
      alarm_actions: [expect.stringMatching(/^\$\{aws_sns_topic\..*\.arn\}$/)],
    });
    expect(parsed.resource.aws_sns_topic_subscription).toBeUndefined();
    // Scheduled cleanup is invoked asynchronously: its failures and its dead letters notify the same topic.
    const topic = alarm.alarm_actions[0];
    const cleanupFunction = Object.keys(parsed.resource.aws_lambda_function).find((id) => id.startsWith('cleanup'))!;
    expect(alarms.find((a) => a.alarm_name === 'face-detection-cleanup-errors')).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: 'Errors',
      dimensions: { FunctionName: `\${aws_lambda_function.${cleanupFunction}.function_name}` },
      statistic: 'Sum',
      period: 3600,
      threshold: 0,
      alarm_actions: [topic],
    });
    expect(alarms.find((a) => a.alarm_name === 'face-detection-cleanup-dead-letters')).toMatchObject({ namespace: 'AWS/SQS', dimensions: { QueueName: expect.stringMatching(/^\$\{aws_sqs_queue\.cleanup_dead-letters/) }, alarm_actions: [topic] });
    expect(alarms).toHaveLength(3);
    const withEmail = synthStack({ alarmEmail: 'ops@example.com' }).parsed;
    expect(only(withEmail, 'aws_sns_topic_subscription')).toMatchObject({ protocol: 'email', endpoint: 'ops@example.com', topic_arn: expect.stringMatching(/^\$\{aws_sns_topic\./) });
    expect(() => synthStack({ alarmEmail: 'not an address' })).toThrow(/alarmEmail .*expected an e-mail address/);
  });

  test('the function reads the prefixes from its environment', () => {
    const { config } = synthStack({ inputPrefix: 'uploads/', resultPrefix: 'done/' });
    expect(detectConfigFromEnv(detectEnvironment(config, 'bucket-x'))).toMatchObject({ inputPrefix: 'uploads/', resultPrefix: 'done/' });
  });
});

describe('outputs and backend', () => {
  test('outputs name the bucket, both functions and the invoke command (and the web app\'s, when it is on)', () => {
    const { parsed } = synthStack({ webApp: false });
    expect(Object.keys(parsed.output).sort()).toEqual([
      'bucket_name',
      'cleanup_function_arn',
      'cleanup_function_name',
      'detect_function_arn',
      'detect_function_name',
      'invoke_command',
      'upload_alarm_topic_arn',
      'upload_command',
      'upload_dead_letter_queue_name',
      'upload_queue_url',
    ]);
    expect(Object.keys(synthStack().parsed.output).sort()).toEqual([...Object.keys(parsed.output), 'app_url', 'invite_command'].sort());
    expect(parsed.output.invoke_command.value).toMatch(
      /^aws lambda invoke --region us-east-1 --function-name \$\{aws_lambda_function\..*\.function_name\} --payload '\$\{jsonencode\(.*imageUrl.*\)\}' --cli-binary-format raw-in-base64-out out\.json$/,
    );
  });

  test('local state by default, with a relative path', () => {
    const { parsed } = synthStack();
    expect(parsed.terraform.backend).toEqual({ local: { path: '../../../terraform.face-detection.tfstate' } });
  });

  test('S3 state when a state bucket is configured', () => {
    const { parsed } = synthStack({ stateBucket: 'team-terraform-state', stateKey: 'faces/prod.tfstate' });
    expect(parsed.terraform.backend).toEqual({
      s3: { bucket: 'team-terraform-state', key: 'faces/prod.tfstate', region: 'us-east-1', encrypt: true, use_lockfile: true },
    });
  });
});

test("the longest stack name (41 characters) keeps every resource name within AWS's limits; the sign-in domain is in lower case", () => {
  const stackName = `Faces${'x'.repeat(36)}`;
  const { parsed } = synthStack({ stackName });
  // AWS's limits, by resource type and the attribute that names it.
  const limits: [type: string, attribute: string, max: number][] = [
    ['aws_lambda_function', 'function_name', 64],
    ['aws_iam_role', 'name', 64],
    ['aws_scheduler_schedule', 'name', 64],
    ['aws_sqs_queue', 'name', 80],
    ['aws_lambda_layer_version', 'layer_name', 140],
    ['aws_apigatewayv2_api', 'name', 128],
    ['aws_cognito_user_pool', 'name', 128],
    ['aws_cognito_user_pool_client', 'name', 128],
    ['aws_sns_topic', 'name', 256],
    ['aws_cloudwatch_metric_alarm', 'alarm_name', 255],
    ['aws_cloudwatch_log_group', 'name', 512],
    ['aws_cognito_user_pool_domain', 'domain', 63],
  ];
  const checked: string[] = [];
  for (const [type, attribute, max] of limits) {
    const resources = Object.values(parsed.resource[type] ?? {});
    expect([type, resources.length > 0]).toEqual([type, true]);
    for (const resource of resources) {
      // The account id, a token here, is 12 digits.
      const name = String(resource[attribute]).replace(/\$\{data\.aws_caller_identity\.[^}]+\.account_id\}/g, '123456789012');
      expect(name).not.toContain('${');
      expect([type, name, name.length <= max]).toEqual([type, name, true]);
      checked.push(name);
    }
  }
  expect(checked).toContain(`${stackName}-cleanup-scheduler-role`);
  expect(Object.values(parsed.resource.aws_cognito_user_pool_domain)[0].domain).toMatch(new RegExp(`^${stackName.toLowerCase()}-\\$\\{data\\.aws_caller_identity`));
});

describe('snapshots', () => {
  test('synthesized JSON and HCL hold no path of this machine', () => {
    const { json, hcl } = synthStack();
    for (const text of [json, hcl()]) {
      expect(text).not.toContain(process.cwd());
      expect(text).not.toContain(path.dirname(fixtureZips().layerZip));
      expect(text).not.toContain(os.homedir());
    }
  });

  // Without the web app: the stack as it was before it (the same snapshots).
  test('JSON', () => {
    expect(synthStack({ webApp: false }).json).toMatchSnapshot();
  });

  test('HCL', () => {
    expect(synthStack({ webApp: false }).hcl()).toMatchSnapshot();
  });

  test('HCL with the web app', () => {
    expect(synthStack().hcl()).toMatchSnapshot();
  });
});
