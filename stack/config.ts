/**
 * Every setting of the stack, typed and validated in one place. Values come from cdktf context
 * (`cdktf.json` "context" or `--context`-style overrides in tests) first, then environment
 * variables, then the defaults below. A bad value fails the synth with a message that names the
 * setting, the value and what is accepted.
 */
import { CLEANUP_ENV } from '../functions/cleanup/contract';
import { parseValue, type ValueOf, type ValueSpec } from '../functions/common/schema';
import { DETECT_ENV, type DetectorKind, type OutputAccess } from '../functions/detect-faces/contract';
import { LAYER_ZIP } from '../layer/inputs';

export type { DetectorKind, OutputAccess };

export interface StateBackend {
  /** S3 bucket that holds the Terraform state (teams); absent: local state file beside the project. */
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
}

export interface StackConfig {
  /** Name of the cdktf stack (and folder under cdktf.out/stacks). @default "face-detection" */
  readonly stackName: string;
  /** AWS region. @default "us-east-1" */
  readonly region: string;
  /** Exact bucket name; absent: Terraform picks a unique name from `bucketPrefix`. */
  readonly bucketName?: string;
  /** @default "face-detection-" */
  readonly bucketPrefix: string;
  /** Key prefix of the marked images; the public grant, lifecycle and cleanup are scoped to it. @default "tmp/" */
  readonly imagePrefix: string;
  /** `public`: plain object URL + public read on the prefix; `presigned`: no public grant. @default "public" */
  readonly outputAccess: OutputAccess;
  /** Lifetime of presigned URLs. @default 3600 */
  readonly presignExpiresSeconds: number;
  /** @default "yunet" */
  readonly detector: DetectorKind;
  /** Lowest confidence of a reported face unless a request says. @default the detector's own (YuNet 0.8) */
  readonly minScore?: number;
  /** Time detect-faces' detect stage may take per request. @default half the function timeout */
  readonly detectBudgetMs: number;
  /** @default 90 */
  readonly jpegQuality: number;
  /** Largest image body the function downloads. @default 10485760 (10 MiB) */
  readonly maxImageBytes: number;
  /** Largest image (width x height) the function decodes. @default 40000000 */
  readonly maxImagePixels: number;
  /** 1769 MB is one full vCPU. @default 1769 */
  readonly detectMemoryMb: number;
  /** @default 30 */
  readonly detectTimeoutSeconds: number;
  /** @default 256 */
  readonly cleanupMemoryMb: number;
  /** @default 300 */
  readonly cleanupTimeoutSeconds: number;
  /** Cleanup schedule, an EventBridge Scheduler `rate(...)` or `cron(...)` expression. @default "rate(1 hour)" */
  readonly cleanupSchedule: string;
  /** Marked images younger than this survive a cleanup run. @default 3600 */
  readonly cleanupMaxAgeSeconds: number;
  /** Lifecycle safety net behind the cleanup. @default 1 */
  readonly lifecycleExpirationDays: number;
  /** CloudWatch Logs retention. @default 14 */
  readonly logRetentionDays: number;
  /** Layer zips above this size go through an S3 object (Lambda's direct upload limit is 50 MB). @default 52428800 */
  readonly layerS3ThresholdBytes: number;
  /** Built artifacts the stack deploys. */
  readonly artifacts: {
    readonly layerZip: string;
    /** A prebuilt detect-faces zip; absent: bundled from source while synthesizing. */
    readonly detectZip?: string;
    /** A prebuilt cleanup zip; absent: bundled from source while synthesizing. */
    readonly cleanupZip?: string;
  };
  readonly backend?: StateBackend;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Where a setting may come from: cdktf context key, environment variable. */
interface Source {
  context: string;
  env: string;
}

const S = (context: string, env: string): Source => ({ context, env });

const sources = {
  stackName: S('stackName', 'FACE_STACK_NAME'),
  region: S('region', 'AWS_REGION'),
  bucketName: S('bucketName', 'FACE_BUCKET_NAME'),
  bucketPrefix: S('bucketPrefix', 'FACE_BUCKET_PREFIX'),
  imagePrefix: S('imagePrefix', 'FACE_IMAGE_PREFIX'),
  outputAccess: S('outputAccess', 'FACE_OUTPUT_ACCESS'),
  presignExpiresSeconds: S('presignExpiresSeconds', 'FACE_PRESIGN_EXPIRES_SECONDS'),
  detector: S('detector', 'FACE_DETECTOR'),
  minScore: S('minScore', 'FACE_MIN_SCORE'),
  detectBudgetMs: S('detectBudgetMs', 'FACE_DETECT_BUDGET_MS'),
  jpegQuality: S('jpegQuality', 'FACE_JPEG_QUALITY'),
  maxImageBytes: S('maxImageBytes', 'FACE_MAX_IMAGE_BYTES'),
  maxImagePixels: S('maxImagePixels', 'FACE_MAX_IMAGE_PIXELS'),
  detectMemoryMb: S('detectMemoryMb', 'FACE_DETECT_MEMORY_MB'),
  detectTimeoutSeconds: S('detectTimeoutSeconds', 'FACE_DETECT_TIMEOUT_SECONDS'),
  cleanupMemoryMb: S('cleanupMemoryMb', 'FACE_CLEANUP_MEMORY_MB'),
  cleanupTimeoutSeconds: S('cleanupTimeoutSeconds', 'FACE_CLEANUP_TIMEOUT_SECONDS'),
  cleanupSchedule: S('cleanupSchedule', 'FACE_CLEANUP_SCHEDULE'),
  cleanupMaxAgeSeconds: S('cleanupMaxAgeSeconds', 'FACE_CLEANUP_MAX_AGE_SECONDS'),
  lifecycleExpirationDays: S('lifecycleExpirationDays', 'FACE_LIFECYCLE_EXPIRATION_DAYS'),
  logRetentionDays: S('logRetentionDays', 'FACE_LOG_RETENTION_DAYS'),
  layerS3ThresholdBytes: S('layerS3ThresholdBytes', 'FACE_LAYER_S3_THRESHOLD_BYTES'),
  layerZip: S('layerZip', 'FACE_LAYER_ZIP'),
  detectZip: S('detectZip', 'FACE_DETECT_ZIP'),
  cleanupZip: S('cleanupZip', 'FACE_CLEANUP_ZIP'),
  stateBucket: S('stateBucket', 'FACE_STATE_BUCKET'),
  stateKey: S('stateKey', 'FACE_STATE_KEY'),
  stateRegion: S('stateRegion', 'FACE_STATE_REGION'),
} as const;

export type SettingName = keyof typeof sources;

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/;

export function loadConfig(context: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const raw = (name: SettingName): string | undefined => {
    const { context: key, env: envName } = sources[name];
    const value = context[key] ?? env[envName];
    return value === undefined || value === '' ? undefined : String(value);
  };
  const where = (name: SettingName) => `${sources[name].context} (context) / ${sources[name].env} (env)`;
  const fail = (name: SettingName, value: string, expected: string): never => {
    throw new ConfigError(`invalid ${where(name)}: ${JSON.stringify(value)}; expected ${expected}`);
  };
  const int = (name: SettingName, fallback: number, min: number, max: number): number => {
    const value = raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      fail(name, value, `a whole number from ${min} to ${max}`);
    }
    return n;
  };
  // A setting that a function reads too: its default and bounds come from the function's contract.
  const fromContract = <S extends ValueSpec>(name: SettingName, spec: S): ValueOf<S> => {
    const value = raw(name);
    return parseValue(spec, value, (expected) => fail(name, value ?? '', expected));
  };
  const str = (name: SettingName, fallback: string, pattern: RegExp, expected: string): string => {
    const value = raw(name) ?? fallback;
    if (!pattern.test(value)) fail(name, value, expected);
    return value;
  };

