/** Wires storage, the OpenCV layer and both functions into one stack, and names what to look at after deploy. */
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Fn, LocalBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { CLEANUP_FUNCTION_SETTINGS, CleanupFunction } from './cleanup-function';
import { pickSettings, type StackConfig } from './config';
import { DeadLetterAlarm, queueNotEmpty } from './dead-letter-alarm';
import { DETECT_FUNCTION_SETTINGS, DetectFunction } from './detect-function';
import { OpenCvLayer } from './opencv-layer';
import { Storage } from './storage';
import { UPLOAD_TRIGGER_SETTINGS, UploadTrigger } from './upload-trigger';
import { WEB_APP_SETTINGS, WebApp } from './web-app';

export class FaceDetectionStack extends TerraformStack {
  readonly storage: Storage;
  readonly layer: OpenCvLayer;
  readonly detect: DetectFunction;
  readonly cleanup: CleanupFunction;
  readonly uploads: UploadTrigger;
  readonly deadLetterAlarm: DeadLetterAlarm;
  /** Absent with `webApp=false`. */
  readonly webApp?: WebApp;

  constructor(scope: Construct, config: StackConfig) {
    super(scope, config.stackName);

    // An explicit backend: the default local one embeds this machine's absolute path in the HCL.
    if (config.backend) {
      const backend = new S3Backend(this, { bucket: config.backend.bucket, key: config.backend.key, region: config.backend.region, encrypt: true });
      // S3-native state locking (Terraform >= 1.10): no DynamoDB table to manage.
      backend.addOverride('use_lockfile', true);
    } else {
      // Relative to cdktf.out/stacks/<stack>: the state file stays at the project root.
      new LocalBackend(this, { path: `../../../terraform.${config.stackName}.tfstate` });
    }

    new AwsProvider(this, 'aws', {
      region: config.region,
      defaultTags: [{ tags: { Project: 'face-detection', Stack: config.stackName, ManagedBy: 'cdktf' } }],
    });

    this.storage = new Storage(this, 'storage', {
      bucketName: config.bucketName,
      bucketPrefix: config.bucketPrefix,
      imagePrefix: config.imagePrefix,
      outputAccess: config.outputAccess,
      lifecycleExpirationDays: config.lifecycleExpirationDays,
      inputPrefix: config.inputPrefix,
      resultPrefix: config.resultPrefix,
      outputPrefix: config.outputPrefix,
      inputLifecycleDays: config.inputLifecycleDays,
      resultLifecycleDays: config.resultLifecycleDays,
      outputLifecycleDays: config.outputLifecycleDays,
    });
    const bucket = this.storage.bucket;
    // The deploying account, looked up once: the constructs that name it get its id.
    const accountId = new DataAwsCallerIdentity(this, 'account').accountId;

    this.layer = new OpenCvLayer(this, 'opencv-layer', {
      zipPath: config.artifacts.layerZip,
      architecture: config.architecture,
      layerName: `${config.stackName}-opencv`,
      s3ThresholdBytes: config.layerS3ThresholdBytes,
      bucket: bucket.id,
    });

    this.uploads = new UploadTrigger(this, 'uploads', { settings: pickSettings(config, UPLOAD_TRIGGER_SETTINGS), bucketId: bucket.id, bucketArn: bucket.arn, accountId });
    this.detect = new DetectFunction(this, 'detect', {
      settings: pickSettings(config, DETECT_FUNCTION_SETTINGS),
      prebuiltZip: config.artifacts.detectZip,
      bucketName: bucket.id,
      bucketArn: bucket.arn,
      layerArn: this.layer.layer.arn,
      uploadQueueArn: this.uploads.queue.arn,
      uploadQueueUrl: this.uploads.queue.url,
      deadLetterQueueArn: this.uploads.deadLetterQueue.arn,
      deadLetterQueueUrl: this.uploads.deadLetterQueue.url,
    });
    this.deadLetterAlarm = new DeadLetterAlarm(this, 'dead-letter-alarm', { name: `${config.stackName}-uploads`, queueName: this.uploads.deadLetterQueue.name, email: config.alarmEmail });
    this.uploads.deliverTo(this.detect.fn.function, this.detect.fn.policy);
    this.cleanup = new CleanupFunction(this, 'cleanup', {
      settings: pickSettings(config, CLEANUP_FUNCTION_SETTINGS),
      prebuiltZip: config.artifacts.cleanupZip,
      bucketName: bucket.id,
      bucketArn: bucket.arn,
      accountId,
    });

    const detectFn = this.detect.fn.function;
    const cleanupFn = this.cleanup.fn.function;
    // The Scheduler invokes cleanup asynchronously: a run that fails (a timeout, S3 refusing) is
    // retried twice by Lambda and then dropped, and cleanup's dead-letter queue holds only the
    // invocations the Scheduler could not make. Either one is told on the alarm topic.
    this.deadLetterAlarm.alsoOn('cleanup-errors', {
      alarmName: `${config.stackName}-cleanup-errors`,
      alarmDescription: `${config.stackName}'s cleanup failed in the last hour: marked images under ${config.imagePrefix} stay until the lifecycle rule removes them. See its log.`,
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: cleanupFn.functionName },
      statistic: 'Sum',
      period: 3600,
    });
    this.deadLetterAlarm.alsoOn('cleanup-dead-letters', {
      alarmName: `${config.stackName}-cleanup-dead-letters`,
      alarmDescription: `Messages in ${this.cleanup.deadLetterQueue.name}: scheduled cleanup runs the Scheduler could not invoke. Their attributes say why.`,
      ...queueNotEmpty(this.cleanup.deadLetterQueue.name),
    });
    new TerraformOutput(this, 'bucket_name', { value: bucket.id });
    new TerraformOutput(this, 'detect_function_name', { value: detectFn.functionName });
    new TerraformOutput(this, 'detect_function_arn', { value: detectFn.arn });
    new TerraformOutput(this, 'cleanup_function_name', { value: cleanupFn.functionName });
    new TerraformOutput(this, 'cleanup_function_arn', { value: cleanupFn.arn });
    new TerraformOutput(this, 'invoke_command', {
      description: 'Try detect-faces with any public image URL',
      // jsonencode keeps the payload's quotes valid in both the HCL and the JSON synth output.
      value:
        `aws lambda invoke --region ${config.region} --function-name ${detectFn.functionName} ` +
        `--payload '${Fn.jsonencode({ imageUrl: 'https://example.com/photo.jpg' })}' --cli-binary-format raw-in-base64-out out.json`,
    });
    new TerraformOutput(this, 'upload_command', {
      description: 'Upload a photo to have it redacted on its own (options as metadata); its record appears under the result prefix, its image under the output prefix',
      value: `aws s3 cp photo.jpg s3://${bucket.id}/${config.inputPrefix}photo.jpg --metadata mark=fill && aws s3 ls --recursive s3://${bucket.id}/${config.resultPrefix} && aws s3 ls --recursive s3://${bucket.id}/${config.outputPrefix}`,
    });
    new TerraformOutput(this, 'upload_queue_url', { value: this.uploads.queue.url });
    new TerraformOutput(this, 'upload_dead_letter_queue_name', {
      description: 'Uploads that kept failing unexpectedly, or could not be read; the alarm below watches it',
      value: this.uploads.deadLetterQueue.name,
    });
    new TerraformOutput(this, 'upload_alarm_topic_arn', {
      description: 'SNS topic of the dead-letter alarm (subscribe more addresses or a chat integration to it)',
      value: this.deadLetterAlarm.topic.arn,
    });

    if (config.webApp) {
      this.webApp = new WebApp(this, 'web-app', { settings: pickSettings(config, WEB_APP_SETTINGS), prebuiltZip: config.artifacts.webApiZip, bucketName: bucket.id, bucketArn: bucket.arn, accountId });
      const pool = this.webApp.userPool;
      new TerraformOutput(this, 'app_url', { description: 'The web app: sign in, drop photos, get them back redacted', value: this.webApp.appUrl });
      new TerraformOutput(this, 'invite_command', {
        description: 'Invite a user to the web app (Cognito emails a temporary password; only administrators create users)',
        value: `aws cognito-idp admin-create-user --region ${config.region} --user-pool-id ${pool.id} --username NAME --user-attributes Name=email,Value=EMAIL Name=email_verified,Value=true`,
      });
    }
  }
}
