/**
 * Every stack setting, written once: cdktf context key (the name), environment variable, and its
 * value spec (type, default, bounds, meaning). stack/config.ts reads and checks them; the README's
 * and `help`'s tables are generated from this table.
 */
import { CLEANUP_ENV } from '../functions/cleanup/contract';
import { DEFAULT_REGION, LOG_LEVELS } from '../functions/common/contract';
import { bool, int, oneOf, str, type ValueSpec } from '../functions/common/schema';
import { DETECT_ENV, FULL_VCPU_MEMORY_MB, UPLOAD_DEFAULTS_ENV } from '../functions/detect-faces/contract';
import { LAYER_ARCHES } from '../layer/inputs';
import { CRON, RATE } from './schedule';

/** An AWS region's name. */
const REGION = { pattern: /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, expected: 'an AWS region such as us-east-1' };

const DETECT_TIMEOUT_SECONDS = int(30, 3, 900, 'timeout of detect-faces, seconds');

/** Cognito's rule for a user pool domain's prefix. */
export const AUTH_DOMAIN_PREFIX = /^(?!.*(aws|amazon|cognito))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** SQS keeps a message 14 days at most: the dead-letter queues keep theirs that long. */
export const DEAD_LETTER_RETENTION_DAYS = 14;

/**
 * Every stack setting, written once: cdktf context key (the name), environment variable, and its
 * value spec (type, default, bounds, meaning). Settings a function reads too take their spec from
 * that function's contract. The README's and `help`'s tables are generated from this table.
 */
