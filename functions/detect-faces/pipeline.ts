/**
 * The detect-faces pipeline, top to bottom:
 *   event -> validate -> fetch -> inspect -> decode -> detect -> mark -> encode -> strip metadata -> store -> respond
 * where a JPEG's marks go into its own DCT coefficients (output/lossless.ts) unless the request asks
 * for a re-encode or the coefficient path refuses the file. On that path the file is entropy-decoded
 * once: its coefficients are read first, and detection's reduced image is made from them as they are.
 * Everything outside pure logic comes in as a port, built once per container by the entry file
 * (index.ts): the fetcher, the image codec and the detector (OpenCV), the store (S3), the logger
 * and the clock. Unit tests run this same code with fakes. Nothing is stored unless every earlier
 * stage worked.
 */
import { asServiceError, invalidInput, Settled } from '../common/errors';
import { redactUrl, type Logger } from '../common/logger';
import type { DetectMetricsInput } from '../common/metrics';
import { LANDMARK_NAMES, REDACTION_DEFAULTS, type DetectRequestOptions, type OutputMode, type OutputWritten, type DetectResult, type FaceBox, type Landmarks } from './contract';
import type { DetectOptions, Detection } from './detect/detectors';
import { levelSize } from './detect/plan';
import type { DownloadOptions, Downloaded } from './fetch/download';
import { inspectImage, type ImageFormat, type ImageInfo } from './fetch/sniff';
import { markedImageKey } from './output/keys';
import type { LosslessEditor, LosslessImage, ReducedImage } from './output/lossless';
import { readJpegMetadata, readKeptMetadata, withOnlyKeptMetadata, type KeptMetadata, type Orientation } from './output/metadata';
import { swapsAxes } from './output/orientation';
import type { MarkSpec } from './output/redact-plan';
import { parseRequest, refuseShapeWithBox } from './request';

/** Downloads the image behind a validated URL, within limits (fetch/download.ts). */
export type Fetcher = (url: URL, limits: DownloadOptions) => Promise<Downloaded>;

/** The largest `level` ImageCodec.decode takes: libjpeg scales a JPEG's decode by 1/2, 1/4 or 1/8. */
export const MAX_DECODE_LEVEL = 3;

/** Decode, mark and encode, over an image type of its own (an OpenCV Mat in production). */
export interface ImageCodec<I> {
  /**
   * Pixels, with the EXIF orientation applied; UnsupportedImage when the bytes do not decode.
   * `level` (JPEG only): decoded at 1/2^level of the size, sides ceil(n / 2^level). @default 0
   * `orientation` (JPEG only): the EXIF orientation the pipeline read from its segments, applied as
   * given; absent: read from the bytes.
   */
  decode(bytes: Buffer, level?: number, orientation?: Orientation): I;
  size(image: I): { width: number; height: number };
  /** Marks the faces on the image, in place: boxes drawn, or the faces redacted. */
  mark(image: I, boxes: readonly FaceBox[], spec: MarkSpec): void;
  encode(image: I, quality: number): Buffer;
  /** Frees the image's pixels now (native memory is not the garbage collector's to time). */
  release(image: I): void;
  /** An image of these BGR pixels, copied (the bytes are released when it returns); absent: detection's image is always decoded by `decode`. */
  fromBgr?(bgr: ReducedImage): I;
}

