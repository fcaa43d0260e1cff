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
    // An attempt ends when S3 sends nothing for s3AttemptTimeoutMs (the socket's idle timeout), and
    // the SDK retries it. Not `requestTimeout`: in @smithy/node-http-handler 4 that one only logs a
    // warning unless `throwOnRequestTimeout`, and it times the whole transfer (a large photo that is
    // still arriving is not stalled). Each call as a whole is bounded by its caller's abort signal.
    requestHandler: { connectionTimeout: 1_000, socketTimeout: s3AttemptTimeoutMs },
    ...(endpoint
      ? { endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    ...extra,
  });
}
