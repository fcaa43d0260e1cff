/** The local function process: context from the configured timeout, timeouts, errors, logs, warm reuse. */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { FunctionRuntime } from '../../local/lambda-runtime';
import { tempDir } from '../helpers/temp';

jest.setTimeout(30_000);

const dir = tempDir('runtime');
const bundle = path.join(dir, 'index.js');
fs.writeFileSync(
  bundle,
  `let calls = 0;
exports.handler = async (event, context) => {
  calls += 1;
  console.log(JSON.stringify({ message: 'hello', requestId: context.awsRequestId }));
  // A handler that never returns, after telling the test (over loopback) that it has started.
  if (event.hangAfterNotifying) { require('net').connect(event.hangAfterNotifying, '127.0.0.1'); await new Promise(() => {}); }
  if (event.fail) { const e = new Error('it broke'); e.name = 'CustomError'; throw e; }
  // Much output just before the answer: more than a pipe holds, on both streams.
  if (event.open) { process.stdout.write('no newline out'); process.stderr.write('no newline err'); }
  if (event.loud) { for (let i = 0; i < 2000; i++) { console.log('out ' + i + ' ' + 'x'.repeat(100)); console.error('err ' + i + ' ' + 'y'.repeat(100)); } console.log('last out'); console.error('last err'); }
  return { calls, remaining: context.getRemainingTimeInMillis(), fn: process.env.AWS_LAMBDA_FUNCTION_NAME, env: process.env.AWS_EXECUTION_ENV };
};
`,
);
// A fresh container per test: no test depends on what an earlier one left warm.
let runtime: FunctionRuntime;
beforeEach(() => {
  runtime = new FunctionRuntime({ name: 'probe', bundle, timeoutSeconds: 2, environment: {} });
});
afterEach(() => runtime.close());
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('context: request id, remaining time from the configured timeout, Lambda variables; warm reuse', async () => {
  const first = await runtime.invoke({});
  expect(first.ok).toBe(true);
  const r = first.result as { calls: number; remaining: number; fn: string; env: string };
  // The 2 s deadline starts when the invocation is sent: what the handler sees is 2 s less at most
  // the invocation's own duration (the 1 ms: both clocks read whole milliseconds).
  expect(r.remaining).toBeGreaterThanOrEqual(2000 - first.durationMs - 1);
  expect(r.remaining).toBeLessThanOrEqual(2000);
  expect([r.fn, r.env]).toEqual(['probe', 'AWS_Lambda_nodejs24.x']);
  expect(first.log).toContain(`"requestId":"${first.requestId}"`);
  expect(first.log).toMatch(new RegExp(`^START RequestId: ${first.requestId}`));
  expect(((await runtime.invoke({})).result as { calls: number }).calls).toBe(2);
});

test("an invocation's log holds all it wrote to stdout and stderr, however much, and its END line", async () => {
  for (let k = 0; k < 3; k++) {
    const r = await runtime.invoke({ loud: true });
    expect(r.ok).toBe(true);
    expect(r.log).toContain('last out\n');
    expect(r.log).toContain('last err\n');
    expect(r.log.match(/^(out|err) \d+ /gm)).toHaveLength(4000);
    expect(r.log).toContain(`END RequestId: ${r.requestId}\n`);
    // The runner's own stderr mark is not part of the log.
    expect(r.log).not.toContain('\u001e');
  }
});

test('a line the handler leaves open ends before END, on either stream', async () => {
  const r = await runtime.invoke({ open: true });
  expect(r.log).toMatch(/^no newline out$/m);
  expect(r.log).toMatch(/^no newline err$/m);
  expect(r.log).toMatch(new RegExp(`^END RequestId: ${r.requestId}$`, 'm'));
});

test('warm: the process and its init run before the first invocation, which then finds them ready', async () => {
  expect(runtime.pid).toBeUndefined();
  await runtime.warm();
  const pid = runtime.pid;
  expect(pid).toEqual(expect.any(Number));
  expect(((await runtime.invoke({})).result as { calls: number }).calls).toBe(1);
  await runtime.warm();
  expect(runtime.pid).toBe(pid);
  expect(((await runtime.invoke({})).result as { calls: number }).calls).toBe(2);
});