export interface Detector<I> {
  readonly kind: string;
  detect(image: I, options: DetectOptions): Detection;
  /** The coarsest decode the detection of a photo of this size can start from (FaceDetector.finestLevel); absent: full size. */
  finestLevel?(width: number, height: number, options: DetectOptions): number;
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
  /** The coefficient path for JPEG outputs; absent (or its addon unavailable): every output is re-encoded. */
  readonly lossless?: LosslessEditor | { readonly unavailable: string };
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
    const photo = readPhoto(fetched.data, info.format);
    const detectOptions: DetectOptions = {
      // What the faces are for picks the detector's operating point, unless a minimum score is given.
      mark: markSpec.mode,
      minFaceSize: request.minFaceSize,
      minScore: request.minScore ?? settings.minScore,
      maxFaces: request.maxFaces,
      maxNetworkPixels: settings.maxNetworkPixels,
    };
    const plan = decodePlan(ports, info, photo, request.output, detectOptions);
    const view = { width: plan.width, height: plan.height };
    const first = await timed('decode', () => detectionImage(ports, photo, request.output, plan.level, view));
    let image: I | undefined = first.image;
    // The coefficients read with detection's image: held through detection, then handed to writeMarked, which closes them.
    let opened = first.opened;
    // The full-size pixels, decoded only if a re-encode needs them after a reduced decode.
    let full: I | undefined = plan.level === 0 ? image : undefined;
    let decoded: { jpeg: Buffer; output: OutputWritten; refused?: string; boxes: FaceBox[]; width: number; height: number; minFaceSize: number; overBudget?: boolean };
    try {
      if (plan.level > 0) {
        const got = ports.codec.size(image);
        if (got.width !== levelSize(plan.width, plan.level) || got.height !== levelSize(plan.height, plan.level)) {
          // Not the reduced size the header promised: detect on the whole photo instead.
          ports.codec.release(image);
          image = undefined; // not released again if the decode below throws
          image = full = await timed('decode', () => decodePhoto(ports.codec, photo));
          plan.level = 0;
        }
      }
      const { width, height } = plan.level > 0 ? view : ports.codec.size(image);
      if (request.minFaceSize !== undefined && request.minFaceSize > Math.max(width, height)) {
        throw invalidInput(`minFaceSize must be from 10 to the image's longer side (${Math.max(width, height)} px), got ${request.minFaceSize}`);
      }
      const reduced = plan.level > 0 ? { level: plan.level, width, height } : undefined;
      const detected = image;
      const detection = await timed('detect', () => ports.detector.detect(detected, { ...detectOptions, ...(reduced ? { reduced } : {}) }));
      if (image !== full) {
        // Only detection reads a reduced image: freed before the marks.
        ports.codec.release(image);
        image = undefined;
      }
      const boxes: FaceBox[] = detection.boxes.map(({ x, y, width: w, height: h, score, landmarks }) => ({
        x,
        y,
        width: w,
        height: h,
        score,
        ...(landmarks ? { landmarks: namedLandmarks(landmarks) } : {}),
      }));
      const pixels = async () => (full ??= await timed('decode', () => decodePhoto(ports.codec, photo)));
      const handed = opened;
      opened = undefined;
      const written = await writeMarked(ports, timed, { photo, pixels, width, height, boxes, spec: markSpec, wanted: request.output, quality: settings.jpegQuality, opened: handed, refused: first.refused });
      decoded = { ...written, boxes, width, height, minFaceSize: detection.minFaceSize, overBudget: detection.overBudget };
    } finally {
      if (image !== undefined && image !== full) ports.codec.release(image);
      if (full !== undefined) ports.codec.release(full);
      opened?.close();
    }
    const { jpeg, output, boxes, width, height } = decoded;
    const outputUrl = await timed('upload', () => ports.store.put(job.key, jpeg, { mark: markSpec.mode, output }));

