/**
 * The local Invoke API over fake function runtimes (no layer, no function process): names and ARNs,
 * the log tail, and the handler on an ephemeral loopback port: status codes, headers and bodies
 * for each invocation type, errors, unknown functions and the payload limit. The real CLI and SDK
 * against `npm run serve`: integration/local-aws.test.ts.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { functionNameFrom, lambdaApiHandler, logTail, MAX_EVENT_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES, MAX_RESPONSE_BYTES } from '../../local/lambda-api';
import type { FunctionRuntime, InvocationResult } from '../../local/lambda-runtime';

describe('functionNameFrom', () => {
  test.each([
    ['detect-faces', 'detect-faces'],
    ['detect-faces:$LATEST', 'detect-faces'],
    ['detect-faces:live', 'detect-faces'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:detect-faces', 'detect-faces'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:detect-faces:7', 'detect-faces'],
    ['arn:aws-cn:lambda:cn-north-1:123456789012:function:detect-faces', 'detect-faces'],
    ['arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Adetect-faces%3A%24LATEST', 'detect-faces'],
    ['123456789012:function:detect-faces', 'detect-faces'],
    ['123456789012:function:detect-faces:live', 'detect-faces'],
    ['function:detect-faces', 'detect-faces'],
  ])('%s -> %s', (raw, name) => {
    expect(functionNameFrom(raw)).toBe(name);
  });

  test('a malformed percent-encoding throws (the handler answers 400)', () => {
    expect(() => functionNameFrom('detect%E0%A4%A')).toThrow(URIError);
  });
});

describe('logTail', () => {
  test('a short log whole, base64', () => {
    expect(Buffer.from(logTail('START\nhello\n'), 'base64').toString()).toBe('START\nhello\n');
  });

  test('the last 4 KB by default', () => {
    const log = `${'a'.repeat(5000)}${'b'.repeat(4000)}`;
    const tail = Buffer.from(logTail(log), 'base64').toString();
    expect(tail).toBe(`${'a'.repeat(96)}${'b'.repeat(4000)}`);
  });

  test('cut at a character boundary: a split multi-byte character is dropped, not half-sent', () => {
    // 'é' is 2 bytes: the last 5 bytes start in the middle of one.
    const tail = Buffer.from(logTail('ééé', 5), 'base64');
    expect(tail.toString('utf8')).toBe('éé');
    expect(tail.length).toBe(4);
    // '€' is 3 bytes: the last 4 bytes are one continuation byte too many.
    expect(Buffer.from(logTail('x€€', 4), 'base64').toString('utf8')).toBe('€');
  });
});

describe('lambdaApiHandler', () => {
  const REGION = 'eu-west-1';
  const invocations: { name: string; type: string; result: InvocationResult }[] = [];
  let onInvocationSeen: (() => void) | undefined;
  const events: unknown[] = [];
  let next: () => Promise<InvocationResult>;

  const ok = (result: unknown, log = ''): InvocationResult => ({ requestId: 'req-1', ok: true, result, log, durationMs: 12.345 });
  const fake = (memoryMb?: number) =>
    ({
      options: { name: 'fake', bundle: '-', environment: {}, timeoutSeconds: 3, memoryMb },
      invoke: (event: unknown) => {
        events.push(event);
        return next();
      },
    }) as unknown as FunctionRuntime;

  const handler = lambdaApiHandler({
    functions: new Map([
      ['detect-faces', fake(256)],
      ['cleanup', fake()],
    ]),
    region: REGION,
    onInvocation: (name, type, result) => {
      invocations.push({ name, type, result });
      onInvocationSeen?.();
    },
  });
  const server = http.createServer((req, res) => {
    handler(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(418, { 'content-type': 'text/plain' }).end('not the API');
      },
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  let base: string;

  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  beforeEach(() => {
    invocations.length = 0;
    events.length = 0;
    onInvocationSeen = undefined;
    next = async () => ok({ faces: 1 });
  });

  const invokePath = (fn: string) => `/2015-03-31/functions/${fn}/invocations`;
  const post = (fn: string, body = '{}', headers: Record<string, string> = {}) => fetch(`${base}${invokePath(fn)}`, { method: 'POST', body, headers });

  test('RequestResponse (the default): 200, the result as JSON, request id and version headers; the event as parsed', async () => {
    const res = await post('detect-faces', '{"imageUrl":"http://127.0.0.1/a.jpg"}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ faces: 1 });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-amzn-requestid')).toBe('req-1');
    expect(res.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(res.headers.get('x-amz-function-error')).toBeNull();
    expect(res.headers.get('x-amz-log-result')).toBeNull();
    expect(events).toEqual([{ imageUrl: 'http://127.0.0.1/a.jpg' }]);
    expect(invocations).toEqual([{ name: 'detect-faces', type: 'RequestResponse', result: ok({ faces: 1 }) }]);
  });

  test('an empty payload is the event {}; a result of undefined is null', async () => {
    next = async () => ok(undefined);
    const res = await post('cleanup', '  ');
    expect(await res.text()).toBe('null');
    expect(events).toEqual([{}]);
  });

  test('by ARN with a qualifier, URL-encoded as the SDK sends it', async () => {
    const res = await post(encodeURIComponent(`arn:aws:lambda:${REGION}:000000000000:function:cleanup:$LATEST`));
    expect(res.status).toBe(200);
    expect(invocations.map((i) => i.name)).toEqual(['cleanup']);
  });

  test('a handler error: 200 with X-Amz-Function-Error: Unhandled, errorType and errorMessage, an empty trace', async () => {
    next = async () => ({ requestId: 'req-2', ok: false, error: { errorType: 'InvalidInput', errorMessage: 'imageUrl is required' }, log: '', durationMs: 1 });
    const res = await post('detect-faces');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.json()).toEqual({ errorType: 'InvalidInput', errorMessage: 'imageUrl is required', trace: [] });
  });

  test('a result over 6 MB: the function error Function.ResponseSizeTooLarge, as Lambda answers, not the payload', async () => {
    next = async () => ok({ big: 'x'.repeat(MAX_RESPONSE_BYTES) });
    const res = await post('detect-faces');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.json()).toEqual({ errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).` });
  });

  test('X-Amz-Log-Type: Tail: the log and a REPORT line (duration, billed, memory), base64', async () => {
    next = async () => ok({}, 'START RequestId: req-1\nhello\n');
    const res = await post('detect-faces', '{}', { 'x-amz-log-type': 'Tail' });
    const log = Buffer.from(res.headers.get('x-amz-log-result') ?? '', 'base64').toString();
    expect(log).toBe('START RequestId: req-1\nhello\nREPORT RequestId: req-1\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tFunction: detect-faces\n');
    // A function without a configured size reports Lambda's default, 128 MB.
    const other = await post('cleanup', '{}', { 'x-amz-log-type': 'tail' });
    expect(Buffer.from(other.headers.get('x-amz-log-result') ?? '', 'base64').toString()).toContain('\tMemory Size: 128 MB\t');
  });

  test('DryRun: 204 with a request id, and the function is not run', async () => {
    const res = await post('detect-faces', '{}', { 'x-amz-invocation-type': 'DryRun' });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(events).toEqual([]);
  });

  test('Event: 202 before the function finishes; its outcome goes to onInvocation', async () => {
    let finish!: (r: InvocationResult) => void;
    next = () => new Promise((resolve) => (finish = resolve));
    const seen = new Promise<void>((resolve) => (onInvocationSeen = resolve));
    const res = await post('detect-faces', '{"n":1}', { 'x-amz-invocation-type': 'Event' });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.text()).toBe('');
    expect(events).toEqual([{ n: 1 }]);
    expect(invocations).toEqual([]);
    finish(ok({ done: true }));
    await seen;
    expect(invocations).toEqual([{ name: 'detect-faces', type: 'Event', result: ok({ done: true }) }]);
  });

  test('Event whose run rejects: reported to onInvocation as Runtime.Error, never an unhandled rejection', async () => {
    next = async () => {
      throw new Error('the process died');
    };
    const seen = new Promise<void>((resolve) => (onInvocationSeen = resolve));
    expect((await post('detect-faces', '{}', { 'x-amz-invocation-type': 'Event' })).status).toBe(202);
    await seen;
    expect(invocations).toEqual([
      { name: 'detect-faces', type: 'Event', result: { requestId: '-', ok: false, error: { errorType: 'Runtime.Error', errorMessage: 'Error: the process died' }, log: '', durationMs: 0 } },
    ]);
  });

  const errorOf = async (res: Response) => ({ status: res.status, type: res.headers.get('x-amzn-errortype'), body: (await res.json()) as { Type: string; message: string } });

  test('refusals: each with its status, X-Amzn-ErrorType and a User message; nothing is run', async () => {
    expect(await errorOf(await post('nope'))).toEqual({
      status: 404,
      type: 'ResourceNotFoundException',
      body: { Type: 'User', message: `Function not found: arn:aws:lambda:${REGION}:000000000000:function:nope` },
    });
    expect(await errorOf(await fetch(`${base}${invokePath('detect-faces')}`)))
      .toMatchObject({ status: 405, type: 'MethodNotAllowedException' });
    expect(await errorOf(await post('detect%E0%A4%A'))).toMatchObject({ status: 400, type: 'InvalidParameterValueException', body: { message: 'the function name is not validly encoded' } });
    expect(await errorOf(await post('detect-faces', '{not json'))).toMatchObject({ status: 400, type: 'InvalidRequestContentException' });
    expect(await errorOf(await post('detect-faces', '{}', { 'x-amz-invocation-type': 'Later' }))).toMatchObject({
      status: 400,
      type: 'InvalidParameterValueException',
      body: { message: expect.stringContaining('"Later"') },
    });
    expect(events).toEqual([]);
    expect(invocations).toEqual([]);
  });

  test('other paths are not the API: the handler says so and answers nothing', async () => {
    for (const p of ['/', '/2015-03-31/functions/detect-faces', '/2015-03-31/functions/a/b/invocations', '/2015-03-31/functions/detect-faces/invocations/extra']) {
      const res = await fetch(`${base}${p}`, { method: 'POST', body: '{}' });
      expect([p, res.status, await res.text()]).toEqual([p, 418, 'not the API']);
    }
    // A trailing slash and a query string are still the API.
    expect((await fetch(`${base}${invokePath('cleanup')}/?Qualifier=x`, { method: 'POST', body: '{}' })).status).toBe(200);
  });

  test('a Content-Length over 6 MB: 413 with Connection: close before any of the body is read (none is sent)', async () => {
    const req = http.request(`${base}${invokePath('detect-faces')}`, { method: 'POST', headers: { 'content-length': String(MAX_PAYLOAD_BYTES + 1) }, agent: false });
    req.on('error', () => undefined);
    req.flushHeaders();
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    req.destroy();
    expect(res.statusCode).toBe(413);
    expect(res.headers['x-amzn-errortype']).toBe('RequestTooLargeException');
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({ Type: 'User', message: `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation` });
    expect(events).toEqual([]);
    // Had the body been waited for, no response would come: fail fast rather than at the default timeout.
  }, 10_000);

  test('an Event payload over 1 MB is 413 as on Lambda, and the function does not run; 1 MB itself is taken', async () => {
    const payload = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - 10) });
    expect(Buffer.byteLength(payload(MAX_EVENT_PAYLOAD_BYTES + 1))).toBe(MAX_EVENT_PAYLOAD_BYTES + 1);
    const large = await post('detect-faces', payload(MAX_EVENT_PAYLOAD_BYTES + 1), { 'x-amz-invocation-type': 'Event' });
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({ Type: 'User', message: `Request must be smaller than ${MAX_EVENT_PAYLOAD_BYTES} bytes for the InvokeFunction operation` });
    expect(events).toEqual([]);
    expect((await post('detect-faces', payload(MAX_EVENT_PAYLOAD_BYTES), { 'x-amz-invocation-type': 'Event' })).status).toBe(202);
    // A synchronous call of the same size is within its own 6 MB.
    expect((await post('detect-faces', payload(MAX_EVENT_PAYLOAD_BYTES + 1))).status).toBe(200);
  });
});
