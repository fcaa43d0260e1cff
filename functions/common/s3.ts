/**
 * The S3 client both functions use. On Lambda it is the plain regional client; for a local
 * S3-compatible endpoint (S3_CLIENT_ENV) it uses path-style URLs and sends checksums only when
 * required, which keeps streamed uploads byte-exact on servers without aws-chunked support.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { regionOf, S3_CLIENT_ENV } from './contract';
import { settingsFromEnv } from './settings';

export function s3ClientFromEnv(env: Record<string, string | undefined> = process.env, extra: S3ClientConfig = {}): S3Client {
  const { s3Endpoint: endpoint, s3AttemptTimeoutMs } = settingsFromEnv(S3_CLIENT_ENV, env);
  return new S3Client({
    region: regionOf(env),
    // Throttling and 5xx are retried with backoff by the SDK's standard retry strategy.
    maxAttempts: 5,
    // Without these a dropped connection waits for the Lambda timeout instead of failing the attempt;
    // each call as a whole is bounded by its caller's abort signal (the upload deadlines).
    requestHandler: { connectionTimeout: 1_000, requestTimeout: s3AttemptTimeoutMs },
    ...(endpoint
      ? { endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    ...extra,
  });
}
