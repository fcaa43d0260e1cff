/** The local HTTP API: requests on web-api's routes become payload-2.0 events, answers become responses; other paths fall through. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionRuntime, InvocationResult } from '../../local/lambda-runtime';
import { localHttpApi } from '../../local/http-api';

let server: http.Server;
let origin: string;
const events: Record<string, any>[] = [];
let answer: Partial<InvocationResult> = {};

beforeAll(async () => {
  const runtime = {
    invoke: async (event: unknown) => {
      events.push(event as Record<string, any>);
      return { requestId: 'r', log: '', durationMs: 1, ok: true, result: { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }, ...answer };
    },
  } as unknown as FunctionRuntime;
  const api = localHttpApi({ runtime, exclude: ['GET /'] });
  server = http.createServer((req, res) => {
    api(req, res).then((done) => done || res.writeHead(404).end('elsewhere'), (err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  events.length = 0;
  answer = {};
});

test('a route with a path parameter, a query and headers', async () => {
  const r = await fetch(`${origin}/uploads/a%2Fb.jpg?x=1`, { headers: { authorization: 'Bearer t' } });
  expect(r.status).toBe(200);
  expect(await r.json()).toEqual({ ok: true });
  expect(events[0]).toMatchObject({ version: '2.0', routeKey: 'GET /uploads/{id}', rawPath: '/uploads/a%2Fb.jpg', pathParameters: { id: 'a/b.jpg' }, queryStringParameters: { x: '1' }, headers: { authorization: 'Bearer t' }, isBase64Encoded: false });
});

test('a JSON body as text; the function\'s status and headers as given', async () => {
  answer = { result: { statusCode: 201, headers: { 'content-type': 'application/json', 'x-k': 'v' }, body: '{}' } };
  const r = await fetch(`${origin}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"contentType":"image/png"}' });
  expect([r.status, r.headers.get('x-k')]).toEqual([201, 'v']);
  expect(events[0]).toMatchObject({ routeKey: 'POST /uploads', body: '{"contentType":"image/png"}', isBase64Encoded: false });
});

test('paths and methods off the table, and excluded routes, fall through', async () => {
  for (const [method, path] of [['GET', '/'], ['DELETE', '/uploads'], ['GET', '/uploads/a/b'], ['GET', '/other']]) {
    expect(await (await fetch(`${origin}${path}`, { method })).text()).toBe('elsewhere');
  }
  expect(events).toEqual([]);
});

test('a failed invocation: 500 as API Gateway answers it', async () => {
  answer = { ok: false, result: undefined, error: { errorType: 'Error', errorMessage: 'boom' } };
  const r = await fetch(`${origin}/app`);
  expect(r.status).toBe(500);
  expect(await r.json()).toEqual({ message: 'Internal Server Error' });
});
