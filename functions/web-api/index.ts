/**
 * Lambda entry of web-api, behind the HTTP API. Per container, once: settings (from the contract),
 * the S3 client and the issuer's key set. Per request: the route (http.ts).
 */
import type { LambdaContext } from '../common/lambda';
import { createLogger } from '../common/logger';
import { s3ClientFromEnv } from '../common/s3';
import { settingsFromEnv } from '../common/settings';
import { remoteKeys } from './auth';
import { WEB_API_ENV } from './contract';
import { handleHttp, type HttpApiEvent, type HttpApiResponse, type HttpDeps } from './http';
import { s3UploadBucket } from './s3-bucket';

const config = settingsFromEnv(WEB_API_ENV);
const logger = createLogger({ function: 'web-api' });
const deps: Omit<HttpDeps, 'log'> = {
  bucket: s3UploadBucket(s3ClientFromEnv(), config.bucket),
  settings: config,
  now: () => new Date(),
  tokens: { issuer: config.issuer, clientId: config.clientId, keys: remoteKeys(config.issuer) },
  page: { authorizeUrl: config.authorizeUrl, tokenUrl: config.tokenUrl, logoutUrl: config.logoutUrl, clientId: config.clientId },
};

export async function handler(event: HttpApiEvent, context: LambdaContext): Promise<HttpApiResponse> {
  return handleHttp(event, { ...deps, log: logger.child({ requestId: context.awsRequestId }) });
}