  const bucketName = raw('bucketName');
  if (bucketName !== undefined) validateBucketName(bucketName, where('bucketName'));
  const bucketPrefix = str('bucketPrefix', 'face-detection-', /^[a-z0-9][a-z0-9.-]{0,36}$/, 'lower-case letters, digits, dots and hyphens, at most 37 characters');

  const cleanupSchedule = raw('cleanupSchedule') ?? 'rate(1 hour)';
  const rate = RATE.exec(cleanupSchedule);
  if (!(rate || CRON.test(cleanupSchedule))) {
    fail('cleanupSchedule', cleanupSchedule, 'rate(N minute[s]|hour[s]|day[s]) or cron(six fields)');
  }
  if (rate && (Number(rate[1]) < 1 || (Number(rate[1]) === 1) !== !rate[2].endsWith('s'))) {
    fail('cleanupSchedule', cleanupSchedule, 'a positive rate with a matching unit, e.g. rate(1 hour) or rate(5 minutes)');
  }

  const logRetentionDays = int('logRetentionDays', 14, 1, 3653);
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    fail('logRetentionDays', String(logRetentionDays), `one of CloudWatch's periods: ${LOG_RETENTION_DAYS.join(', ')}`);
  }

  const stateBucket = raw('stateBucket');
  const region = str('region', 'us-east-1', REGION, 'an AWS region such as us-east-1');
  let backend: StateBackend | undefined;
  if (stateBucket !== undefined) {
    validateBucketName(stateBucket, where('stateBucket'));
    backend = {
      bucket: stateBucket,
      key: str('stateKey', 'face-detection/terraform.tfstate', /^[A-Za-z0-9!_.*'()/-]+$/, 'an S3 key'),
      region: str('stateRegion', region, REGION, 'an AWS region such as us-east-1'),
    };
  }

  const detectTimeoutSeconds = int('detectTimeoutSeconds', 30, 3, 900);
  // Detection gets half the function's time by default (download, decode, encode and upload share
  // the rest); a larger budget than 80% of the timeout would only turn slow requests into timeouts.
  const budgetCeiling = Math.floor(detectTimeoutSeconds * 1000 * 0.8);
  const detectBudgetMs = raw('detectBudgetMs') === undefined ? Math.floor(detectTimeoutSeconds * 500) : int('detectBudgetMs', 0, DETECT_ENV.detectBudgetMs.min, budgetCeiling);
  const cleanupTimeoutSeconds = int('cleanupTimeoutSeconds', 300, 10, 900);

  return {
    stackName: str('stackName', 'face-detection', /^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'letters, digits and hyphens, starting with a letter'),
    region,
    bucketName,
    bucketPrefix,
    imagePrefix: fromContract('imagePrefix', DETECT_ENV.imagePrefix),
    outputAccess: fromContract('outputAccess', DETECT_ENV.outputAccess),
    presignExpiresSeconds: fromContract('presignExpiresSeconds', DETECT_ENV.presignExpiresSeconds),
    detector: fromContract('detector', DETECT_ENV.detector),
    minScore: fromContract('minScore', DETECT_ENV.minScore),
    jpegQuality: fromContract('jpegQuality', DETECT_ENV.jpegQuality),
    maxImageBytes: fromContract('maxImageBytes', DETECT_ENV.maxImageBytes),
    maxImagePixels: fromContract('maxImagePixels', DETECT_ENV.maxImagePixels),
    detectMemoryMb: int('detectMemoryMb', 1769, 128, 10240),
    detectTimeoutSeconds,
    detectBudgetMs,
    cleanupMemoryMb: int('cleanupMemoryMb', 256, 128, 10240),
    cleanupTimeoutSeconds,
    cleanupSchedule,
    cleanupMaxAgeSeconds: fromContract('cleanupMaxAgeSeconds', CLEANUP_ENV.maxAgeSeconds),
    lifecycleExpirationDays: int('lifecycleExpirationDays', 1, 1, 3650),
    logRetentionDays,
    layerS3ThresholdBytes: int('layerS3ThresholdBytes', 50 * 1024 * 1024, 1, 250 * 1024 * 1024),
    artifacts: {
      layerZip: raw('layerZip') ?? LAYER_ZIP,
      detectZip: raw('detectZip'),
      cleanupZip: raw('cleanupZip'),
    },
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
