/**
 * The detect-faces pipeline, top to bottom:
 *   event -> validate -> fetch -> inspect -> decode -> detect -> mark -> encode -> strip metadata -> store -> respond
 * Everything outside pure logic comes in as a port, built once per container by the entry file
 * (index.ts): the fetcher, the image codec and the detector (OpenCV), the store (S3), the logger
 * and the clock. Unit tests run this same code with fakes. Nothing is stored unless every earlier
 * stage worked.
 */
import { asServiceError, invalidInput, Settled } from '../common/errors';
import { redactUrl, type Logger } from '../common/logger';
import type { DetectMetricsInput } from '../common/metrics';
import { REDACTION_DEFAULTS, type DetectRequestOptions, type DetectResult, type FaceBox, type Landmarks } from './contract';
import type { DetectOptions, Detection } from './detect/detectors';
import type { DownloadOptions, Downloaded } from './fetch/download';
import { inspectImage, type ImageInfo } from './fetch/sniff';
import { markedImageKey } from './output/keys';
import { readKeptMetadata, withOnlyKeptMetadata } from './output/metadata';
import type { MarkSpec } from './output/redact-plan';
import { parseRequest } from './request';

/** Downloads the image behind a validated URL, within limits (fetch/download.ts). */
export type Fetcher = (url: URL, limits: DownloadOptions) => Promise<Downloaded>;

/** Decode, mark and encode, over an image type of its own (an OpenCV Mat in production). */
export interface ImageCodec<I> {
  /** Pixels, with the EXIF orientation applied; UnsupportedImage when the bytes do not decode. */
  decode(bytes: Buffer): I;
  size(image: I): { width: number; height: number };
  /** Marks the faces on the image, in place: boxes drawn, or the faces redacted. */
  mark(image: I, boxes: readonly FaceBox[], spec: MarkSpec): void;
  encode(image: I, quality: number): Buffer;
  /** Frees the image's pixels now (native memory is not the garbage collector's to time). */
  release(image: I): void;
}

export interface Detector<I> {
  readonly kind: string;
  detect(image: I, options: DetectOptions): Detection;
}

/** Where marked images go; returns the URL the caller gets. `metadata` is stored with the object. */
export interface ImageStore {
  put(key: string, jpeg: Buffer, metadata: Record<string, string>): Promise<string>;
}

export interface PipelinePorts<I> {
  readonly fetch: Fetcher;
  readonly codec: ImageCodec<I>;
  readonly detector: Detector<I>;
  readonly store: ImageStore;
  readonly log: Logger;
  /** Stage timings and counts, once per image (CloudWatch EMF in production). */
  readonly metrics: (record: DetectMetricsInput) => void;
  readonly now: () => Date;
}

export interface PipelineSettings {
  readonly imagePrefix: string;
  readonly jpegQuality: number;
  readonly maxImageBytes: number;
  readonly maxImagePixels: number;
  readonly downloadTimeoutMs: number;
  readonly allowedLoopbackPrefixes: readonly string[];
  /** Default lowest score when the request names none; undefined: the detector's own. */
  readonly minScore?: number;
  /** Network-input pixels one request's detection may use (from the detect time budget). */
  readonly maxNetworkPixels: number;
}

export type Stage = 'download' | 'decode' | 'detect' | 'annotate' | 'encode' | 'upload';

/** Limits every source of image bytes honours. */
export type FetchLimits = Pick<DownloadOptions, 'maxBytes' | 'timeoutMs'>;

/** What a job's fetch brings: the bytes, and (an upload) the options that come with them. */
export interface Fetched {
  readonly data: Buffer;
  readonly redirects?: number;
  /** An upload's options, from its object metadata (known only once it is read). */
  readonly options?: DetectRequestOptions;
}

/** One image to process: where its bytes come from, where the marked copy goes, and the request's options. */
export interface Job {
  /** For logs: the URL without its query string, or s3://bucket/key. */
  readonly source: string;
  fetch(limits: FetchLimits): Promise<Fetched>;
  /** Key of the marked image. */
  readonly key: string;
  /** Known before the download (a direct call: refused before any byte is fetched); absent: they come with the bytes. */
  readonly options?: DetectRequestOptions;
}

/** A direct invocation: `{"imageUrl": ...}` validated, fetched through the guarded download, stored under a fresh key. */
export function detectFaces<I>(event: unknown, ports: PipelinePorts<I>, settings: PipelineSettings): Promise<DetectResult> {
  return processImage(ports, settings, () => {
    const { imageUrl, ...options } = parseRequest(event);
    return {
      source: redactUrl(imageUrl.href),
      fetch: (limits) => ports.fetch(imageUrl, { ...limits, allowedLoopbackPrefixes: settings.allowedLoopbackPrefixes }),
      key: markedImageKey(settings.imagePrefix, ports.now()),
      options,
    };
  });
}

/**
 * The stages after the entry has said what to process (`prepare` runs inside, so a bad event is
 * logged and mapped like any other failure). One log line per image, success or not.
 */
