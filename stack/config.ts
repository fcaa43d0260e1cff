/**
 * The stack's settings (the table in stack/settings.ts) read and checked in one place. Values come
 * from cdktf context (`cdktf.json` "context" or `--context`-style overrides in tests) first, then
 * environment variables, then the table's defaults. A bad value fails the synth with a message
 * that names the setting, the value and what is accepted; so do settings that do not fit
 * together (nested prefixes, a photo's worst case over the timeout, shape or padding with box).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseValue, type ValueOf } from '../functions/common/schema';
import { ANSWER_MARGIN_MS, DEADLINE_TERMS, DETECT_ENV, DETECT_REQUEST, imageWorkMs, photoWorstCaseMs, type DeadlineTerms, type DetectorKind, type OutputAccess } from '../functions/detect-faces/contract';
import { layerZipPath } from '../layer/inputs';
import { RATE, rateMs } from './schedule';
import { AUTH_DOMAIN_PREFIX, STACK_SETTINGS, type SettingName } from './settings';

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

/**
 * The read and write deadlines when unset: a third of the timeout (at most 10 s) and a sixth (at
 * most 5 s). The detect budget when unset is what the timeout leaves after every other term of a
 * photo's worst case (contract/deadline.ts), so the defaults fit by construction.
 */
const defaultDownloadMs = (timeoutSeconds: number) => Math.min(DETECT_ENV.downloadTimeoutMs.default, Math.floor((timeoutSeconds * 1000) / 3));
const defaultWriteMs = (timeoutSeconds: number) => Math.min(DETECT_ENV.writeTimeoutMs.default, Math.floor((timeoutSeconds * 1000) / 6));

type SettingValues = { readonly [N in SettingName]: ValueOf<(typeof STACK_SETTINGS)[N]['spec']> };

/** Settings the resolved config holds in another form: artifacts and backend grouped, the budget computed. */
const REGROUPED = ['layerZip', 'detectZip', 'cleanupZip', 'webApiZip', 'stateBucket', 'stateKey', 'stateRegion', 'detectBudgetMs', 'downloadTimeoutMs', 'writeTimeoutMs', 'outputLifecycleDays'] as const satisfies readonly SettingName[];
type Regrouped = (typeof REGROUPED)[number];

