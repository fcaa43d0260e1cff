/** detect-faces' environment, read once at cold start: the names, defaults, bounds and descriptions. */
import { S3_CLIENT_ENV, SQS_CLIENT_ENV } from '../../common/contract';
import { int, num, oneOf, str, type EnvSchema, type EnvValues } from '../../common/schema';
import { defaultScoresText } from './operating-points';
import { DETECT_REQUEST, LOWEST_MIN_SCORE } from './request';

/** A key prefix such as "tmp/": one or more safe segments ending with "/", never "" or "/". */
export const KEY_PREFIX = /^(?!.*\/\.\.?\/)[A-Za-z0-9][A-Za-z0-9_.-]*\/(?:[A-Za-z0-9_.-]+\/)*$/;
const KEY_PREFIX_WORDS = 'one or more path segments ending with "/", such as tmp/ (never empty or "/")';

export const OUTPUT_ACCESS = ['public', 'presigned'] as const;
export type OutputAccess = (typeof OUTPUT_ACCESS)[number];
export const DETECTOR_KINDS = ['yunet', 'haar'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

/** Lambda gives a function one full vCPU at this much memory, and CPU in proportion below it. */
export const FULL_VCPU_MEMORY_MB = 1769;

/** A Lambda function's share of one core at `memoryMb` (CPU comes in proportion to memory). */
export function lambdaCpuShare(memoryMb: number): number {
  return Math.min(1, Math.max(0.05, memoryMb / FULL_VCPU_MEMORY_MB));
}

/**
 * The deployment's defaults for uploads, one setting per request field (UPLOAD_MARK=fill, ...):
 * the request's own bounds, unset by default (the request's default applies). Each upload may
 * override them with S3 user metadata (uploads/request.ts).
 */
const UPLOAD_DOC = "(an upload's metadata overrides it); unset: the request's default";
export const UPLOAD_DEFAULTS_ENV = {
  uploadMinFaceSize: { env: 'UPLOAD_MIN_FACE_SIZE', ...int(undefined, DETECT_REQUEST.minFaceSize.min, DETECT_REQUEST.minFaceSize.max, `default \`minFaceSize\` of uploads ${UPLOAD_DOC}`) },
  uploadMinScore: { env: 'UPLOAD_MIN_SCORE', ...num(undefined, DETECT_REQUEST.minScore.min, DETECT_REQUEST.minScore.max, `default \`minScore\` of uploads ${UPLOAD_DOC}`) },
  uploadMaxFaces: { env: 'UPLOAD_MAX_FACES', ...int(undefined, DETECT_REQUEST.maxFaces.min, DETECT_REQUEST.maxFaces.max, `default \`maxFaces\` of uploads ${UPLOAD_DOC}`) },
  uploadMark: { env: 'UPLOAD_MARK', ...oneOf(DETECT_REQUEST.mark.values, undefined, `default \`mark\` of uploads, e.g. \`fill\` ${UPLOAD_DOC}`) },
  uploadShape: { env: 'UPLOAD_SHAPE', ...oneOf(DETECT_REQUEST.shape.values, undefined, `default \`shape\` of redacted uploads ${UPLOAD_DOC}`) },
  uploadPadding: { env: 'UPLOAD_PADDING', ...num(undefined, DETECT_REQUEST.padding.min, DETECT_REQUEST.padding.max, `default \`padding\` of redacted uploads ${UPLOAD_DOC}`) },
  uploadOutput: { env: 'UPLOAD_OUTPUT', ...oneOf(DETECT_REQUEST.output.values, undefined, `default \`output\` of JPEG uploads (\`lossless\` unless set) ${UPLOAD_DOC}`) },
} as const satisfies EnvSchema;

/** The upload setting of each request field. */
export const UPLOAD_DEFAULT_OF = {
  minFaceSize: 'uploadMinFaceSize',
  minScore: 'uploadMinScore',
  maxFaces: 'uploadMaxFaces',
  mark: 'uploadMark',
  shape: 'uploadShape',
  padding: 'uploadPadding',
  output: 'uploadOutput',
} as const satisfies Record<keyof typeof DETECT_REQUEST, keyof typeof UPLOAD_DEFAULTS_ENV>;

/**
 * OpenCV's log level wherever this project starts the addon (the stack, the local runner, the smoke
 * runs, the bench): OpenCV's own warnings would otherwise go to the logs.
 */
export const QUIET_OPENCV_LOG_LEVEL = 'ERROR';

/** The environment detect-faces reads at cold start. */
export const DETECT_ENV = {
  bucket: { env: 'BUCKET_NAME', ...str({ required: true, doc: 'bucket the marked images go to' }) },
  imagePrefix: { env: 'IMAGE_PREFIX', ...str({ default: 'tmp/', pattern: KEY_PREFIX, expected: KEY_PREFIX_WORDS, doc: 'key prefix of the marked images' }) },
  inputPrefix: { env: 'INPUT_PREFIX', ...str({ default: 'inputs/', pattern: KEY_PREFIX, expected: KEY_PREFIX_WORDS, doc: 'key prefix of uploaded photos processed on their own (S3 -> SQS -> this function); the only prefix it reads' }) },
  resultPrefix: { env: 'RESULT_PREFIX', ...str({ default: 'results/', pattern: KEY_PREFIX, expected: KEY_PREFIX_WORDS, doc: 'key prefix of the result records of uploads: `inputs/a/b.jpg` -> `results/a/b.jpg.json`' }) },
  outputPrefix: { env: 'OUTPUT_PREFIX', ...str({ default: 'outputs/', pattern: KEY_PREFIX, expected: KEY_PREFIX_WORDS, doc: 'key prefix of the redacted images of uploads, kept as long as their records: `inputs/a/b.jpg` -> `outputs/a/b.jpg`, `inputs/a/b.png` -> `outputs/a/b.png.jpg`' }) },
  outputAccess: { env: 'OUTPUT_ACCESS', ...oneOf(OUTPUT_ACCESS, 'public', '`public`: plain object URL (public read on the prefix); `presigned`: a presigned GET URL') },
  // Presigned URLs die with the signing role's session; 12 h is the longest that can hold.
  presignExpiresSeconds: { env: 'PRESIGN_EXPIRES_SECONDS', ...int(3600, 60, 43200, 'lifetime of presigned URLs, seconds') },
  publicBaseUrl: { env: 'PUBLIC_BASE_URL', ...str({ doc: 'base of public URLs; unset: `https://<bucket>.s3.<region>.amazonaws.com`, or `https://s3.<region>.amazonaws.com/<bucket>` for a name with dots' }) },
  jpegQuality: { env: 'JPEG_QUALITY', ...int(90, 1, 100, 'JPEG quality of the marked image') },
  maxImageBytes: { env: 'MAX_IMAGE_BYTES', ...int(10 * 1024 * 1024, 1024, 100 * 1024 * 1024, 'largest image body downloaded, bytes') },
  maxImagePixels: { env: 'MAX_IMAGE_PIXELS', ...int(40_000_000, 1024, 200_000_000, 'largest image decoded, width x height (read from the header first); a side over 65500 px is refused whatever this says (outputs are JPEGs)') },
  downloadTimeoutMs: { env: 'DOWNLOAD_TIMEOUT_MS', ...int(10_000, 100, 120_000, 'one deadline for the whole download, redirects included, ms') },
  detector: { env: 'DETECTOR', ...oneOf(DETECTOR_KINDS, 'yunet', 'face detector: YuNet (YuNet_n for `box`, 2023mar for redaction, then 2022mar on crops around its faces; ONNX) or the Haar frontal-face cascade') },
  minScore: { env: 'MIN_SCORE', ...num(undefined, LOWEST_MIN_SCORE, 1, `lowest score of a reported face unless the request says; unset: the mark's (YuNet: ${defaultScoresText()}; Haar: every hit)`) },
  detectBudgetMs: { env: 'DETECT_BUDGET_MS', ...int(10_000, 100, 900_000, 'time the detect stage may take; requests that would need more are served at a larger minimum face size') },
  modelsDir: { env: 'MODELS_DIR', ...str({ default: '/opt/models', doc: 'folder of the detector models (the layer puts them in /opt/models)' }) },
  threads: { env: 'OPENCV_THREADS', ...int(0, 0, 64, "OpenCV worker threads; 0 keeps OpenCV's default") },
  // Read by OpenCV itself, which takes many forms (any case, single letters, per-tag `dnn:DEBUG`): passed through as it is.
  opencvLogLevel: { env: 'OPENCV_LOG_LEVEL', ...str({ doc: `OpenCV's own log level (ERROR, WARNING, INFO, ...); unset: OpenCV's default (WARNING). The stack sets ${QUIET_OPENCV_LOG_LEVEL}` }) },
  allowLoopbackPrefixes: {
    env: 'ALLOW_LOOPBACK_PREFIXES',
    ...str({
      pattern: /^(?:https?:\/\/[^/,\s]+\/(?:[^,\s]*\/)?(?:\s*,\s*https?:\/\/[^/,\s]+\/(?:[^,\s]*\/)?)*)?$/,
      expected: 'comma-separated http(s) URL prefixes, each ending with "/"',
      doc: 'tests and the local runner only: loopback URL prefixes the download may fetch (the stack never sets it)',
    }),
  },
  writeTimeoutMs: { env: 'WRITE_TIMEOUT_MS', ...int(5_000, 100, 60_000, "one deadline for a photo's S3 writes (a direct call's image; an upload's image, record and final check), the SDK's retries included, ms") },
  uploadQueueUrl: { env: 'UPLOAD_QUEUE_URL', ...str({ doc: 'the upload queue: a message deferred for lack of time is sent again to it as a new message (its receives start over)' }) },
  deadLetterQueueUrl: { env: 'DEAD_LETTER_QUEUE_URL', ...str({ doc: "the upload queue's dead-letter queue: an unreadable message goes there once, with its reason" }) },
  ...UPLOAD_DEFAULTS_ENV,
  ...S3_CLIENT_ENV,
  ...SQS_CLIENT_ENV,
} as const satisfies EnvSchema;

export type DetectEnv = EnvValues<typeof DETECT_ENV>;
