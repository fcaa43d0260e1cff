/** The HTTP layer: routes, the caller check on every signed-in route, errors as {code, message} with their status. */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { UploadBucket } from '../../../functions/web-api/api';
import { APP_PATH, WEB_API_ROUTES } from '../../../functions/web-api/contract';
import { handleHttp, type HttpApiEvent, type HttpDeps } from '../../../functions/web-api/http';
import { memoryLogger } from '../../helpers/log';

const ISSUER = 'http://127.0.0.1:9001/local-auth';
let deps: HttpDeps;
let token: (sub: string) => Promise<string>;
let lines: Record<string, unknown>[];

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'RS256' }] });
  token = (sub) => new SignJWT({ token_use: 'access', client_id: 'app' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setSubject(sub).setIssuer(ISSUER).setIssuedAt().setExpirationTime('5m').sign(privateKey);
  const bucket: UploadBucket = {
    cspSources: async () => 'https://b.s3.us-east-1.amazonaws.com',
    presignPost: async (p) => ({ url: 'http://s3/b', fields: { key: p.key } }),
    readJson: async () => undefined,
    presignGet: async (key) => `http://s3/b/${key}`,
    list: async () => ({ objects: [], truncated: false }),
  };
  deps = {
    bucket,
    now: () => new Date(),
    settings: { inputPrefix: 'inputs/', resultPrefix: 'results/', outputPrefix: 'outputs/', maxImageBytes: 1000, downloadUrlSeconds: 300, pageSize: 50 },
    tokens: { issuer: ISSUER, clientId: 'app', keys },
    page: { authorizeUrl: `${ISSUER}/authorize`, tokenUrl: `${ISSUER}/token`, clientId: 'app' },
    log: undefined as never,
  };
});

beforeEach(() => {
  const memory = memoryLogger();
  lines = memory.lines;
  deps = { ...deps, log: memory.log };
});

const call = (event: Partial<HttpApiEvent> & { routeKey: string }) => handleHttp(event, deps);
const body = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;

test.each(WEB_API_ROUTES.filter((r) => r.auth).map((r) => r.key))('%s without a token: 401 Unauthorized, JSON', async (routeKey) => {
  const r = await call({ routeKey, pathParameters: { id: 'x' }, body: '{}' });
  expect(r.statusCode).toBe(401);
  expect(r.headers['content-type']).toBe('application/json');
  expect(body(r)).toEqual({ code: 'Unauthorized', message: 'sign in first: the request carries no access token' });
});

test('the page needs no token; the root sends you to it', async () => {
  const page = await call({ routeKey: `GET ${APP_PATH}` });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page.body).toContain(`"authorizeUrl":"${ISSUER}/authorize"`);
  // Only its own inline script and style run; it talks to itself, the token endpoint and the bucket.
  const csp = Object.fromEntries(page.headers['content-security-policy'].split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
  expect(csp['default-src']).toEqual(["'none'"]);
  expect(csp['script-src']).toEqual([expect.stringMatching(/^'sha256-[A-Za-z0-9+/]+=*'$/)]);
  expect(csp['style-src']).toEqual([expect.stringMatching(/^'sha256-/)]);
  expect(csp['connect-src']).toEqual(["'self'", 'http://127.0.0.1:9001', 'https://b.s3.us-east-1.amazonaws.com']);
  expect(csp['img-src']).toEqual(["'self'", 'blob:', 'https://b.s3.us-east-1.amazonaws.com']);
  expect(csp['frame-ancestors']).toEqual(["'none'"]);
  const inline = /<script>([\s\S]*)<\/script>/.exec(page.body)![1];
  expect(csp['script-src'][0]).toBe(`'sha256-${createHash('sha256').update(inline).digest('base64')}'`);
  expect(await call({ routeKey: 'GET /' })).toMatchObject({ statusCode: 302, headers: { location: APP_PATH } });
});

test('a signed-in POST /uploads: 201 with a ticket under the caller\'s folder; logged with the subject', async () => {
  const r = await call({ routeKey: 'POST /uploads', headers: { authorization: `Bearer ${await token('alice-sub')}` }, body: JSON.stringify({ contentType: 'image/jpeg' }) });
  expect(r.statusCode).toBe(201);
  expect((body(r).fields as Record<string, string>).key).toMatch(/^inputs\/alice-sub\/[0-9a-f-]+\.jpg$/);
  expect(lines.at(-1)).toMatchObject({ message: 'request', route: 'POST /uploads', status: 201, sub: 'alice-sub' });
});

test('a base64 body (API Gateway sends some so) is read too; bad JSON is 400; a huge body 413', async () => {
  const auth = { authorization: `Bearer ${await token('alice-sub')}` };
  const b64 = await call({ routeKey: 'POST /uploads', headers: auth, isBase64Encoded: true, body: Buffer.from('{"contentType":"image/png"}').toString('base64') });
  expect(b64.statusCode).toBe(201);
  const bad = await call({ routeKey: 'POST /uploads', headers: auth, body: '{"contentType":' });
  expect([bad.statusCode, body(bad).code]).toEqual([400, 'InvalidInput']);
  const huge = await call({ routeKey: 'POST /uploads', headers: auth, body: JSON.stringify({ contentType: 'image/png', pad: 'x'.repeat(20_000) }) });
  expect([huge.statusCode, body(huge).code]).toEqual([413, 'TooLarge']);
});

test('GET /uploads/{id}: 404 NotFound while processing, 400 for a path trick', async () => {
  const auth = { authorization: `Bearer ${await token('alice-sub')}` };
  const missing = await call({ routeKey: 'GET /uploads/{id}', headers: auth, pathParameters: { id: '01901234-5678-8abc-8def-0123456789ab.jpg' } });
  expect([missing.statusCode, body(missing).code]).toEqual([404, 'NotFound']);
  const trick = await call({ routeKey: 'GET /uploads/{id}', headers: auth, pathParameters: { id: '../bob/x.jpg' } });
  expect([trick.statusCode, body(trick).code]).toEqual([400, 'InvalidInput']);
});

test('a subject that cannot be a folder name: 401, never a folder', async () => {
  const r = await call({ routeKey: 'GET /uploads', headers: { authorization: `Bearer ${await token('../bob')}` } });
  expect([r.statusCode, body(r).code]).toEqual([401, 'Unauthorized']);
});

test('an unknown route: 404; an unexpected failure: 500 Internal without its details, logged', async () => {
  expect((await call({ routeKey: 'DELETE /uploads' })).statusCode).toBe(404);
  const broken = { ...deps, bucket: { ...deps.bucket, list: async () => Promise.reject(new TypeError('secret detail')) } };
  const r = await handleHttp({ routeKey: 'GET /uploads', headers: { authorization: `Bearer ${await token('alice-sub')}` } }, broken);
  expect(r.statusCode).toBe(500);
  expect(body(r)).toEqual({ code: 'Internal', message: 'internal error; see the function logs for the request id' });
  expect(lines.find((l) => l.message === 'request failed')).toMatchObject({ code: 'Internal', error: { name: 'TypeError', message: 'secret detail' } });
});
