/**
 * The detect-faces pipeline, top to bottom:
 *   event -> validate -> fetch -> inspect -> decode -> detect -> annotate -> encode -> store -> respond
 * Dependencies come in as arguments (OpenCV, detector, S3 client, logger, clock), so tests and the
 * local server run exactly this code. Nothing is written to S3 unless every earlier step worked.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { asServiceError } from '../common/errors';
import { redactUrl, type Logger } from '../common/logger';
import type { Box } from './detect/boxes';
import type { FaceDetector } from './detect/detectors';
import { download } from './fetch/download';
import { decodeImage, drawBoxes, encodeJpeg } from './output/image';
import { markedImageKey } from './output/keys';
import type { OpenCv } from './opencv';
import { parseRequest } from './request';
import { inspectImage } from './fetch/sniff';
import { storeImage } from './output/store';

export interface DetectSettings {
  readonly bucket: string;
  readonly imagePrefix: string;
  readonly outputAccess: 'public' | 'presigned';
  readonly presignExpiresSeconds: number;
  readonly publicBaseUrl?: string;
  readonly jpegQuality: number;
  readonly maxImageBytes: number;
  readonly maxImagePixels: number;
  readonly downloadTimeoutMs: number;
  readonly allowedLoopbackPrefixes: readonly string[];
}

export interface DetectDeps {
  readonly cv: OpenCv;
  readonly detector: FaceDetector;
  readonly s3: S3Client;
  readonly log: Logger;
  readonly now?: () => Date;
}

export interface DetectResult {
  faces: number;
  outputUrl: string;
  boxes: Box[];
  width: number;
  height: number;
}

type Stage = 'download' | 'decode' | 'detect' | 'annotate' | 'encode' | 'upload';

export async function detectFaces(event: unknown, deps: DetectDeps, settings: DetectSettings): Promise<DetectResult> {
  const timingsMs: Partial<Record<Stage, number>> = {};
  const timed = async <T>(stage: Stage, work: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timingsMs[stage] = Math.round((performance.now() - t0) * 10) / 10;
    }
  };
  const started = performance.now();
  let source = '<invalid>';
  try {
    const { imageUrl } = parseRequest(event);
    source = redactUrl(imageUrl.href);

    const fetched = await timed('download', () =>
      download(imageUrl, {
        maxBytes: settings.maxImageBytes,
        timeoutMs: settings.downloadTimeoutMs,
        allowedLoopbackPrefixes: settings.allowedLoopbackPrefixes,
      }),
    );
    const info = inspectImage(fetched.data, settings.maxImagePixels);
    const image = await timed('decode', () => decodeImage(deps.cv, fetched.data));
    const boxes = await timed('detect', () => deps.detector.detect(image));
    await timed('annotate', () => drawBoxes(deps.cv, image, boxes));
    const jpeg = await timed('encode', () => encodeJpeg(deps.cv, image, settings.jpegQuality));
    const key = markedImageKey(settings.imagePrefix, (deps.now ?? (() => new Date()))());
    const outputUrl = await timed('upload', () =>
      storeImage(deps.s3, key, jpeg, {
        bucket: settings.bucket,
        access: settings.outputAccess,
        presignExpiresSeconds: settings.presignExpiresSeconds,
        publicBaseUrl: settings.publicBaseUrl,
      }),
    );

    const result: DetectResult = { faces: boxes.length, outputUrl, boxes, width: image.cols, height: image.rows };
    deps.log.info('detect-faces done', {
      source,
      format: info.format,
      bytes: fetched.data.length,
      redirects: fetched.redirects,
      width: result.width,
      height: result.height,
      faces: result.faces,
      detector: deps.detector.kind,
      key,
      outputBytes: jpeg.length,
      timingsMs,
      totalMs: Math.round(performance.now() - started),
    });
    return result;
  } catch (err) {
    const error = asServiceError(err);
    const internal = error.code === 'Internal';
    deps.log[internal ? 'error' : 'warn']('detect-faces failed', {
      source,
      code: error.code,
      error: internal ? (err as Error) : error.message,
      timingsMs,
      totalMs: Math.round(performance.now() - started),
    });
    throw error;
  }
}
