/**
 * detect-faces: marks the faces of an image given by URL (direct invocation) or uploaded under the
 * input prefix (SQS). Direct calls write only the image prefix; uploads read only the input prefix
 * and write (and delete, in version order) only under the output and result prefixes. It lists
 * only those prefixes (so a missing key reads as 404, not 403), receives only from its upload
 * queue, and sends only to it (deferred messages) and to its dead-letter queue (poison).
 */
import { Construct } from 'constructs';
import { toEnvironment } from '../functions/common/schema';
import { DETECT_ENV, QUIET_OPENCV_LOG_LEVEL, UPLOAD_DEFAULTS_ENV } from '../functions/detect-faces/contract';
import { FUNCTION_BUNDLES } from '../bundling/functions';
import { pickSettings, type StackConfig } from './config';
import { NodejsFunction, type FunctionConstructProps } from './nodejs-function';
import type { PolicyStatement } from './policy';

/** The upload defaults (one per request field): the contract's list, so that none is left unwired. */
const UPLOAD_SETTINGS = Object.keys(UPLOAD_DEFAULTS_ENV) as (keyof typeof UPLOAD_DEFAULTS_ENV)[];

/** The stack settings detect-faces is built from. */
export const DETECT_FUNCTION_SETTINGS = [
  'stackName', 'architecture', 'detectMemoryMb', 'detectTimeoutSeconds', 'logRetentionDays', 'logLevel',
  'imagePrefix', 'inputPrefix', 'resultPrefix', 'outputPrefix', 'outputAccess', 'presignExpiresSeconds',
  'detector', 'minScore', 'detectBudgetMs', 'downloadTimeoutMs', 'writeTimeoutMs', 'jpegQuality', 'maxImageBytes', 'maxImagePixels',
  ...UPLOAD_SETTINGS,
] as const satisfies readonly (keyof StackConfig)[];
export type DetectFunctionSettings = Pick<StackConfig, (typeof DETECT_FUNCTION_SETTINGS)[number]>;

export interface DetectFunctionProps extends FunctionConstructProps<DetectFunctionSettings> {
  readonly layerArn: string;
  /** The upload queue it receives from (upload-trigger.ts), and sends deferred messages to. */
  readonly uploadQueueArn: string;
  readonly uploadQueueUrl: string;
  /** Where it sends an unreadable upload message, once. */
  readonly deadLetterQueueArn: string;
  readonly deadLetterQueueUrl: string;
}

export class DetectFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: DetectFunctionProps) {
    super(scope, id);
    const { settings: config } = props;
    const images = `${props.bucketArn}/${config.imagePrefix}*`;
    const products = [config.outputPrefix, config.resultPrefix].map((prefix) => `${props.bucketArn}/${prefix}*`);
    const statements: PolicyStatement[] = [
      { sid: 'WriteMarkedImages', actions: ['s3:PutObject'], resources: [images] },
      { sid: 'ReadUploads', actions: ['s3:GetObject'], resources: [`${props.bucketArn}/${config.inputPrefix}*`] },
      // Conditional writes read what is there first (HeadObject is s3:GetObject); deletes follow the uploads' own.
      { sid: 'WriteUploadProducts', actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: products },
      // Without ListBucket S3 answers a missing key with 403, which reads as a failure to retry; with it, 404.
      {
        sid: 'ListUploadPrefixes',
        actions: ['s3:ListBucket'],
        resources: [props.bucketArn],
        conditions: [{ test: 'StringLike', variable: 's3:prefix', values: [config.inputPrefix, config.outputPrefix, config.resultPrefix].map((p) => `${p}*`) }],
      },
      // What an SQS event source mapping needs from the function's role, on this queue only.
      { sid: 'ReceiveUploads', actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], resources: [props.uploadQueueArn] },
      { sid: 'RequeueAndDeadLetterUploads', actions: ['sqs:SendMessage'], resources: [props.uploadQueueArn, props.deadLetterQueueArn] },
    ];
    if (config.outputAccess === 'presigned') {
      // A presigned GET is only as good as the signer's own permission to read the object.
      statements.push({ sid: 'SignReadsOfMarkedImages', actions: ['s3:GetObject'], resources: [images] });
    }
    this.fn = new NodejsFunction(this, 'detect-faces', {
      functionName: `${config.stackName}-detect-faces`,
      description: 'Finds faces in the image at imageUrl, or in photos uploaded under the input prefix, and stores a marked copy',
      bundle: FUNCTION_BUNDLES.detectFaces,
      architecture: config.architecture,
      prebuiltZip: props.prebuiltZip,
      memoryMb: config.detectMemoryMb,
      timeoutSeconds: config.detectTimeoutSeconds,
      layers: [props.layerArn],
      logRetentionDays: config.logRetentionDays,
      logLevel: config.logLevel,
      statements,
      environment: { ...detectEnvironment(config, props.bucketName), ...toEnvironment(DETECT_ENV, { uploadQueueUrl: props.uploadQueueUrl, deadLetterQueueUrl: props.deadLetterQueueUrl }) },
    });
  }
}

