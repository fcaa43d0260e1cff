/**
 * detect-faces: marks the faces of an image given by URL (direct invocation) or uploaded under the
 * input prefix (SQS). It reads only the input prefix, writes only the image and result prefixes,
 * and receives only from its upload queue.
 */
import { Construct } from 'constructs';
import { toEnvironment } from '../functions/common/schema';
import { DETECT_ENV } from '../functions/detect-faces/contract';
import { FUNCTION_BUNDLES } from '../bundling/functions';
import type { StackConfig } from './config';
import { NodejsFunction } from './nodejs-function';
import type { PolicyStatement } from './policy';

/** The stack settings detect-faces is built from. */
export const DETECT_FUNCTION_SETTINGS = [
  'stackName', 'architecture', 'detectMemoryMb', 'detectTimeoutSeconds', 'logRetentionDays',
  'imagePrefix', 'inputPrefix', 'resultPrefix', 'outputAccess', 'presignExpiresSeconds',
  'detector', 'minScore', 'detectBudgetMs', 'jpegQuality', 'maxImageBytes', 'maxImagePixels',
] as const satisfies readonly (keyof StackConfig)[];
export type DetectFunctionSettings = Pick<StackConfig, (typeof DETECT_FUNCTION_SETTINGS)[number]>;

export interface DetectFunctionProps {
  readonly settings: DetectFunctionSettings;
  /** A prebuilt zip to deploy; absent: bundled from source at synth. */
  readonly prebuiltZip?: string;
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly layerArn: string;
  /** The upload queue it receives from (upload-trigger.ts). */
  readonly uploadQueueArn: string;
}

export class DetectFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: DetectFunctionProps) {
    super(scope, id);
    const { settings: config } = props;
    const images = `${props.bucketArn}/${config.imagePrefix}*`;
    const statements: PolicyStatement[] = [
      { sid: 'WriteMarkedImages', actions: ['s3:PutObject'], resources: [images] },
      { sid: 'ReadUploads', actions: ['s3:GetObject'], resources: [`${props.bucketArn}/${config.inputPrefix}*`] },
      { sid: 'WriteUploadResults', actions: ['s3:PutObject'], resources: [`${props.bucketArn}/${config.resultPrefix}*`] },
      // What an SQS event source mapping needs from the function's role, on this queue only.
      { sid: 'ReceiveUploads', actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], resources: [props.uploadQueueArn] },
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
      statements,
      environment: detectEnvironment(config, props.bucketName),
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
      outputAccess: config.outputAccess,
      presignExpiresSeconds: config.presignExpiresSeconds,
      detector: config.detector,
      minScore: config.minScore,
      detectBudgetMs: config.detectBudgetMs,
      jpegQuality: config.jpegQuality,
      maxImageBytes: config.maxImageBytes,
      maxImagePixels: config.maxImagePixels,
      // A third of the function's time at most, so a slow server ends as DownloadFailed, not a timeout.
      downloadTimeoutMs: Math.min(DETECT_ENV.downloadTimeoutMs.default, Math.floor((config.detectTimeoutSeconds * 1000) / 3)),
      // Where the layer puts them (the contract's default, written out for whoever reads the plan).
      modelsDir: DETECT_ENV.modelsDir.default,
      // OpenCV's own warnings would otherwise go to the logs.
      opencvLogLevel: 'ERROR',
    }),
  };
}
