/**
 * Every setting of the stack, typed and validated in one place. Values come from cdktf context
 * (`cdktf.json` "context" or `--context`-style overrides in tests) first, then environment
 * variables, then the defaults below. A bad value fails the synth with a message that names the
 * setting, the value and what is accepted.
 */
import { CLEANUP_ENV } from '../functions/cleanup/contract';
import { bool, int, oneOf, parseValue, str, type ValueOf, type ValueSpec } from '../functions/common/schema';
import { DETECT_ENV, DETECT_REQUEST, FULL_VCPU_MEMORY_MB, UPLOAD_DEFAULTS_ENV, type DetectorKind, type OutputAccess } from '../functions/detect-faces/contract';
import { LAYER_ARCHES, layerZipPath } from '../layer/inputs';

export type { DetectorKind, OutputAccess };

export interface StateBackend {
  /** S3 bucket that holds the Terraform state (teams); absent: local state file beside the project. */
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** EventBridge Scheduler's expressions: a rate (the unit singular for 1 only, as AWS requires) or a six-field cron. */
const RATE = /^rate\((\d+) (minutes?|hours?|days?)\)$/;
const CRON = /^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/;
const RATE_UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** A schedule's period: rate(5 minutes) -> 300000; undefined for a cron expression or a rate AWS refuses (rate(0 hours), rate(1 hours)). */
export function rateMs(expression: string): number | undefined {
  const m = RATE.exec(expression.trim());
  if (!m) return undefined;
  const count = Number(m[1]);
  const unit = m[2].replace(/s$/, '') as keyof typeof RATE_UNIT_MS;
  if (count < 1 || (count === 1) !== (m[2] === unit)) return undefined;
  return count * RATE_UNIT_MS[unit];
}

/**
 * One deadline model: a photo's worst case is its read (download) deadline + its detect budget +
 * its write deadline, and it must fit detect-faces' timeout (loadConfig refuses settings where it
 * does not). Defaults: detection half the timeout, the read a third (at most 10 s), the writes a
 * sixth (at most 5 s).
 */
const defaultDownloadMs = (timeoutSeconds: number) => Math.min(DETECT_ENV.downloadTimeoutMs.default, Math.floor((timeoutSeconds * 1000) / 3));
const defaultWriteMs = (timeoutSeconds: number) => Math.min(DETECT_ENV.writeTimeoutMs.default, Math.floor((timeoutSeconds * 1000) / 6));
const DETECT_TIMEOUT_SECONDS = int(30, 3, 900, 'timeout of detect-faces, seconds');

/** SQS keeps a message 14 days at most: the dead-letter queues keep theirs that long. */
export const DEAD_LETTER_RETENTION_DAYS = 14;

/**
 * Every stack setting, written once: cdktf context key (the name), environment variable, and its
 * value spec (type, default, bounds, meaning). Settings a function reads too take their spec from
 * that function's contract. The README's and `help`'s tables are generated from this table.
 */
export const STACK_SETTINGS = {
  stackName: { env: 'FACE_STACK_NAME', spec: str({ default: 'face-detection', pattern: /^[A-Za-z][A-Za-z0-9-]{0,63}$/, expected: 'letters, digits and hyphens, starting with a letter', doc: 'name of the stack, prefix of every resource name' }) },
  region: { env: 'AWS_REGION', spec: str({ default: 'us-east-1', pattern: /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, expected: 'an AWS region such as us-east-1', doc: 'AWS region of the stack' }) },
  bucketName: { env: 'FACE_BUCKET_NAME', spec: str({ expected: "S3's bucket naming rules", doc: 'exact bucket name; unset: Terraform picks a unique name from `bucketPrefix`' }) },
  bucketPrefix: { env: 'FACE_BUCKET_PREFIX', spec: str({ default: 'face-detection-', pattern: /^[a-z0-9][a-z0-9.-]{0,36}$/, expected: 'lower-case letters, digits, dots and hyphens, at most 37 characters', doc: 'prefix of the generated bucket name' }) },
  imagePrefix: { env: 'FACE_IMAGE_PREFIX', spec: { ...DETECT_ENV.imagePrefix, doc: 'key prefix of the marked images; the public grant, lifecycle and cleanup are scoped to it' } },
  outputAccess: { env: 'FACE_OUTPUT_ACCESS', spec: DETECT_ENV.outputAccess },
  presignExpiresSeconds: { env: 'FACE_PRESIGN_EXPIRES_SECONDS', spec: { ...DETECT_ENV.presignExpiresSeconds, doc: "lifetime of presigned URLs, seconds (a URL also stops working when the signing role's session ends)" } },
  detector: { env: 'FACE_DETECTOR', spec: DETECT_ENV.detector },
  minScore: { env: 'FACE_MIN_SCORE', spec: DETECT_ENV.minScore },
  detectBudgetMs: { env: 'FACE_DETECT_BUDGET_MS', spec: { ...DETECT_ENV.detectBudgetMs, default: undefined, doc: 'time the detect stage may take per request, ms; unset: half the timeout; with the read and write deadlines at most the timeout' } },
  downloadTimeoutMs: { env: 'FACE_DOWNLOAD_TIMEOUT_MS', spec: { ...DETECT_ENV.downloadTimeoutMs, default: undefined, doc: 'one deadline for reading an image (a download, redirects included, or an upload from S3), ms; unset: a third of the timeout, at most 10000' } },
  writeTimeoutMs: { env: 'FACE_WRITE_TIMEOUT_MS', spec: { ...DETECT_ENV.writeTimeoutMs, default: undefined, doc: "one deadline for a photo's S3 writes (image, record, checks), the SDK's retries included, ms; unset: a sixth of the timeout, at most 5000" } },
  jpegQuality: { env: 'FACE_JPEG_QUALITY', spec: DETECT_ENV.jpegQuality },
  maxImageBytes: { env: 'FACE_MAX_IMAGE_BYTES', spec: DETECT_ENV.maxImageBytes },
  maxImagePixels: { env: 'FACE_MAX_IMAGE_PIXELS', spec: DETECT_ENV.maxImagePixels },
  detectMemoryMb: { env: 'FACE_DETECT_MEMORY_MB', spec: int(FULL_VCPU_MEMORY_MB, 128, 10240, `memory of detect-faces, MB (${FULL_VCPU_MEMORY_MB} MB is one full vCPU)`) },
  detectTimeoutSeconds: { env: 'FACE_DETECT_TIMEOUT_SECONDS', spec: DETECT_TIMEOUT_SECONDS },
  cleanupMemoryMb: { env: 'FACE_CLEANUP_MEMORY_MB', spec: int(256, 128, 10240, 'memory of cleanup, MB') },
  cleanupTimeoutSeconds: { env: 'FACE_CLEANUP_TIMEOUT_SECONDS', spec: int(300, 10, 900, 'timeout of cleanup, seconds') },
  cleanupSchedule: { env: 'FACE_CLEANUP_SCHEDULE', spec: str({ default: 'rate(1 hour)', pattern: new RegExp(`${RATE.source}|${CRON.source}`), expected: 'rate(N minute[s]|hour[s]|day[s]) or cron(six fields)', doc: 'when cleanup runs (EventBridge Scheduler expression)' }) },
  cleanupMaxAgeSeconds: { env: 'FACE_CLEANUP_MAX_AGE_SECONDS', spec: CLEANUP_ENV.maxAgeSeconds },
  lifecycleExpirationDays: { env: 'FACE_LIFECYCLE_EXPIRATION_DAYS', spec: int(1, 1, 3650, 'lifecycle rule behind the cleanup: marked images expire after this many days') },
  inputPrefix: { env: 'FACE_INPUT_PREFIX', spec: { ...DETECT_ENV.inputPrefix, doc: 'uploads under this prefix are processed on their own (S3 event -> SQS -> detect-faces); must not overlap the image or result prefix' } },
  resultPrefix: { env: 'FACE_RESULT_PREFIX', spec: { ...DETECT_ENV.resultPrefix, doc: 'result records of uploads: `inputs/a/b.jpg` -> `results/a/b.jpg.json`; must not overlap another prefix' } },
  outputPrefix: { env: 'FACE_OUTPUT_PREFIX', spec: { ...DETECT_ENV.outputPrefix, doc: 'redacted images of uploads: `inputs/a/b.jpg` -> `outputs/a/b.jpg` (`.jpg` appended to other names); must not overlap another prefix' } },
  outputLifecycleDays: { env: 'FACE_OUTPUT_LIFECYCLE_DAYS', spec: int(undefined, 1, 3650, 'redacted images under the output prefix expire after this many days; unset: as the result records (`resultLifecycleDays`)') },
  ...uploadDefaultSettings(),
  // A batch runs more than one photo only when the timeout holds that many worst cases (read + budget + write each): the rest are deferred.
  uploadBatchSize: { env: 'FACE_UPLOAD_BATCH_SIZE', spec: int(1, 1, 10, "uploads per detect-faces invocation (event source mapping batch size); a photo starts only when its worst case (read + detect budget + write deadlines) fits the time left, the rest go back to the queue as new messages; one failed photo never fails its batch") },
  // Lambda's own floor for maximum concurrency is 2.
  uploadMaxConcurrency: { env: 'FACE_UPLOAD_MAX_CONCURRENCY', spec: int(10, 2, 1000, 'most detect-faces invocations the upload queue drives at once (event source mapping maximum concurrency)') },
  // AWS advises at least 5 so that throttled batches do not land in the dead-letter queue.
  uploadMaxReceiveCount: { env: 'FACE_UPLOAD_MAX_RECEIVE_COUNT', spec: int(5, 1, 1000, 'deliveries of an upload that keeps failing unexpectedly before it moves to the dead-letter queue') },
  // As long as a dead letter is kept: a redriven message still finds its photo.
  inputLifecycleDays: { env: 'FACE_INPUT_LIFECYCLE_DAYS', spec: int(DEAD_LETTER_RETENTION_DAYS, 1, 3650, `uploaded photos under the input prefix expire after this many days; below ${DEAD_LETTER_RETENTION_DAYS} (how long dead letters are kept) a redriven dead letter may find its photo gone`) },
  resultLifecycleDays: { env: 'FACE_RESULT_LIFECYCLE_DAYS', spec: int(30, 1, 3650, 'result records under the result prefix expire after this many days') },
  alarmEmail: { env: 'FACE_ALARM_EMAIL', spec: str({ pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/, expected: 'an e-mail address', doc: "who is told (through SNS, after confirming the subscription) when uploads land in the dead-letter queue; unset: the alarm only (its topic can be subscribed to later)" }) },
  logRetentionDays: { env: 'FACE_LOG_RETENTION_DAYS', spec: int(14, 1, 3653, "CloudWatch Logs retention, days (one of CloudWatch's periods)") },
  webApp: { env: 'FACE_WEB_APP', spec: bool(true, 'the web app: a Cognito user pool (users created by an administrator), an HTTPS API with a JWT authorizer, its function and page (sign in, upload, results); false leaves all of it out') },
  webApiRateLimit: { env: 'FACE_WEB_API_RATE_LIMIT', spec: int(20, 1, 10_000, "the web app's API: steady requests per second across all callers (API Gateway throttling; above it, 429)") },
  webApiBurstLimit: { env: 'FACE_WEB_API_BURST_LIMIT', spec: int(40, 1, 5_000, "the web app's API: requests allowed at once above the steady rate (API Gateway's token bucket)") },
  authDomainPrefix: {
    env: 'FACE_AUTH_DOMAIN_PREFIX',
    spec: str({ pattern: /^(?!.*(aws|amazon|cognito))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, expected: 'lower-case letters, digits and hyphens, at most 63, without "aws", "amazon" or "cognito"', doc: "prefix of the sign-in page's address (`https://<prefix>.auth.<region>.amazoncognito.com`), unique in the region; unset: `<stackName>-<account id>`" }),
  },
  layerS3ThresholdBytes: { env: 'FACE_LAYER_S3_THRESHOLD_BYTES', spec: int(50 * 1024 * 1024, 1, 250 * 1024 * 1024, "layer zips above this size go through an S3 object (Lambda's direct upload limit is 50 MB)") },
  architecture: { env: 'FACE_ARCHITECTURE', spec: oneOf(LAYER_ARCHES, 'x86_64', 'Lambda architecture of both functions and the layer: `arm64` (Graviton) costs 20% less per GB-second; build its layer with `npm run build:layer -- --arch arm64`') },
  layerZip: { env: 'FACE_LAYER_ZIP', spec: str({ doc: 'the built layer; unset: `layer/dist/opencv-layer-<architecture>.zip` (`npm run build:layer`)' }) },
  detectZip: { env: 'FACE_DETECT_ZIP', spec: str({ doc: 'a prebuilt detect-faces zip to deploy; unset: bundled while synthesizing' }) },
  cleanupZip: { env: 'FACE_CLEANUP_ZIP', spec: str({ doc: 'a prebuilt cleanup zip to deploy; unset: bundled while synthesizing' }) },
  webApiZip: { env: 'FACE_WEB_API_ZIP', spec: str({ doc: 'a prebuilt web-api zip to deploy; unset: bundled while synthesizing' }) },
  stateBucket: { env: 'FACE_STATE_BUCKET', spec: str({ expected: "S3's bucket naming rules", doc: 'S3 bucket of the Terraform state (S3-native locking); unset: a local state file' }) },
  stateKey: { env: 'FACE_STATE_KEY', spec: str({ default: 'face-detection/terraform.tfstate', pattern: /^[A-Za-z0-9!_.*'()/-]+$/, expected: 'an S3 key', doc: 'key of the Terraform state object' }) },
  stateRegion: { env: 'FACE_STATE_REGION', spec: str({ pattern: /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, expected: 'an AWS region such as us-east-1', doc: "region of the state bucket; unset: the stack's region" }) },
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
type SettingValues = { readonly [N in SettingName]: ValueOf<(typeof STACK_SETTINGS)[N]['spec']> };

/** Settings the resolved config holds in another form: artifacts and backend grouped, the budget computed. */
const REGROUPED = ['layerZip', 'detectZip', 'cleanupZip', 'webApiZip', 'stateBucket', 'stateKey', 'stateRegion', 'detectBudgetMs', 'downloadTimeoutMs', 'writeTimeoutMs', 'outputLifecycleDays'] as const satisfies readonly SettingName[];
type Regrouped = (typeof REGROUPED)[number];

/** The resolved settings, each as STACK_SETTINGS describes it (name, default, bounds, meaning). */
export type StackConfig = Omit<SettingValues, Regrouped> & {
  /** STACK_SETTINGS.detectBudgetMs, or half the detect timeout. */
  readonly detectBudgetMs: number;
  /** STACK_SETTINGS.downloadTimeoutMs, or a third of the timeout (at most 10 s). */
  readonly downloadTimeoutMs: number;
  /** STACK_SETTINGS.writeTimeoutMs, or a sixth of the timeout (at most 5 s). */
  readonly writeTimeoutMs: number;
  /** STACK_SETTINGS.outputLifecycleDays, or resultLifecycleDays. */
  readonly outputLifecycleDays: number;
  readonly artifacts: {
    readonly layerZip: string;
    readonly detectZip?: string;
    readonly cleanupZip?: string;
    readonly webApiZip?: string;
  };
  readonly backend?: StateBackend;
};

/** The settings a construct is built from: narrow props, resolved once here. */
export function pickSettings<K extends keyof StackConfig>(config: StackConfig, names: readonly K[]): Pick<StackConfig, K> {
  return Object.fromEntries(names.map((n) => [n, config[n]])) as Pick<StackConfig, K>;
}

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Where stack/opencv-layer.ts puts a layer zip too large for a direct upload. */
const ARTIFACTS_PREFIX = 'artifacts/';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function loadConfig(context: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const raw = (name: SettingName): string | undefined => {
    const value = context[name] ?? env[STACK_SETTINGS[name].env];
    return value === undefined || value === '' ? undefined : String(value);
  };
  const where = (name: SettingName) => `${name} (context) / ${STACK_SETTINGS[name].env} (env)`;
  const fail = (name: SettingName, value: string, expected: string): never => {
    throw new ConfigError(`invalid ${where(name)}: ${JSON.stringify(value)}; expected ${expected}`);
  };
  const get = <N extends SettingName>(name: N): ValueOf<(typeof STACK_SETTINGS)[N]['spec']> => {
    const value = raw(name);
    return parseValue(STACK_SETTINGS[name].spec, value, (expected) => fail(name, value ?? '', expected)) as ValueOf<(typeof STACK_SETTINGS)[N]['spec']>;
  };

  const bucketName = get('bucketName');
  if (bucketName !== undefined) validateBucketName(bucketName, where('bucketName'));

  const cleanupSchedule = get('cleanupSchedule');
  if (RATE.test(cleanupSchedule) && rateMs(cleanupSchedule) === undefined) {
    fail('cleanupSchedule', cleanupSchedule, 'a positive rate with a matching unit, e.g. rate(1 hour) or rate(5 minutes)');
  }

  const logRetentionDays = get('logRetentionDays');
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    fail('logRetentionDays', String(logRetentionDays), `one of CloudWatch's periods: ${LOG_RETENTION_DAYS.join(', ')}`);
  }

  // Nested prefixes would feed outputs back in as uploads (a loop) or let one lifecycle rule cover another's objects.
  const prefixes = (['imagePrefix', 'inputPrefix', 'resultPrefix', 'outputPrefix'] as const).map((name) => ({ name, value: get(name) }));
  for (const a of prefixes) {
    for (const b of prefixes) {
      if (a !== b && b.value.startsWith(a.value)) fail(b.name, b.value, `a prefix that neither contains nor is contained in ${a.name} (${JSON.stringify(a.value)})`);
    }
    // stack/opencv-layer.ts keeps large layer zips under artifacts/: no lifecycle rule, cleanup or trigger may reach them.
    if (a.value.startsWith(ARTIFACTS_PREFIX) || ARTIFACTS_PREFIX.startsWith(a.value)) fail(a.name, a.value, `a prefix that neither contains nor is contained in ${ARTIFACTS_PREFIX} (the layer's S3 objects)`);
  }

  const region = get('region');
  const architecture = get('architecture');
  const stateBucket = get('stateBucket');
  let backend: StateBackend | undefined;
  if (stateBucket !== undefined) {
    validateBucketName(stateBucket, where('stateBucket'));
    backend = { bucket: stateBucket, key: get('stateKey'), region: get('stateRegion') ?? region };
  }

  const detectTimeoutSeconds = get('detectTimeoutSeconds');
  const downloadTimeoutMs = get('downloadTimeoutMs') ?? defaultDownloadMs(detectTimeoutSeconds);
  const writeTimeoutMs = get('writeTimeoutMs') ?? defaultWriteMs(detectTimeoutSeconds);
  const detectBudgetMs = get('detectBudgetMs') ?? Math.floor(detectTimeoutSeconds * 500);
  // One photo's worst case must fit the timeout, or no upload could ever be started safely.
  const roomMs = detectTimeoutSeconds * 1000 - downloadTimeoutMs - writeTimeoutMs;
  if (detectBudgetMs > roomMs) {
    fail('detectBudgetMs', String(detectBudgetMs), `at most ${roomMs}: the timeout (${detectTimeoutSeconds * 1000} ms) less the read deadline downloadTimeoutMs (${downloadTimeoutMs}) and the write deadline writeTimeoutMs (${writeTimeoutMs})`);
  }

  // The deployment's upload options, checked as a request would be: shape or padding only with a redaction.
  const uploadMark = get('uploadMark');
  if ((uploadMark ?? DETECT_REQUEST.mark.default) === 'box') {
    for (const name of ['uploadShape', 'uploadPadding'] as const) {
      const value = get(name);
      if (value !== undefined) fail(name, String(value), `unset while uploadMark is box (shape and padding apply only to fill, pixelate or blur)`);
    }
  }

  const plain = (Object.keys(STACK_SETTINGS) as SettingName[]).filter((name) => !(REGROUPED as readonly SettingName[]).includes(name));
  return {
    ...(Object.fromEntries(plain.map((name) => [name, get(name)])) as Omit<SettingValues, Regrouped>),
    detectBudgetMs,
    downloadTimeoutMs,
    writeTimeoutMs,
    outputLifecycleDays: get('outputLifecycleDays') ?? get('resultLifecycleDays'),
    artifacts: { layerZip: get('layerZip') ?? layerZipPath(architecture), detectZip: get('detectZip'), cleanupZip: get('cleanupZip'), webApiZip: get('webApiZip') },
    backend,
  };
}

/** S3's bucket naming rules (general purpose buckets). */
export function validateBucketName(name: string, where = 'bucket name'): void {
  const problems: string[] = [];
  if (!BUCKET_NAME.test(name)) problems.push('3-63 characters of lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit');
  if (/\.\./.test(name) || /\.-|-\./.test(name)) problems.push('no adjacent dots or dot-hyphen pairs');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) problems.push('not an IP address');
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|--x-s3|\.mrap)$/.test(name)) problems.push('no reserved prefix or suffix');
  if (problems.length) throw new ConfigError(`invalid ${where}: ${JSON.stringify(name)}; an S3 bucket name needs ${problems.join('; ')}`);
}
