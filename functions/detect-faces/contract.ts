/**
 * detect-faces' contract, written once: the event it takes, the result it returns, and the
 * environment it reads. The function parses its environment and its requests from these tables;
 * the stack and the local runner write the environment from them; the README and `help` tables are
 * generated from them (`npm run docs`; a test fails when they drift). Dependency-free: the stack
 * and local/ import this file, never the function's internals.
 */
import { S3_CLIENT_ENV } from '../common/contract';
import { int, num, oneOf, str, type EnvSchema, type EnvValues, type ValueOf } from '../common/schema';

/** A key prefix such as "tmp/": one or more safe segments ending with "/", never "" or "/". */
export const KEY_PREFIX = /^(?!.*\/\.\.?\/)[A-Za-z0-9][A-Za-z0-9_.-]*\/(?:[A-Za-z0-9_.-]+\/)*$/;
const KEY_PREFIX_WORDS = 'one or more path segments ending with "/", such as tmp/ (never empty or "/")';

export const OUTPUT_ACCESS = ['public', 'presigned'] as const;
export type OutputAccess = (typeof OUTPUT_ACCESS)[number];
export const DETECTOR_KINDS = ['yunet', 'haar'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];
/** `box` draws rectangles; the others redact: `fill` (solid, the safe choice), `pixelate`, `blur`. */
export const MARK_MODES = ['box', 'fill', 'pixelate', 'blur'] as const;
export type MarkMode = (typeof MARK_MODES)[number];
export const REDACT_SHAPES = ['ellipse', 'rect'] as const;
export type RedactShape = (typeof REDACT_SHAPES)[number];
/**
 * What a redaction uses when the request names no shape or padding. 0.4: at 0.25 an ellipse left
 * head-shaped blobs our own detector scored up to 0.69 at its most sensitive; at 0.4 none reaches
 * LOWEST_MIN_SCORE, in any mode or shape (README "Redaction").
 */
export const REDACTION_DEFAULTS = { shape: 'ellipse', padding: 0.4 } as const satisfies { shape: RedactShape; padding: number };

/**
 * The lowest `minScore` a setting or request may ask. Under it YuNet reports texture, not faces: at
 * the smallest face size, on the labelled photos and real-size mosaics (102 faces), every face scores
 * 0.5 or more, while none of the 883 other detections between 0.05 and 0.5 is a face (README "Scores").
 * Haar's scores start at 0.5 too (3 neighbours).
 */
export const LOWEST_MIN_SCORE = 0.5;

/**
 * YuNet's `minScore` when neither the request nor the setting names one, on the calibrated score
 * (detect/score.ts): a raw 0.8 for faces 48+ px at the network's input, 0.6 at 28 px and under.
 */
export const YUNET_DEFAULT_MIN_SCORE = 0.8;

/** Lambda gives a function one full vCPU at this much memory, and CPU in proportion below it. */
export const FULL_VCPU_MEMORY_MB = 1769;