test('a thrown error comes back as errorType/errorMessage', async () => {
  const r = await runtime.invoke({ fail: true });
  expect(r).toMatchObject({ ok: false, error: { errorType: 'CustomError', errorMessage: 'it broke' } });
});

test('past the timeout: Sandbox.Timedout, and the next invocation gets a fresh container', async () => {
  // The handler signals once it runs; then only the parent's (fake) clock decides the timeout.
  const started = net.createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(started, 'listening');
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  try {
    const running = once(started, 'connection');
    const slow = runtime.invoke({ hangAfterNotifying: (started.address() as net.AddressInfo).port });
    await running;
    jest.advanceTimersByTime(2000);
    const result = await slow;
    expect(result).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 2.00 seconds' } });
    expect(result.durationMs).toBeLessThan(3000);
  } finally {
    jest.useRealTimers();
    started.close();
  }
  const next = await runtime.invoke({});
  expect((next.result as { calls: number }).calls).toBe(1);
});

test('a function that fails at init reports it on every invocation, and recovers once fixed', async () => {
  const broken = path.join(dir, 'broken.js');
  fs.writeFileSync(broken, 'const e = new Error("BUCKET_NAME is required"); e.name = "ConfigurationError"; throw e;\n');
  const rt = new FunctionRuntime({ name: 'broken', bundle: broken, timeoutSeconds: 2, environment: {} });
  try {
    // Warming does not throw: the init's failure is the next invocation's to report.
    await expect(rt.warm()).resolves.toBeUndefined();
    for (let i = 0; i < 2; i++) {
      const r = await rt.invoke({});
      expect(r).toMatchObject({ ok: false, error: { errorType: 'ConfigurationError', errorMessage: 'BUCKET_NAME is required' } });
      expect(r.log).toContain('INIT_REPORT Init Error: ConfigurationError');
    }
    // An init that writes more than a pipe holds before it fails: its report still reaches the log.
    fs.writeFileSync(broken, 'for (let i = 0; i < 2000; i++) console.error("init " + i + " " + "z".repeat(100));\nconst e = new Error("BUCKET_NAME is required"); e.name = "ConfigurationError"; throw e;\n');
    const loud = await rt.invoke({});
    expect(loud).toMatchObject({ ok: false, error: { errorType: 'ConfigurationError' } });
    expect(loud.log).toContain('init 1999 ');
    expect(loud.log).toContain('INIT_REPORT Init Error: ConfigurationError');
    fs.writeFileSync(broken, 'exports.handler = async () => "fixed";\n');
    expect(await rt.invoke({})).toMatchObject({ ok: true, result: 'fixed' });
  } finally {
    await rt.close();
  }
});

test('the context carries Lambda\'s fields', async () => {
  const ctxBundle = path.join(dir, 'ctx.js');
  fs.writeFileSync(ctxBundle, 'exports.handler = async (e, c) => ({ arn: c.invokedFunctionArn, mem: c.memoryLimitInMB, version: c.functionVersion, task: process.env.LAMBDA_TASK_ROOT });\n');
  const rt = new FunctionRuntime({ name: 'ctx', bundle: ctxBundle, timeoutSeconds: 3, memoryMb: 512, environment: {} });
  try {
    expect((await rt.invoke({})).result).toEqual({ arn: expect.stringMatching(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:ctx$/), mem: '512', version: '$LATEST', task: dir });
  } finally {
    await rt.close();
  }
});

test('closed while an invocation waits for its warm container: an error result, and no timer left to fire', async () => {
  expect((await runtime.invoke({})).ok).toBe(true);
  const late = runtime.invoke({});
  // The invocation is past its check of the container and waiting for it to be ready: close now.
  await Promise.resolve();
  await runtime.close();
  expect(await late).toMatchObject({ ok: false, error: { errorType: 'Runtime.ExitError' } });
});