/** The resolved settings, each as STACK_SETTINGS describes it (name, default, bounds, meaning). */
export type StackConfig = Omit<SettingValues, Regrouped> & {
  /** STACK_SETTINGS.detectBudgetMs, or what the timeout leaves after the other terms of a photo's worst case. */
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
export function pickSettings<T extends Partial<StackConfig>, K extends keyof T>(config: T, names: readonly K[]): Pick<T, K> {
  return Object.fromEntries(names.map((n) => [n, config[n]])) as Pick<T, K>;
}

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Where stack/opencv-layer.ts puts a layer zip too large for a direct upload. */
export const ARTIFACTS_PREFIX = 'artifacts/';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The project's cdktf.json "context", what `cdktf synth` hands main.ts: for a tool that reads the
 * stack's settings outside the app (layer/needs.ts), so that it sees the architecture the synth will.
 */
export function projectContext(file: string = path.join(__dirname, '..', 'cdktf.json')): Record<string, unknown> {
  const context = (JSON.parse(fs.readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context;
  return context ?? {};
}

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
  const bucketPrefix = get('bucketPrefix');
  const prefixProblems = bucketStartProblems(bucketPrefix);
  if (prefixProblems.length) fail('bucketPrefix', bucketPrefix, `the start of an S3 bucket name: ${prefixProblems.join('; ')}`);

  // Without a prefix of its own, the sign-in domain is made from the stack's name (stack/web-app.ts).
  const stackName = get('stackName');
  if (get('webApp') && get('authDomainPrefix') === undefined && !AUTH_DOMAIN_PREFIX.test(defaultAuthDomainPrefix(stackName, '000000000000'))) {
    fail('stackName', stackName, `a name without "aws", "amazon" or "cognito" while authDomainPrefix is unset: the sign-in domain ${defaultAuthDomainPrefix(stackName, '<account id>')} would hold it, which Cognito refuses (or set authDomainPrefix)`);
  }

  const cleanupSchedule = get('cleanupSchedule');
  if (RATE.test(cleanupSchedule) && rateMs(cleanupSchedule) === undefined) {
    fail('cleanupSchedule', cleanupSchedule, 'a positive rate with a matching unit, e.g. rate(1 hour) or rate(5 minutes)');
  }

  // A presigned link must not outlive its image: cleanup deletes images under imagePrefix from cleanupMaxAgeSeconds on.
  const presignExpiresSeconds = get('presignExpiresSeconds');
  if (get('outputAccess') === 'presigned' && presignExpiresSeconds > get('cleanupMaxAgeSeconds')) {
    fail('presignExpiresSeconds', String(presignExpiresSeconds), `at most cleanupMaxAgeSeconds (${get('cleanupMaxAgeSeconds')}) with outputAccess presigned: cleanup deletes the image from that age on, and its link would answer 404 before it expired`);
  }

  // The lifecycle rule is the net behind cleanup: expiring images younger than cleanup keeps them would overrule it.
  if (get('lifecycleExpirationDays') * 86_400 < get('cleanupMaxAgeSeconds')) {
    fail('lifecycleExpirationDays', String(get('lifecycleExpirationDays')), `at least cleanupMaxAgeSeconds (${get('cleanupMaxAgeSeconds')} s) in days: the rule behind cleanup would delete images cleanup keeps`);
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
    backend = { bucket: stateBucket, key: get('stateKey') ?? `${stackName}/terraform.tfstate`, region: get('stateRegion') ?? region };
  }

  // One photo's worst case (contract/deadline.ts) must fit the timeout, or no photo could be started safely.
  const detectTimeoutSeconds = get('detectTimeoutSeconds');
  const timeoutMs = detectTimeoutSeconds * 1000;
  const others: Omit<DeadlineTerms, 'detectBudgetMs'> = {
    downloadTimeoutMs: get('downloadTimeoutMs') ?? defaultDownloadMs(detectTimeoutSeconds),
    imageWorkMs: imageWorkMs(get('detectMemoryMb'), get('maxImagePixels')),
    writeTimeoutMs: get('writeTimeoutMs') ?? defaultWriteMs(detectTimeoutSeconds),
    answerMarginMs: ANSWER_MARGIN_MS,
  };
  const roomMs = timeoutMs - photoWorstCaseMs({ ...others, detectBudgetMs: 0 });
  const lessTerms = (Object.keys(DEADLINE_TERMS) as (keyof DeadlineTerms)[])
    .filter((term) => term !== 'detectBudgetMs')
    .map((term) => `${DEADLINE_TERMS[term]} (${others[term as keyof typeof others]})`);
  const sum = `the timeout (${timeoutMs} ms) less ${lessTerms.slice(0, -1).join(', ')} and ${lessTerms.at(-1)}`;
  const budgetSet = get('detectBudgetMs');
  if (budgetSet !== undefined && budgetSet > roomMs) fail('detectBudgetMs', String(budgetSet), `at most ${roomMs}: ${sum}`);
  if (budgetSet === undefined && roomMs < DETECT_ENV.detectBudgetMs.min) {
    fail('detectTimeoutSeconds', String(detectTimeoutSeconds), `room for a detect budget of at least ${DETECT_ENV.detectBudgetMs.min} ms; ${sum} leaves ${roomMs} ms (raise the timeout or detectMemoryMb, or lower the deadlines)`);
  }
  const detectBudgetMs = budgetSet ?? roomMs;
  const { downloadTimeoutMs, writeTimeoutMs } = others;

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
  const problems = bucketNameProblems(name);
  if (problems.length) throw new ConfigError(`invalid ${where}: ${JSON.stringify(name)}; an S3 bucket name needs ${problems.join('; ')}`);
}

/** What a bucket name breaks of S3's rules: those of its start, and those of the whole name. */
function bucketNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (!BUCKET_NAME.test(name)) problems.push('3-63 characters of lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) problems.push('not an IP address');
  if (/(-s3alias|--ol-s3|--x-s3|\.mrap)$/.test(name)) problems.push('no reserved suffix');
  return [...bucketStartProblems(name), ...problems];
}

/** What the start of a bucket name (bucketPrefix: Terraform appends digits) breaks of S3's rules. */
function bucketStartProblems(start: string): string[] {
  const problems: string[] = [];
  if (/\.\./.test(start) || /\.-|-\./.test(start)) problems.push('no adjacent dots or dot-hyphen pairs');
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(start)) problems.push('no reserved prefix');
  return problems;
}

/** The sign-in domain's prefix when authDomainPrefix is unset: the stack's name in lower case and the account. */
export function defaultAuthDomainPrefix(stackName: string, accountId: string): string {
  return `${stackName.toLowerCase()}-${accountId}`;
}