/** The environment detect-faces reads at cold start. */
export const DETECT_ENV = {
  bucket: { env: 'BUCKET_NAME', ...str({ required: true, doc: 'bucket the marked images go to' }) },
  imagePrefix: { env: 'IMAGE_PREFIX', ...str({ default: 'tmp/', pattern: KEY_PREFIX, expected: KEY_PREFIX_WORDS, doc: 'key prefix of the marked images' }) },
  inputPrefix: { env: 'INPUT_PREFIX', ...str({ default: 'inputs/', pattern: KEY_PREFIX, expected: KEY_PREFIX_WORDS, doc: 'key prefix of uploaded photos processed on their own (S3 -> SQS -> this function); the only prefix it reads' }) },
  resultPrefix: { env: 'RESULT_PREFIX', ...str({ default: 'results/', pattern: KEY_PREFIX, expected: KEY_PREFIX_WORDS, doc: 'key prefix of the result records of uploads: `inputs/a/b.jpg` -> `results/a/b.jpg.json`' }) },
  outputAccess: { env: 'OUTPUT_ACCESS', ...oneOf(OUTPUT_ACCESS, 'public', '`public`: plain object URL (public read on the prefix); `presigned`: a presigned GET URL') },
  // Presigned URLs die with the signing role's session; 12 h is the longest that can hold.
  presignExpiresSeconds: { env: 'PRESIGN_EXPIRES_SECONDS', ...int(3600, 60, 43200, 'lifetime of presigned URLs, seconds') },
  publicBaseUrl: { env: 'PUBLIC_BASE_URL', ...str({ doc: 'base of public URLs (default `https://<bucket>.s3.amazonaws.com`)' }) },
  jpegQuality: { env: 'JPEG_QUALITY', ...int(90, 1, 100, 'JPEG quality of the marked image') },
  maxImageBytes: { env: 'MAX_IMAGE_BYTES', ...int(10 * 1024 * 1024, 1024, 100 * 1024 * 1024, 'largest image body downloaded, bytes') },
  maxImagePixels: { env: 'MAX_IMAGE_PIXELS', ...int(40_000_000, 1024, 200_000_000, 'largest image decoded, width x height (read from the header first)') },
  downloadTimeoutMs: { env: 'DOWNLOAD_TIMEOUT_MS', ...int(10_000, 100, 120_000, 'one deadline for the whole download, redirects included, ms') },
  detector: { env: 'DETECTOR', ...oneOf(DETECTOR_KINDS, 'yunet', 'face detector: YuNet 2023mar (ONNX) or the Haar frontal-face cascade') },
  minScore: { env: 'MIN_SCORE', ...num(undefined, LOWEST_MIN_SCORE, 1, `lowest confidence of a reported face unless the request says; unset: the detector's own (YuNet ${YUNET_DEFAULT_MIN_SCORE})`) },
  detectBudgetMs: { env: 'DETECT_BUDGET_MS', ...int(10_000, 100, 900_000, 'time the detect stage may take; requests that would need more are served at a larger minimum face size') },
  modelsDir: { env: 'MODELS_DIR', ...str({ default: '/opt/models', doc: 'folder of the detector models (the layer puts them in /opt/models)' }) },
  threads: { env: 'OPENCV_THREADS', ...int(0, 0, 64, "OpenCV worker threads; 0 keeps OpenCV's default") },
  // Read by OpenCV itself, which takes many forms (any case, single letters, per-tag `dnn:DEBUG`): passed through as it is.
  opencvLogLevel: { env: 'OPENCV_LOG_LEVEL', ...str({ doc: "OpenCV's own log level (ERROR, WARNING, INFO, ...); unset: OpenCV's default (WARNING). The stack sets ERROR" }) },
  allowLoopbackPrefixes: {
    env: 'ALLOW_LOOPBACK_PREFIXES',
    ...str({
      pattern: /^(?:https?:\/\/[^/,\s]+\/(?:[^,\s]*\/)?(?:\s*,\s*https?:\/\/[^/,\s]+\/(?:[^,\s]*\/)?)*)?$/,
      expected: 'comma-separated http(s) URL prefixes, each ending with "/"',
      doc: 'tests and the local runner only: loopback URL prefixes the download may fetch (the stack never sets it)',
    }),
  },
  ...S3_CLIENT_ENV,
} as const satisfies EnvSchema;

export type DetectEnv = EnvValues<typeof DETECT_ENV>;