/** The environment detect-faces runs with, written by its contract; the local runner uses the same. */
export function detectEnvironment(config: DetectFunctionSettings, bucketName: string): Record<string, string> {
  return {
    ...toEnvironment(DETECT_ENV, {
      bucket: bucketName,
      imagePrefix: config.imagePrefix,
      inputPrefix: config.inputPrefix,
      resultPrefix: config.resultPrefix,
      outputPrefix: config.outputPrefix,
      outputAccess: config.outputAccess,
      presignExpiresSeconds: config.presignExpiresSeconds,
      detector: config.detector,
      minScore: config.minScore,
      detectBudgetMs: config.detectBudgetMs,
      jpegQuality: config.jpegQuality,
      maxImageBytes: config.maxImageBytes,
      maxImagePixels: config.maxImagePixels,
      // With the budget, within the timeout (stack/config.ts): a slow server ends as DownloadFailed, not a timeout.
      downloadTimeoutMs: config.downloadTimeoutMs,
      writeTimeoutMs: config.writeTimeoutMs,
      ...pickSettings(config, UPLOAD_SETTINGS),
      // Where the layer puts them (the contract's default, written out for whoever reads the plan).
      modelsDir: DETECT_ENV.modelsDir.default,
      opencvLogLevel: QUIET_OPENCV_LOG_LEVEL,
    }),
    NODE_OPTIONS: DETECT_NODE_OPTIONS,
    ...DETECT_ALLOCATOR_ENV,
  };
}

/**
 * glibc's malloc told to keep what the detector frees. Unset, glibc maps each large buffer (the
 * network's blobs and layer outputs, pyramid levels, crops) afresh and gives it back when freed,
 * and cv.dnn reallocates its layers whenever its input's shape changes (the plan's passes, the
 * cascade's crops, the next photo's size), so a warm process pays page faults for the same memory
 * on every look. Measured on one AMD EPYC core (docs/benchmarks.md, "Allocator settings"): a warm
 * process taking 1080p and 12 MP photos in turn (`npm run bench -- --allocator`) ran one look at
 * 12 MP in 70-77 ms against 171-190 ms unset and the redaction default in 118-152 against 233-265
 * ms; uploads through the local stack went 1.6-1.7x as fast. RSS stays near each call's peak
 * instead of falling back (+10 to +30 MB in those runs; the peak is about the same), and the
 * handler's collection still hands memory back when RSS climbs (functions/common/collect.ts).
 * Buffers over 32 MB (a 12 MP photo's pixels) are still mapped afresh. glibc reads these when the
 * process starts: set in the function's environment (Lambda's runtime, the local runner), and by
 * the local tools that detect in their own process (local/allocator.ts).
 */
export const DETECT_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(1024 * 1024 * 1024),
};

/**
 * V8's young generation held to 2 x 4 MB semi-spaces. Unset, it grows whenever a scavenge's
 * survivors add up to its size and never shrinks in a busy container: locally (V8's default cap, 64
 * MB semi-spaces) 16 -> 32 -> 64 -> 128 MB over 3,000 direct invocations, RSS +42 MB, all of it
 * that growth; on Lambda the runtime's own cap is a tenth of the function's memory (177 MB at
 * 1,769 MB) unless NODE_OPTIONS names one (its bootstrap then passes neither its semi- nor its
 * old-space size; the old space keeps V8's default, a quarter of the memory). This function's JS
 * heap is 20-40 MB. At 4 MB the young generation reaches its cap within the first invocations and
 * a warm container's RSS stays flat (-0.7 to +3.9% over 1,000 invocations, with the collector's
 * malloc_trim); at 8 MB it was still filling between invocation 50 and 500 (+3 MB of the +5-10 MB
 * that climbed). A scavenge costs what survives it (about 0.2 MB here), not the space's size; at
 * 4 MB objects are promoted sooner and old-space collections double, about 0.2 ms a call
 * (docs/benchmarks.md, "Memory in a warm container").
 * `--expose-gc`: the handler's full collection when RSS climbs (functions/common/collect.ts says why).
 */
export const DETECT_NODE_OPTIONS = '--max-semi-space-size=4 --expose-gc';
