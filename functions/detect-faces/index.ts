/**
 * Lambda entry of detect-faces. Per container, once: settings, the OpenCV addon (from the layer,
 * on NODE_PATH), the detector with its model, the S3 client. Per invocation: the pipeline.
 */
import { createLogger } from '../common/logger';
import type { LambdaContext } from '../common/lambda';
import { s3ClientFromEnv } from '../common/s3';
import { createDetector } from './detect/detectors';
import { detectFaces, type DetectResult } from './pipeline';
import type { OpenCv } from './opencv';
import { detectConfigFromEnv } from './settings';

const config = detectConfigFromEnv();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cv: OpenCv = require('@u4/opencv4nodejs');
if (config.threads > 0) cv.setNumThreads(config.threads);
const detector = createDetector(cv, config.detector, config.modelsDir);
const s3 = s3ClientFromEnv();
const logger = createLogger({ function: 'detect-faces' });

export async function handler(event: unknown, context: LambdaContext): Promise<DetectResult> {
  return detectFaces(event, { cv, detector, s3, log: logger.child({ requestId: context.awsRequestId }) }, config);
}