/** Fields of a request besides `imageUrl`. A new option is one entry here (plus its use). */
export const DETECT_REQUEST = {
  minFaceSize: {
    label: 'smallest face (px)',
    ...int(undefined, 10, 100_000, 'smallest face side to find, pixels of the original image; default: 2% of the longer side, at least 20; served larger when the time budget requires (the result says what was used)'),
  },
  minScore: { label: 'lowest score', ...num(undefined, LOWEST_MIN_SCORE, 1, `lowest confidence of a reported face; default: the MIN_SCORE setting, else the detector's own (YuNet ${YUNET_DEFAULT_MIN_SCORE})`) },
  maxFaces: { label: 'at most N faces', ...int(1000, 1, 1000, 'keep the N largest faces') },
  mark: { label: 'mark', ...oneOf(MARK_MODES, 'box', 'how faces are marked: `box` draws rectangles; `fill`, `pixelate` and `blur` redact them (strength scales with the face)') },
  shape: { label: 'shape', ...oneOf(REDACT_SHAPES, undefined, `shape of a redaction (not with \`box\`); default \`${REDACTION_DEFAULTS.shape}\``) },
  padding: { label: 'padding', ...num(undefined, 0, 1, `fraction of the face box added on each side of a redaction (not with \`box\`); default ${REDACTION_DEFAULTS.padding}`) },
} as const;

export type DetectRequestOptions = { -readonly [K in keyof typeof DETECT_REQUEST]?: Exclude<ValueOf<(typeof DETECT_REQUEST)[K]>, undefined> };

export interface DetectEvent extends DetectRequestOptions {
  /** http(s) URL of a JPEG, PNG or WebP image. */
  readonly imageUrl: string;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * Five facial points, named as Rekognition names them; left and right as seen in the image
 * (`eyeLeft` is the eye on the image's left, the person's right eye), as Rekognition's own
 * coordinates place them. Whole original-image pixels, within the image.
 */
export interface Landmarks {
  readonly eyeLeft: Point;
  readonly eyeRight: Point;
  readonly nose: Point;
  readonly mouthLeft: Point;
  readonly mouthRight: Point;
}
export const LANDMARK_NAMES = ['eyeLeft', 'eyeRight', 'nose', 'mouthLeft', 'mouthRight'] as const satisfies readonly (keyof Landmarks)[];

export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly score: number;
  /** YuNet only (Haar finds no landmarks: the field is absent). */
  readonly landmarks?: Landmarks;
}

export interface DetectResult {
  faces: number;
  outputUrl: string;
  /** Original-image pixels, largest first when `maxFaces` cut the list. */
  boxes: FaceBox[];
  width: number;
  height: number;
  /** The smallest face size searched for (original pixels): the request's, the default, or larger when the budget required. */
  minFaceSize: number;
  /** How the faces were marked (also recorded on the stored object as metadata `mark`). */
  mark: MarkMode;
}

/** The body of a failed invocation (Lambda builds it from the error's name and message). */
export interface DetectError {
  errorType: 'InvalidInput' | 'UrlNotAllowed' | 'DownloadFailed' | 'TooLarge' | 'UnsupportedImage' | 'StorageFailed' | 'Internal';
  errorMessage: string;
}

/** An S3 object as an upload names it: the key (decoded) and the ETag of the version that was uploaded. */
export interface UploadSource {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
}

/** `results/<path>.json` of a processed upload: the direct invocation's result plus where it came from. */
export interface UploadResultRecord extends DetectResult {
  source: UploadSource;
}

/** `results/<path>.json` of an upload refused with a typed error (not retried). */
export interface UploadErrorRecord extends DetectError {
  source: UploadSource;
}

/** The SQS event Lambda's event source mapping delivers (the fields used here). */
export interface SqsEvent {
  Records: SqsRecord[];
}

export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle?: string;
  /** An S3 event notification (`{"Records":[...]}`) or S3's `s3:TestEvent`, as JSON. */
  readonly body: string;
  readonly attributes?: { ApproximateReceiveCount?: string; [name: string]: string | undefined };
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN?: string;
}

/** With `ReportBatchItemFailures`: the messages to receive again; every other one is deleted. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The S3 event notification in a message body (the fields used here). Keys are URL-encoded, spaces as "+". */
export interface S3EventNotification {
  Records?: {
    eventSource?: string;
    eventName?: string;
    s3?: { bucket?: { name?: string }; object?: { key?: string; eTag?: string; size?: number } };
  }[];
  /** "s3:TestEvent", sent once when the notification is configured. */
  Event?: string;
}
