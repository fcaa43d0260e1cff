/**
 * Environment both functions read through their S3 client (common/s3.ts), written once; each
 * function's contract includes it, so it is parsed at cold start and documented with the rest.
 * Dependency-free.
 */
import { int, str, type EnvSchema } from './schema';

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