export async function processImage<I>(ports: PipelinePorts<I>, settings: PipelineSettings, prepare: () => Job): Promise<DetectResult> {
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
  let info: ImageInfo | undefined;
  try {
    const job = prepare();
    source = job.source;
    const early = job.options && resolveMark(job.options);

    const fetched = await timed('download', () => job.fetch({ maxBytes: settings.maxImageBytes, timeoutMs: settings.downloadTimeoutMs }));
    const request = job.options ?? fetched.options ?? {};
    const markSpec = early ?? resolveMark(request);
    info = inspectImage(fetched.data, settings.maxImagePixels);
    const image = await timed('decode', () => ports.codec.decode(fetched.data));
    let decoded: { jpeg: Buffer; boxes: FaceBox[]; width: number; height: number; minFaceSize: number };
    try {
      const { width, height } = ports.codec.size(image);
      if (request.minFaceSize !== undefined && request.minFaceSize > Math.max(width, height)) {
        throw invalidInput(`minFaceSize must be from 10 to the image's longer side (${Math.max(width, height)} px), got ${request.minFaceSize}`);
      }
      const detection = await timed('detect', () =>
        ports.detector.detect(image, {
          minFaceSize: request.minFaceSize,
          minScore: request.minScore ?? settings.minScore,
          maxFaces: request.maxFaces,
          maxNetworkPixels: settings.maxNetworkPixels,
        }),
      );
      const boxes: FaceBox[] = detection.boxes.map(({ x, y, width: w, height: h, score, landmarks }) => ({
        x,
        y,
        width: w,
        height: h,
        score,
        ...(landmarks ? { landmarks: namedLandmarks(landmarks) } : {}),
      }));
      await timed('annotate', () => ports.codec.mark(image, boxes, markSpec));
      // The pixels are upright (decode applied the orientation): the output keeps the ICC profile alone.
      const { icc } = readKeptMetadata(fetched.data, info.format);
      const jpeg = await timed('encode', () => withOnlyKeptMetadata(ports.codec.encode(image, settings.jpegQuality), { icc, orientation: 1 }));
      decoded = { jpeg, boxes, width, height, minFaceSize: detection.minFaceSize };
    } finally {
      ports.codec.release(image);
    }
    const { jpeg, boxes, width, height } = decoded;
    const outputUrl = await timed('upload', () => ports.store.put(job.key, jpeg, { mark: markSpec.mode }));

    const result: DetectResult = { faces: boxes.length, outputUrl, boxes, width, height, minFaceSize: decoded.minFaceSize, mark: markSpec.mode };
    const totalMs = Math.round(performance.now() - started);
    ports.metrics({ timingsMs, faces: result.faces, totalMs, detector: ports.detector.kind, outcome: 'ok' });
    ports.log.info('detect-faces done', {
      source,
      format: info.format,
      bytes: fetched.data.length,
      redirects: fetched.redirects ?? 0,
      width,
      height,
      faces: result.faces,
      minFaceSize: result.minFaceSize,
      mark: markSpec.mode,
      detector: ports.detector.kind,
      key: job.key,
      outputBytes: jpeg.length,
      timingsMs,
      totalMs,
    });
    return result;
  } catch (err) {
    // Not a failure: the entry that raised it logs its outcome.
    if (err instanceof Settled) throw err;
    const error = asServiceError(err);
    const internal = error.code === 'Internal';
    ports.metrics({ timingsMs, totalMs: Math.round(performance.now() - started), detector: ports.detector.kind, outcome: error.code });
    ports.log[internal ? 'error' : 'warn']('detect-faces failed', {
      source,
      ...(info ? { format: info.format, width: info.width, height: info.height } : {}),
      code: error.code,
      error: internal ? (err as Error) : error.message,
      timingsMs,
      totalMs: Math.round(performance.now() - started),
    });
    throw error;
  }
}

/** The request's marking, with a redaction's defaults; shape or padding with `box` is a request error. */
export function resolveMark(request: DetectRequestOptions): MarkSpec {
  const mode = request.mark ?? 'box';
  if (mode === 'box' && (request.shape !== undefined || request.padding !== undefined)) {
    const given = [request.shape !== undefined && 'shape', request.padding !== undefined && 'padding'].filter(Boolean);
    throw invalidInput(`${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} only to a redaction: set mark to fill, pixelate or blur (mark is box)`);
  }
  return { mode, shape: request.shape ?? REDACTION_DEFAULTS.shape, padding: request.padding ?? REDACTION_DEFAULTS.padding };
}

/**
 * YuNet's five points, in the order the network emits them (right eye, left eye, nose tip, right
 * and left mouth corner, "right" being the person's right, on the image's left), under
 * Rekognition's names, which count left and right as the image shows them.
 */
export function namedLandmarks(points: readonly (readonly [number, number])[]): Landmarks {
  const at = (i: number) => ({ x: points[i][0], y: points[i][1] });
  return { eyeLeft: at(0), eyeRight: at(1), nose: at(2), mouthLeft: at(3), mouthRight: at(4) };
}
