/**
 * The part of the Lambda Invoke API that the AWS CLI and SDK use, served locally:
 *   POST /2015-03-31/functions/{name|arn}[:qualifier]/invocations
 * with invocation types RequestResponse (200), Event (202, runs in the background) and DryRun
 * (204); handler errors as 200 + X-Amz-Function-Error: Unhandled; X-Amz-Log-Type: Tail returns
 * the last 4 KB of the log in X-Amz-Log-Result; unknown functions 404 ResourceNotFoundException;
 * payloads over 6 MB (1 MB for Event) 413 RequestTooLargeException; a response over 6 MB the function error
 * Function.ResponseSizeTooLarge. Requests are not authenticated (loopback only).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionRuntime, InvocationResult } from './lambda-runtime';

export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The largest payload of an asynchronous (Event) invocation: Lambda's 1 MB. */
export const MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024;
/** The largest response a synchronous invocation returns (Lambda's 6 MB, as its error message counts it). */
export const MAX_RESPONSE_BYTES = 6_291_556;
const LOG_TAIL_BYTES = 4 * 1024;
const ACCOUNT = '000000000000';
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

export interface LambdaApiOptions {
  readonly functions: ReadonlyMap<string, FunctionRuntime>;
  readonly region: string;
  /** Called with every finished invocation (logging, the web page's history). */
  readonly onInvocation?: (name: string, type: string, result: InvocationResult) => void;
}

/** `name`, `name:qualifier`, the partial ARN `account:function:name[:qualifier]`, or `arn:aws:lambda:region:account:function:name[:qualifier]` -> name. */
export function functionNameFrom(raw: string): string {
  const decoded = decodeURIComponent(raw);
  const arn = /^(?:arn:aws[a-z-]*:lambda:[^:]*:)?(?:\d{12}:)?function:([^:]+)(?::.*)?$/.exec(decoded);
  if (arn) return arn[1];
  return decoded.split(':')[0];
}

/** Last `bytes` of the log, cut at a character boundary, base64 as the API returns it. */
export function logTail(log: string, bytes = LOG_TAIL_BYTES): string {
  const buf = Buffer.from(log, 'utf8');
  let tail = buf.subarray(Math.max(0, buf.length - bytes));
  while (tail.length && (tail[0] & 0xc0) === 0x80) tail = tail.subarray(1);
  return tail.toString('base64');
}

function reportLine(name: string, result: InvocationResult, memoryMb: number): string {
  return `REPORT RequestId: ${result.requestId}\tDuration: ${result.durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(result.durationMs)} ms\tMemory Size: ${memoryMb} MB\tFunction: ${name}\n`;
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
  res.end(JSON.stringify({ Type: 'User', message }));
}

export function lambdaApiHandler(options: LambdaApiOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const match = INVOKE_PATH.exec((req.url ?? '').split('?')[0]);
    if (!match) return false;
    if (req.method !== 'POST') {
      sendError(res, 405, 'MethodNotAllowedException', 'use POST to invoke a function');
      return true;
    }
    let name: string;
    try {
      name = functionNameFrom(match[1]);
    } catch {
      sendError(res, 400, 'InvalidParameterValueException', 'the function name is not validly encoded');
      return true;
    }
    const fn = options.functions.get(name);
    if (!fn) {
      req.resume();
      sendError(res, 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${options.region}:${ACCOUNT}:function:${name}`);
      return true;
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const maxBytes = type === 'Event' ? MAX_EVENT_PAYLOAD_BYTES : MAX_PAYLOAD_BYTES;
    const refuseLarge = () => {
      // Answer, then stop reading: the connection closes after the response.
      res.setHeader('connection', 'close');
      sendError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${maxBytes} bytes for the InvokeFunction operation`);
      req.destroy();
    };
    if (Number(req.headers['content-length']) > maxBytes) {
      refuseLarge();
      return true;
    }

    // Read the payload with the API's size limit, never buffering more than that.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        refuseLarge();
        return true;
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    let event: unknown = {};
    if (body.trim()) {
      try {
        event = JSON.parse(body);
      } catch {
        sendError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json: the payload is not valid JSON');
        return true;
      }
    }

    if (type === 'DryRun') {
      res.writeHead(204, { 'x-amzn-requestid': crypto.randomUUID() }).end();
      return true;
    }
    if (type === 'Event') {
      // Background run: its outcome goes to the log only, never to an unhandled rejection.
      fn.invoke(event).then(
        (result) => options.onInvocation?.(name, type, result),
        (err: unknown) => options.onInvocation?.(name, type, { requestId: '-', ok: false, error: { errorType: 'Runtime.Error', errorMessage: String(err) }, log: '', durationMs: 0 }),
      );
      res.writeHead(202, { 'x-amzn-requestid': crypto.randomUUID(), 'content-type': 'application/json' }).end();
      return true;
    }
    if (type !== 'RequestResponse') {
      sendError(res, 400, 'InvalidParameterValueException', `invalid InvocationType ${JSON.stringify(type)}: use RequestResponse, Event or DryRun`);
      return true;
    }

    const result = await fn.invoke(event);
    options.onInvocation?.(name, type, result);
    const log = result.log + reportLine(name, result, fn.options.memoryMb ?? 128);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amzn-requestid': result.requestId,
      'x-amz-executed-version': '$LATEST',
    };
    if (String(req.headers['x-amz-log-type'] ?? '').toLowerCase() === 'tail') headers['x-amz-log-result'] = logTail(log);
    let answer = JSON.stringify(result.ok ? (result.result ?? null) : { ...result.error, trace: [] });
    // Lambda answers a response over its limit as a function error, not with the payload.
    if (Buffer.byteLength(answer) > MAX_RESPONSE_BYTES) {
      answer = JSON.stringify({ errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, errorType: 'Function.ResponseSizeTooLarge' });
      headers['x-amz-function-error'] = 'Unhandled';
    }
    if (!result.ok) headers['x-amz-function-error'] = 'Unhandled';
    res.writeHead(200, headers);
    res.end(answer);
    return true;
  };
}
