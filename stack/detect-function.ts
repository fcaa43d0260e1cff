/** detect-faces: downloads an image, marks the faces, writes the result under the image prefix. */
import { Construct } from 'constructs';
import type { StackConfig } from './config';
import { FUNCTION_BUNDLES } from '../bundling/functions';
import { NodejsFunction } from './nodejs-function';
import type { PolicyStatement } from './policy';

export interface DetectFunctionProps {
  readonly config: StackConfig;
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly layerArn: string;
}

export class DetectFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: DetectFunctionProps) {
    super(scope, id);
    const { config } = props;
    const images = `${props.bucketArn}/${config.imagePrefix}*`;
    const statements: PolicyStatement[] = [{ sid: 'WriteMarkedImages', actions: ['s3:PutObject'], resources: [images] }];
    if (config.outputAccess === 'presigned') {
      // A presigned GET is only as good as the signer's own permission to read the object.
      statements.push({ sid: 'SignReadsOfMarkedImages', actions: ['s3:GetObject'], resources: [images] });
    }
    this.fn = new NodejsFunction(this, 'detect-faces', {
      functionName: `${config.stackName}-detect-faces`,
      description: 'Finds faces in the image at imageUrl and stores a marked copy',
      bundle: FUNCTION_BUNDLES.detectFaces,
      prebuiltZip: config.artifacts.detectZip,
      memoryMb: config.detectMemoryMb,
      timeoutSeconds: config.detectTimeoutSeconds,
      layers: [props.layerArn],
      logRetentionDays: config.logRetentionDays,
      statements,
      environment: detectEnvironment(config, props.bucketName),
    });
  }
}

/** The environment detect-faces runs with; the local runner uses the same. */
export function detectEnvironment(config: StackConfig, bucketName: string): Record<string, string> {
  return {
    BUCKET_NAME: bucketName,
    IMAGE_PREFIX: config.imagePrefix,
    OUTPUT_ACCESS: config.outputAccess,
    PRESIGN_EXPIRES_SECONDS: String(config.presignExpiresSeconds),
    DETECTOR: config.detector,
    JPEG_QUALITY: String(config.jpegQuality),
    MAX_IMAGE_BYTES: String(config.maxImageBytes),
    MAX_IMAGE_PIXELS: String(config.maxImagePixels),
    // A third of the function's time at most, so a slow server ends as DownloadFailed, not a timeout.
    DOWNLOAD_TIMEOUT_MS: String(Math.min(10_000, Math.floor((config.detectTimeoutSeconds * 1000) / 3))),
    MODELS_DIR: '/opt/models',
    OPENCV_LOG_LEVEL: 'ERROR',
  };
}
