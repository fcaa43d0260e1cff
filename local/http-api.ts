/**
 * API Gateway's HTTP API on loopback, for `npm run serve`: requests that match one of web-api's
 * routes (its contract's table) become payload-2.0 events for the real bundle, and its answer
 * becomes the HTTP response. Tokens are not checked here: web-api checks them itself, with the
 * same code on AWS (where the JWT authorizer checks them first).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WEB_API_ROUTES, type HttpApiEvent, type HttpApiResponse } from '../functions/web-api/contract';
import type { FunctionRuntime } from './lambda-runtime';

/** API Gateway's own limit on a request body (HTTP APIs: 10 MB); web-api refuses far smaller JSON itself. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** `GET /uploads/{id}` -> a matcher of method and path giving the path parameters. */
function compile(routeKey: string): (method: string, path: string) => Record<string, string> | undefined {
  const [method, pattern] = routeKey.split(' ');
  const names: string[] = [];
  const source = pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([A-Za-z]+)\\?\}/g, (_whole, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const regex = new RegExp(`^${source}$`);
  return (m, path) => {
    if (m !== method) return undefined;
    const match = regex.exec(path);
    if (!match) return undefined;
    return Object.fromEntries(names.map((name, i) => [name, safeDecode(match[i + 1])]));
  };
}

const safeDecode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

export interface LocalHttpApiOptions {
  readonly runtime: FunctionRuntime;
  /** Route keys served elsewhere locally (`GET /` is the local tool page). */
  readonly exclude?: readonly string[];
  readonly onRequest?: (routeKey: string, status: number, durationMs: number) => void;
}

/** A request handler: true when it answered (a route of the API), false to let others answer. */
export function localHttpApi(options: LocalHttpApiOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const routes = WEB_API_ROUTES.filter((r) => !options.exclude?.includes(r.key)).map((r) => ({ key: r.key, match: compile(r.key) }));
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    let routeKey: string | undefined;
    let pathParameters: Record<string, string> | undefined;
    for (const route of routes) {
      pathParameters = route.match(req.method ?? 'GET', url.pathname);
      if (pathParameters) {
        routeKey = route.key;
        break;
      }
    }
    if (!routeKey) return false;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Request Entity Too Large' }));
        return true;
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const contentType = String(req.headers['content-type'] ?? '');
    // As API Gateway does: text bodies as they are, anything else base64.
    const text = body.length === 0 || /^(application\/json|text\/)/.test(contentType);
    // Payload 2.0 as API Gateway sends it (the fields web-api reads are typed by HttpApiEvent).
    const event: HttpApiEvent & Record<string, unknown> = {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v])),
      queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
      pathParameters: Object.keys(pathParameters!).length ? pathParameters : undefined,
      body: body.length ? body.toString(text ? 'utf8' : 'base64') : undefined,
      isBase64Encoded: !text,
      requestContext: { requestId: randomUUID(), http: { method: req.method, path: url.pathname } } as HttpApiEvent['requestContext'],
    };
    const started = performance.now();
    const result = await options.runtime.invoke(event);
    const answer = result.result as HttpApiResponse | undefined;
    if (!result.ok || !answer || typeof answer.statusCode !== 'number') {
      // What API Gateway answers when the integration fails.
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Internal Server Error' }));
    } else {
      res.writeHead(answer.statusCode, answer.headers ?? {}).end(answer.body ?? '');
    }
    options.onRequest?.(routeKey, res.statusCode, Math.round(performance.now() - started));
    return true;
  };
}
