/**
 * Environment both functions read through their S3 client (common/s3.ts), written once; each
 * function's contract includes it, so it is parsed at cold start and documented with the rest.
 * Dependency-free.
 */
import { int, str, type EnvSchema } from './schema';

/** The region where none is set (local runs and tests: Lambda always sets AWS_REGION); the stack's default too. */
export const DEFAULT_REGION = 'us-east-1';
/** The region the SDK clients and the local runtime use: AWS_REGION, else DEFAULT_REGION. */
export const regionOf = (env: Record<string, string | undefined>): string => env.AWS_REGION || DEFAULT_REGION;

/** The stable codes of the functions' typed errors (`errorType` of a failed invocation or record). */
export const ERROR_CODES = ['InvalidInput', 'UrlNotAllowed', 'DownloadFailed', 'TooLarge', 'UnsupportedImage', 'StorageFailed', 'ConfigurationError', 'Internal'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The levels of the functions' log lines (Lambda's application log levels, in lower case). */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const S3_CLIENT_ENV = {
  s3Endpoint: {
    env: 'S3_ENDPOINT',
    ...str({ pattern: /^https?:\/\/[^\s/]+(\/\S*)?$/, expected: 'an http(s) URL, such as http://127.0.0.1:4569', doc: 'local runs and tests only: an S3-compatible endpoint, addressed path-style (the stack never sets it)' }),
  },
  // One attempt, not the call: each call as a whole is bounded by its caller's deadline, and the SDK retries a stalled attempt.
  s3AttemptTimeoutMs: { env: 'S3_ATTEMPT_TIMEOUT_MS', ...int(3_000, 100, 60_000, "no answer from S3 for this long ends one attempt of a call (the SDK retries it, up to 5 attempts within the call's deadline), ms") },
} as const satisfies EnvSchema;

/** The SQS client's endpoint (detect-faces sends deferred and poison upload messages). */
export const SQS_CLIENT_ENV = {
  sqsEndpoint: {
    env: 'SQS_ENDPOINT',
    ...str({ pattern: /^https?:\/\/[^\s/]+(\/\S*)?$/, expected: 'an http(s) URL, such as http://127.0.0.1:9324', doc: 'local runs and tests only: an SQS-compatible endpoint (the stack never sets it)' }),
  },
} as const satisfies EnvSchema;
