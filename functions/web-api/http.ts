/**
 * API Gateway HTTP API events (payload format 2.0) in, responses out: the route table, the caller
 * check on every signed-in route, and errors as `{code, message}` with their status, in one place.
 */
import type { Logger } from '../common/logger';
import { invalidInput } from '../common/errors';
import { createUpload, getUpload, listUploads, type ApiDeps } from './api';
import { verifyCaller, type TokenCheck } from './auth';
import { APP_PATH, WEB_API_ROUTES, type HttpApiEvent, type HttpApiResponse, type WebApiRouteKey } from './contract';
import { asApiFailure, ApiFailure } from './failures';
import { UnusableSubject } from './ids';
import { appPage, type AppPageConfig } from './page';

export type { HttpApiEvent, HttpApiResponse };

export interface HttpDeps extends ApiDeps {
  readonly tokens: TokenCheck;
  readonly page: AppPageConfig;
  readonly log: Logger;
}

const ROUTE_KEYS: ReadonlySet<string> = new Set(WEB_API_ROUTES.map((r) => r.key));
/** JSON bodies from the page are small; anything larger is not a request of this API. */
const MAX_BODY_BYTES = 16 * 1024;

const json = (statusCode: number, body: unknown): HttpApiResponse => ({
  statusCode,
  // Answers are per user and short-lived (presigned links): never cached on the way.
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

export async function handleHttp(event: HttpApiEvent, deps: HttpDeps): Promise<HttpApiResponse> {
  const started = performance.now();
  let response: HttpApiResponse;
  let sub: string | undefined;
  try {
    if (!ROUTE_KEYS.has(event.routeKey)) throw new ApiFailure(404, 'NotFound', `no route ${event.routeKey}`);
    const route = event.routeKey as WebApiRouteKey;
    switch (route) {
      case 'GET /':
        response = { statusCode: 302, headers: { location: APP_PATH, 'cache-control': 'no-store' }, body: '' };
        break;
      case `GET ${APP_PATH}`: {
        const page = appPage(deps.page, await deps.bucket.cspSources());
        response = {
          statusCode: 200,
          // The page runs only its own inline code and talks only to this API, the sign-in service and the bucket.
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-store',
            'content-security-policy': page.contentSecurityPolicy,
            'referrer-policy': 'no-referrer',
            'x-content-type-options': 'nosniff',
          },
          body: page.html,
        };
        break;
      }
      default: {
        const caller = await verifyCaller(header(event, 'authorization'), deps.tokens);
        sub = caller.sub;
        response = await signedIn(route, caller.sub, event, deps);
      }
    }
  } catch (err) {
    const failure = err instanceof UnusableSubject ? new ApiFailure(401, 'Unauthorized', err.message) : asApiFailure(err);
    if (failure.status >= 500) deps.log.error('request failed', { route: event.routeKey, code: failure.code, error: failure.cause ?? failure });
    response = json(failure.status, failure.body);
  }
  deps.log.info('request', { route: event.routeKey, status: response.statusCode, sub, durationMs: Math.round(performance.now() - started) });
  return response;
}

async function signedIn(route: WebApiRouteKey, sub: string, event: HttpApiEvent, deps: ApiDeps): Promise<HttpApiResponse> {
  switch (route) {
    case 'POST /uploads':
      return json(201, await createUpload(sub, jsonBody(event), deps));
    case 'GET /uploads':
      return json(200, await listUploads(sub, event.queryStringParameters ?? {}, deps));
    case 'GET /uploads/{id}':
      return json(200, await getUpload(sub, event.pathParameters?.id ?? '', deps));
    default:
      throw new ApiFailure(404, 'NotFound', `no route ${route}`);
  }
}

function header(event: HttpApiEvent, name: string): string | undefined {
  // API Gateway lower-cases header names in payload 2.0.
  return event.headers?.[name];
}

function jsonBody(event: HttpApiEvent): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiFailure(413, 'TooLarge', `the request body is over ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidInput('the body must be JSON, such as {"contentType": "image/jpeg"}');
  }
}