    const result: DetectResult = { faces: boxes.length, outputUrl, boxes, width, height, minFaceSize: decoded.minFaceSize, mark: markSpec.mode, output };
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
      // The time budget could not buy even the coarsest plan: served anyway, at its cost.
      ...(decoded.overBudget ? { overBudget: true } : {}),
      mark: markSpec.mode,
      output,
      ...(decoded.refused ? { losslessRefused: decoded.refused } : {}),
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

/** The fetched photo and what the pipeline read of its metadata (readPhoto), once per request. */
export interface Photo {
  readonly data: Buffer;
  readonly format: ImageFormat;
  /** What an output keeps; a JPEG's orientation also turns its decode and places the coefficient path's marks. */
  readonly kept: KeptMetadata;
  /** Why the coefficient path refuses a JPEG (segments that do not parse, tables after its scan): the codec decodes it, the output is re-encoded. */
  readonly notForCoefficients?: string;
}

/** The photo's metadata read: for a JPEG, the request's one parse of its segments. */
function readPhoto(data: Buffer, format: ImageFormat): Photo {
  return format === 'jpeg' ? { data, format, ...readJpegMetadata(data) } : { data, format, kept: readKeptMetadata(data, format) };
}

/** The codec's decode of the photo at `level`; a JPEG turned by the orientation readPhoto read. */
function decodePhoto<I>(codec: ImageCodec<I>, photo: Photo, level = 0): I {
  return codec.decode(photo.data, level, photo.format === 'jpeg' ? photo.kept.orientation : undefined);
}

/**
 * What to decode for detection: a JPEG whose marks go into its coefficients needs no full-size
 * pixels, so detection reads it at the coarsest level the detection's plan reads (at most 1/8,
 * libjpeg's smallest DCT scaling; detectionImage); anything a re-encode may mark is decoded whole. `width` x `height`: the
 * photo as the viewer sees it (the header's size, turned by the EXIF orientation).
 */
export function decodePlan(
  ports: Pick<PipelinePorts<unknown>, 'detector' | 'lossless'>,
  info: ImageInfo,
  photo: Photo,
  wanted: OutputMode | undefined,
  options: DetectOptions,
): { level: number; width: number; height: number } {
  const whole = { level: 0, width: info.width, height: info.height };
  if (!('editor' in (coefficientPath(ports, photo, wanted) ?? {})) || !ports.detector.finestLevel) return whole;
  const [width, height] = swapsAxes(photo.kept.orientation) ? [info.height, info.width] : [info.width, info.height];
  return { level: Math.min(MAX_DECODE_LEVEL, ports.detector.finestLevel(width, height, options)), width, height };
}

/**
 * Detection's image at `level`. On the coefficient path (a JPEG marked in its coefficients, read
 * at a reduced level, with a codec that takes BGR pixels) the file is opened first and the image is
 * the one libjpeg made from the coefficients as it read them: one entropy decode for both, the
 * coefficients returned for the marks. Otherwise, or when the coefficient path refuses the file
 * (`refused` says why; the output is then re-encoded), the codec decodes it.
 */
function detectionImage<I>(
  ports: PipelinePorts<I>,
  photo: Photo,
  wanted: OutputMode | undefined,
  level: number,
  view: { width: number; height: number },
): { image: I; opened?: LosslessImage; refused?: string } {
  const path = level > 0 && ports.codec.fromBgr ? coefficientPath(ports, photo, wanted) : undefined;
  if (!path || !('editor' in path)) return { image: decodePhoto(ports.codec, photo, level) };
  let opened: LosslessImage;
  try {
    opened = path.editor.open(photo.data, view, level, photo.kept.orientation);
  } catch (err) {
    return { image: decodePhoto(ports.codec, photo, level), refused: (err as Error).message };
  }
  try {
    return { image: opened.reduced((bgr) => ports.codec.fromBgr!(bgr)), opened };
  } catch (err) {
    opened.close();
    throw err;
  }
}

/**
 * The coefficient path for this photo: its editor, or why it cannot be taken (none configured, the
 * addon not loaded, readJpegMetadata's refusal); undefined when it is not asked for (not a JPEG, or
 * `reencode` asked).
 */
function coefficientPath(ports: Pick<PipelinePorts<unknown>, 'lossless'>, photo: Photo, wanted: OutputMode | undefined): { editor: LosslessEditor } | { refused: string } | undefined {
  if (photo.format !== 'jpeg' || (wanted ?? 'lossless') !== 'lossless') return undefined;
  const editor = ports.lossless;
  if (!editor) return { refused: 'no coefficient path is configured' };
  if ('unavailable' in editor) return { refused: editor.unavailable };
  return photo.notForCoefficients === undefined ? { editor } : { refused: photo.notForCoefficients };
}

interface MarkedImage<I> {
  readonly photo: Photo;
  /** The full-size pixels, as the viewer sees them (decoded on first call when detection had a reduced decode). */
  readonly pixels: () => Promise<I>;
  /** The decoded image's size: the photo as the viewer sees it. */
  readonly width: number;
  readonly height: number;
  readonly boxes: readonly FaceBox[];
  readonly spec: MarkSpec;
  readonly wanted: OutputMode | undefined;
  readonly quality: number;
  /** The coefficients, already read with detection's image: writeMarked closes them, once written or refused. */
  readonly opened?: LosslessImage;
  /** Why the coefficient path refused the file when it was opened for detection: re-encoded. */
  readonly refused?: string;
}

/**
 * The stored JPEG, carrying only the metadata output/metadata.ts keeps: for a JPEG (unless
 * `reencode` is asked), the source with the marks written into its coefficients and its
 * orientation kept; otherwise, or when the coefficient path refuses the file (`refused` says why),
 * the marked pixels re-encoded upright.
 */
async function writeMarked<I>(
  ports: PipelinePorts<I>,
  timed: <T>(stage: Stage, work: () => T | Promise<T>) => Promise<T>,
  m: MarkedImage<I>,
): Promise<{ jpeg: Buffer; output: OutputWritten; refused?: string }> {
  const { kept } = m.photo;
  const path = coefficientPath(ports, m.photo, m.wanted);
  let refused = m.refused ?? (path && 'refused' in path ? path.refused : undefined);
  if (path && 'editor' in path && m.refused === undefined) {
    const { editor } = path;
    // Closed on every way out (before a re-encode decodes the photo whole).
    let edit = m.opened;
    try {
      const marked = await timed('annotate', () => {
        const e = edit ?? editor.open(m.photo.data, { width: m.width, height: m.height }, undefined, kept.orientation);
        edit = e;
        e.mark(m.boxes, m.spec);
        return e;
      });
      const jpeg = await timed('encode', () => withOnlyKeptMetadata(marked.save(), { icc: kept.icc, orientation: marked.orientation }));
      return { jpeg, output: 'lossless' };
    } catch (err) {
      // The decoded pixels are still here: a re-encode serves the request, and the log says why.
      refused = (err as Error).message;
    } finally {
      edit?.close();
    }
  }
  const image = await m.pixels();
  await timed('annotate', () => ports.codec.mark(image, m.boxes, m.spec));
  // The pixels are upright (decode applied the orientation): the output keeps the ICC profile alone.
  const jpeg = await timed('encode', () => withOnlyKeptMetadata(ports.codec.encode(image, m.quality), { icc: kept.icc, orientation: 1 }));
  return { jpeg, output: 'reencoded', ...(refused ? { refused } : {}) };
}

/** The request's marking, with a redaction's defaults; shape or padding with `box` is a request error. */
export function resolveMark(request: DetectRequestOptions): MarkSpec {
  const mode = request.mark ?? 'box';
  refuseShapeWithBox({ ...request, mark: mode });
  return { mode, shape: request.shape ?? REDACTION_DEFAULTS.shape, padding: request.padding ?? REDACTION_DEFAULTS.padding };
}

/** Box.landmarks (YuNet's five points, in LANDMARK_NAMES order) under their names. */
export function namedLandmarks(points: readonly (readonly [number, number])[]): Landmarks {
  return Object.fromEntries(LANDMARK_NAMES.map((name, i) => [name, { x: points[i][0], y: points[i][1] }])) as unknown as Landmarks;
}
