/**
 * Lambda entry of detect-faces. Per container, once: settings (from the contract), OpenCV (from the
 * layer, on NODE_PATH), the ports the pipeline runs on. Per invocation: the pipeline, through one of
 * two thin entries: a direct `{imageUrl}` invocation (direct.ts), or an SQS batch of uploads
 * (uploads/batch.ts); both bound their S3 calls by the invocation's remaining time. After each, a
 * full garbage collection if RSS has climbed, and malloc's free pages handed back (common/collect.ts).
 */
import type { LambdaContext } from '../common/lambda';
import { createCollector } from '../common/collect';
import { createLogger } from '../common/logger';
import { recordDetectMetrics } from '../common/metrics';
import { s3ClientFromEnv } from '../common/s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { FULL_VCPU_MEMORY_MB, imageWorkMs, type DetectEvent, type DetectResult } from './contract';
import { createDetector, lambdaCpuShare, networkPixelsForBudget } from './detect/detectors';
import { download } from './fetch/download';
import { loadOpenCv, type Mat } from './opencv';
import { createOpenCvCodec } from './output/image';
import { createLosslessEditor, loadJpegLossless } from './output/lossless';
import { createS3Store } from './output/store';
import { handleDirect } from './direct';
import type { PipelinePorts, PipelineSettings } from './pipeline';
import { detectConfigFromEnv } from './settings';
import { handleUploads, isSqsEvent, type UploadSettings } from './uploads/batch';
import { createS3UploadStore } from './uploads/s3-store';
import { createSqsUploadQueue, sqsClientFromEnv } from './uploads/sqs-queue';
import { DETECT_REQUEST, UPLOAD_DEFAULT_OF, type DetectRequestOptions } from './contract';

const config = detectConfigFromEnv();
const cv = loadOpenCv(config.threads);
const logger = createLogger({ function: 'detect-faces' });
const s3 = s3ClientFromEnv();
// Our coefficient addon from the layer, beside OpenCV; without it every output is re-encoded (each result says so).
const jpegLossless = loadJpegLossless();
if ('unavailable' in jpegLossless) logger.warn('lossless JPEG output unavailable: outputs are re-encoded', { reason: jpegLossless.unavailable });
const storeOptions = { bucket: config.bucket, access: config.outputAccess, presignExpiresSeconds: config.presignExpiresSeconds, publicBaseUrl: config.publicBaseUrl };
const ports: Omit<PipelinePorts<Mat>, 'log' | 'store'> = {
  fetch: download,
  codec: createOpenCvCodec(cv),
  detector: createDetector(cv, config.detector, config.modelsDir),
  lossless: 'unavailable' in jpegLossless ? jpegLossless : createLosslessEditor(jpegLossless),
  metrics: recordDetectMetrics,
  now: () => new Date(),
};
// Lambda sets the memory size (its own variable, not a setting of ours); CPU comes in proportion to it.
const memoryMb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) || FULL_VCPU_MEMORY_MB;
const settings: PipelineSettings = {
  ...config,
  maxNetworkPixels: networkPixelsForBudget(config.detectBudgetMs, lambdaCpuShare(memoryMb)),
};

const uploadSettings: UploadSettings & { detectBudgetMs: number } = {
  ...config,
  ...settings,
  imageWorkMs: imageWorkMs(memoryMb, config.maxImagePixels),
  uploadDefaults: Object.fromEntries(
    (Object.keys(DETECT_REQUEST) as (keyof typeof DETECT_REQUEST)[]).flatMap((field) => {
      const value = config[UPLOAD_DEFAULT_OF[field]];
      return value === undefined ? [] : [[field, value]];
    }),
  ) as DetectRequestOptions,
};
const uploads = createS3UploadStore(s3, config.bucket);
// After a collection, malloc's free pages go back too (our addon's malloc_trim), when the layer has it.
const collector = createCollector('unavailable' in jpegLossless ? {} : { trim: () => jpegLossless.releaseFreeMemory() });
const queue = createSqsUploadQueue(sqsClientFromEnv(config.sqsEndpoint), { queueUrl: config.uploadQueueUrl, deadLetterQueueUrl: config.deadLetterQueueUrl });

/** The contract's events; anything else Lambda hands over is refused by the same validation, by name. */
export async function handler(event: DetectEvent | SQSEvent, context: LambdaContext): Promise<DetectResult | SQSBatchResponse> {
  const log = logger.child({ requestId: context.awsRequestId });
  try {
    if (isSqsEvent(event)) return await handleUploads(event, { ...ports, uploads, queue, log }, uploadSettings, () => context.getRemainingTimeInMillis());
    return await handleDirect(event, { ...ports, store: (deadline) => createS3Store(s3, storeOptions, deadline), log }, { ...settings, writeTimeoutMs: config.writeTimeoutMs }, () => context.getRemainingTimeInMillis());
  } finally {
    const collection = collector.afterInvocation();
    if (collection) log.debug('full garbage collection', { ...collection });
  }
}
