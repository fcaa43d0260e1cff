/** The OpenCV layer version, uploaded directly or (above Lambda's direct limit) through an S3 object. */
import { LambdaLayerVersion } from '@cdktf/provider-aws/lib/lambda-layer-version';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { Construct } from 'constructs';
import { LAMBDA_RUNTIME, opencv, type LayerArch } from '../layer/inputs';
import { Artifact } from './artifact';
import { ARTIFACTS_PREFIX } from './config';

export interface OpenCvLayerProps {
  readonly zipPath: string;
  readonly layerName: string;
  readonly architecture: LayerArch;
  /** Zips larger than this are uploaded to `bucket` first. */
  readonly s3ThresholdBytes: number;
  /** Bucket for the upload (only used above the threshold). */
  readonly bucket: string;
}

export class OpenCvLayer extends Construct {
  readonly layer: LambdaLayerVersion;
  readonly viaS3: boolean;

  constructor(scope: Construct, id: string, props: OpenCvLayerProps) {
    super(scope, id);
    const zip = new Artifact(this, 'zip', { zipPath: props.zipPath, buildCommand: 'npm run build:layer' });
    this.viaS3 = zip.sizeBytes > props.s3ThresholdBytes;
    const common = {
      layerName: props.layerName,
      description: `OpenCV ${opencv.version} + @u4/opencv4nodejs for ${LAMBDA_RUNTIME.name} (${props.architecture}), with YuNet and Haar face models`,
      compatibleRuntimes: [LAMBDA_RUNTIME.name],
      compatibleArchitectures: [props.architecture],
      sourceCodeHash: zip.sourceCodeHash,
    };
    if (this.viaS3) {
      const object = new S3Object(this, 'upload', {
        bucket: props.bucket,
        key: `${ARTIFACTS_PREFIX}layers/${props.layerName}.zip`,
        source: zip.asset.path,
        sourceHash: zip.sourceCodeHash,
      });
      this.layer = new LambdaLayerVersion(this, 'layer', { ...common, s3Bucket: object.bucket, s3Key: object.key });
    } else {
      this.layer = new LambdaLayerVersion(this, 'layer', { ...common, filename: zip.asset.path });
    }
  }
}