export const STACK_SETTINGS = {
  // The longest name made from it, `<stackName>-cleanup-scheduler-role`, must fit IAM's 64 characters.
  stackName: { env: 'FACE_STACK_NAME', spec: str({ default: 'face-detection', pattern: /^[A-Za-z][A-Za-z0-9-]{0,40}$/, expected: 'letters, digits and hyphens, starting with a letter, at most 41', doc: 'name of the stack, prefix of every resource name; one per account (IAM role names are global)' }) },
  region: { env: 'AWS_REGION', spec: str({ default: DEFAULT_REGION, ...REGION, doc: 'AWS region of the stack' }) },
  bucketName: { env: 'FACE_BUCKET_NAME', spec: str({ expected: "S3's bucket naming rules", doc: 'exact bucket name; unset: Terraform picks a unique name from `bucketPrefix`' }) },
  bucketPrefix: { env: 'FACE_BUCKET_PREFIX', spec: str({ default: 'face-detection-', pattern: /^[a-z0-9][a-z0-9.-]{0,36}$/, expected: "lower-case letters, digits, dots and hyphens, at most 37 characters, within S3's bucket naming rules", doc: 'prefix of the generated bucket name' }) },
  imagePrefix: { env: 'FACE_IMAGE_PREFIX', spec: { ...DETECT_ENV.imagePrefix, doc: 'key prefix of the marked images; the public grant, lifecycle and cleanup are scoped to it' } },
  outputAccess: { env: 'FACE_OUTPUT_ACCESS', spec: DETECT_ENV.outputAccess },
  presignExpiresSeconds: { env: 'FACE_PRESIGN_EXPIRES_SECONDS', spec: { ...DETECT_ENV.presignExpiresSeconds, doc: "lifetime of presigned URLs, seconds (a URL also stops working when the signing role's session ends); with outputAccess presigned, at most cleanupMaxAgeSeconds" } },
  detector: { env: 'FACE_DETECTOR', spec: DETECT_ENV.detector },
  minScore: { env: 'FACE_MIN_SCORE', spec: DETECT_ENV.minScore },
  detectBudgetMs: { env: 'FACE_DETECT_BUDGET_MS', spec: { ...DETECT_ENV.detectBudgetMs, default: undefined, doc: "time the detect stage may take per request, ms; unset: what the timeout leaves after the other terms of a photo's worst case (read and write deadlines, image work allowance, answer margin: docs/uploads.md); set: at most that" } },
  downloadTimeoutMs: { env: 'FACE_DOWNLOAD_TIMEOUT_MS', spec: { ...DETECT_ENV.downloadTimeoutMs, default: undefined, doc: 'one deadline for reading an image (a download, redirects included, or an upload from S3), ms; unset: a third of the timeout, at most 10000' } },
  writeTimeoutMs: { env: 'FACE_WRITE_TIMEOUT_MS', spec: { ...DETECT_ENV.writeTimeoutMs, default: undefined, doc: "one deadline for a photo's S3 writes (a direct call's image; an upload's image, record and checks), the SDK's retries included, ms; unset: a sixth of the timeout, at most 5000" } },
  jpegQuality: { env: 'FACE_JPEG_QUALITY', spec: DETECT_ENV.jpegQuality },
  maxImageBytes: { env: 'FACE_MAX_IMAGE_BYTES', spec: DETECT_ENV.maxImageBytes },
  maxImagePixels: { env: 'FACE_MAX_IMAGE_PIXELS', spec: DETECT_ENV.maxImagePixels },
  detectMemoryMb: { env: 'FACE_DETECT_MEMORY_MB', spec: int(FULL_VCPU_MEMORY_MB, 128, 10240, `memory of detect-faces, MB (${FULL_VCPU_MEMORY_MB} MB is one full vCPU)`) },
  detectTimeoutSeconds: { env: 'FACE_DETECT_TIMEOUT_SECONDS', spec: DETECT_TIMEOUT_SECONDS },
  cleanupMemoryMb: { env: 'FACE_CLEANUP_MEMORY_MB', spec: int(256, 128, 10240, 'memory of cleanup, MB') },
  cleanupTimeoutSeconds: { env: 'FACE_CLEANUP_TIMEOUT_SECONDS', spec: int(300, 10, 900, 'timeout of cleanup, seconds') },
  cleanupSchedule: { env: 'FACE_CLEANUP_SCHEDULE', spec: str({ default: 'rate(1 hour)', pattern: new RegExp(`${RATE.source}|${CRON.source}`), expected: 'rate(N minute[s]|hour[s]|day[s]) or cron(six fields)', doc: 'when cleanup runs (EventBridge Scheduler expression)' }) },
  cleanupMaxAgeSeconds: { env: 'FACE_CLEANUP_MAX_AGE_SECONDS', spec: CLEANUP_ENV.maxAgeSeconds },
  lifecycleExpirationDays: { env: 'FACE_LIFECYCLE_EXPIRATION_DAYS', spec: int(1, 1, 3650, 'lifecycle rule behind the cleanup: marked images expire after this many days (at least cleanupMaxAgeSeconds)') },
  inputPrefix: { env: 'FACE_INPUT_PREFIX', spec: { ...DETECT_ENV.inputPrefix, doc: 'uploads under this prefix are processed on their own (S3 event -> SQS -> detect-faces); must not overlap the image or result prefix' } },
  resultPrefix: { env: 'FACE_RESULT_PREFIX', spec: { ...DETECT_ENV.resultPrefix, doc: 'result records of uploads: `inputs/a/b.jpg` -> `results/a/b.jpg.json`; must not overlap another prefix' } },
  outputPrefix: { env: 'FACE_OUTPUT_PREFIX', spec: { ...DETECT_ENV.outputPrefix, doc: 'redacted images of uploads: `inputs/a/b.jpg` -> `outputs/a/b.jpg` (`.jpg` appended to other names); must not overlap another prefix' } },
  outputLifecycleDays: { env: 'FACE_OUTPUT_LIFECYCLE_DAYS', spec: int(undefined, 1, 3650, 'redacted images under the output prefix expire after this many days; unset: as the result records (`resultLifecycleDays`)') },
  ...uploadDefaultSettings(),
  // A batch runs more than one photo only when the timeout holds that many worst cases (contract/deadline.ts): the rest are deferred.
  uploadBatchSize: { env: 'FACE_UPLOAD_BATCH_SIZE', spec: int(1, 1, 10, "uploads per detect-faces invocation (event source mapping batch size); a photo starts only when its worst case (read deadline + detect budget + image work + write deadline + answer margin) fits the time left, the rest go back to the queue as new messages; one failed photo never fails its batch") },
  // Lambda's own floor for maximum concurrency is 2.
  uploadMaxConcurrency: { env: 'FACE_UPLOAD_MAX_CONCURRENCY', spec: int(10, 2, 1000, 'most detect-faces invocations the upload queue drives at once (event source mapping maximum concurrency)') },
  // AWS advises at least 5 so that throttled batches do not land in the dead-letter queue.
  uploadMaxReceiveCount: { env: 'FACE_UPLOAD_MAX_RECEIVE_COUNT', spec: int(5, 1, 1000, 'deliveries of an upload that keeps failing unexpectedly before it moves to the dead-letter queue') },
  // As long as a dead letter is kept: a redriven message still finds its photo.
  inputLifecycleDays: { env: 'FACE_INPUT_LIFECYCLE_DAYS', spec: int(DEAD_LETTER_RETENTION_DAYS, 1, 3650, `uploaded photos under the input prefix expire after this many days; below ${DEAD_LETTER_RETENTION_DAYS} (how long dead letters are kept) a redriven dead letter may find its photo gone`) },
  resultLifecycleDays: { env: 'FACE_RESULT_LIFECYCLE_DAYS', spec: int(30, 1, 3650, 'result records under the result prefix expire after this many days') },
  alarmEmail: { env: 'FACE_ALARM_EMAIL', spec: str({ pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/, expected: 'an e-mail address', doc: "who is told (through SNS, after confirming the subscription) when uploads land in the dead-letter queue; unset: the alarm only (its topic can be subscribed to later)" }) },
  logRetentionDays: { env: 'FACE_LOG_RETENTION_DAYS', spec: int(14, 1, 3653, "CloudWatch Logs retention, days (one of CloudWatch's periods)") },
  logLevel: { env: 'FACE_LOG_LEVEL', spec: oneOf(LOG_LEVELS, 'info', "lowest level of the functions' log lines: Lambda's application log level (JSON logs), which the functions' logger reads as AWS_LAMBDA_LOG_LEVEL") },
  webApp: { env: 'FACE_WEB_APP', spec: bool(true, 'the web app: a Cognito user pool (users created by an administrator), an HTTPS API with a JWT authorizer, its function and page (sign in, upload, results); false leaves all of it out') },
  webApiRateLimit: { env: 'FACE_WEB_API_RATE_LIMIT', spec: int(20, 1, 10_000, "the web app's API: steady requests per second across all callers (API Gateway throttling; above it, 429)") },
  webApiBurstLimit: { env: 'FACE_WEB_API_BURST_LIMIT', spec: int(40, 1, 5_000, "the web app's API: requests allowed at once above the steady rate (API Gateway's token bucket)") },
  authDomainPrefix: {
    env: 'FACE_AUTH_DOMAIN_PREFIX',
    spec: str({ pattern: AUTH_DOMAIN_PREFIX, expected: 'lower-case letters, digits and hyphens, at most 63, without "aws", "amazon" or "cognito"', doc: "prefix of the sign-in page's address (`https://<prefix>.auth.<region>.amazoncognito.com`), unique in the region; unset: `<stackName>-<account id>` in lower case" }),
  },
  layerS3ThresholdBytes: { env: 'FACE_LAYER_S3_THRESHOLD_BYTES', spec: int(50 * 1024 * 1024, 1, 250 * 1024 * 1024, "layer zips above this size go through an S3 object (Lambda's direct upload limit is 50 MB)") },
  architecture: { env: 'FACE_ARCHITECTURE', spec: oneOf(LAYER_ARCHES, 'x86_64', 'Lambda architecture of every function and the layer: `arm64` (Graviton) costs 20% less per GB-second; build its layer with `npm run build:layer -- --arch arm64`') },
  layerZip: { env: 'FACE_LAYER_ZIP', spec: str({ doc: 'the built layer; unset: `layer/dist/opencv-layer-<architecture>.zip` (`npm run build:layer`)' }) },
  detectZip: { env: 'FACE_DETECT_ZIP', spec: str({ doc: 'a prebuilt detect-faces zip to deploy; unset: bundled while synthesizing' }) },
  cleanupZip: { env: 'FACE_CLEANUP_ZIP', spec: str({ doc: 'a prebuilt cleanup zip to deploy; unset: bundled while synthesizing' }) },
  webApiZip: { env: 'FACE_WEB_API_ZIP', spec: str({ doc: 'a prebuilt web-api zip to deploy; unset: bundled while synthesizing' }) },
  stateBucket: { env: 'FACE_STATE_BUCKET', spec: str({ expected: "S3's bucket naming rules", doc: 'S3 bucket of the Terraform state (S3-native locking); unset: a local state file' }) },
  stateKey: { env: 'FACE_STATE_KEY', spec: str({ pattern: /^[A-Za-z0-9!_.*'()/-]+$/, expected: 'an S3 key', doc: 'key of the Terraform state object; unset: `<stackName>/terraform.tfstate` (one per stack: two stacks on one key would each plan over the other)' }) },
  stateRegion: { env: 'FACE_STATE_REGION', spec: str({ ...REGION, doc: "region of the state bucket; unset: the stack's region" }) },
} as const satisfies Record<string, { env: string; spec: ValueSpec }>;

/** FACE_UPLOAD_MARK=fill ...: the function's UPLOAD_* settings (contract UPLOAD_DEFAULTS_ENV), one per request field. */
function uploadDefaultSettings() {
  const env = (name: string) => `FACE_${name}`;
  const u = UPLOAD_DEFAULTS_ENV;
  return {
    uploadMinFaceSize: { env: env(u.uploadMinFaceSize.env), spec: u.uploadMinFaceSize },
    uploadMinScore: { env: env(u.uploadMinScore.env), spec: u.uploadMinScore },
    uploadMaxFaces: { env: env(u.uploadMaxFaces.env), spec: u.uploadMaxFaces },
    uploadMark: { env: env(u.uploadMark.env), spec: u.uploadMark },
    uploadShape: { env: env(u.uploadShape.env), spec: u.uploadShape },
    uploadPadding: { env: env(u.uploadPadding.env), spec: u.uploadPadding },
    uploadOutput: { env: env(u.uploadOutput.env), spec: u.uploadOutput },
  } as const satisfies Record<keyof typeof UPLOAD_DEFAULTS_ENV, { env: string; spec: ValueSpec }>;
}

export type SettingName = keyof typeof STACK_SETTINGS;
