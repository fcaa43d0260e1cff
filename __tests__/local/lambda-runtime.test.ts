/** The local function process: context from the configured timeout, timeouts, errors, logs, warm reuse. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FunctionRuntime } from '../../local/lambda-runtime';

jest.setTimeout(30_000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-'));
const bundle = path.join(dir, 'index.js');
fs.writeFileSync(
  bundle,
  `let calls = 0;
exports.handler = async (event, context) => {
  calls += 1;
  console.log(JSON.stringify({ message: 'hello', requestId: context.awsRequestId }));
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.fail) { const e = new Error('it broke'); e.name = 'CustomError'; throw e; }
  return { calls, remaining: context.getRemainingTimeInMillis(), fn: process.env.AWS_LAMBDA_FUNCTION_NAME, env: process.env.AWS_EXECUTION_ENV };
};
`,
);
const runtime = new FunctionRuntime({ name: 'probe', bundle, timeoutSeconds: 2, environment: {} });
afterAll(async () => {
  await runtime.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('context: request id, remaining time from the configured timeout, Lambda variables; warm reuse', async () => {
  const first = await runtime.invoke({});
  expect(first.ok).toBe(true);
  const r = first.result as { calls: number; remaining: number; fn: string; env: string };
  expect(r.remaining).toBeGreaterThan(1500);
  expect(r.remaining).toBeLessThanOrEqual(2000);
  expect([r.fn, r.env]).toEqual(['probe', 'AWS_Lambda_nodejs24.x']);
  expect(first.log).toContain(`"requestId":"${first.requestId}"`);
  expect(first.log).toMatch(new RegExp(`^START RequestId: ${first.requestId}`));
  expect(((await runtime.invoke({})).result as { calls: number }).calls).toBe(2);
});

test('a thrown error comes back as errorType/errorMessage', async () => {
  const r = await runtime.invoke({ fail: true });
  expect(r).toMatchObject({ ok: false, error: { errorType: 'CustomError', errorMessage: 'it broke' } });
});

test('past the timeout: Sandbox.Timedout, and the next invocation gets a fresh container', async () => {
  const slow = await runtime.invoke({ sleepMs: 5000 });
  expect(slow).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 2.00 seconds' } });
  expect(slow.durationMs).toBeLessThan(3000);
  const next = await runtime.invoke({});
  expect((next.result as { calls: number }).calls).toBe(1);
});
