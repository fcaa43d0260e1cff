/**
 * The process a local function runs in, like one Lambda container: loads the bundled handler
 * once, then runs one invocation at a time as the parent asks (IPC), with a Lambda-style context.
 */
import { endLine, stderrEndMark } from './runtime-log';

interface InvokeMessage {
  type: 'invoke';
  id: string;
  event: unknown;
  deadline: number;
  memoryMb: number;
}

const bundle = process.argv[2];
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
let handler: (event: unknown, context: unknown) => Promise<unknown>;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require(bundle).handler;
  process.send!({ type: 'ready' });
} catch (err) {
  const e = err as Error;
  // Like Lambda: a failed init ends the container; the next invocation starts a new one. The exit
  // waits for the report to be written: stderr to a full pipe is written later, and exit drops what waits.
  process.stderr.write(`INIT_REPORT Init Error: ${e.name}: ${e.message}\n`, () =>
    process.send!({ type: 'init-error', error: { errorType: e.name || 'Error', errorMessage: e.message } }, () => process.exit(1)),
  );
}

// The parent (the local runner) is gone: so is this container.
process.on('disconnect', () => process.exit(0));

async function invoke(message: InvokeMessage): Promise<void> {
  if (message.type !== 'invoke') return;
  // Set by the parent (lambda-runtime.ts), as Lambda sets it.
  const region = process.env.AWS_REGION;
  const context = {
    awsRequestId: message.id,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(message.memoryMb),
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
  // Both streams' ends are written before the result is sent (runtime-log.ts).
  const answer = (result: object) =>
    process.stderr.write(stderrEndMark(message.id), () => process.stdout.write(endLine(message.id), () => process.send!({ type: 'result', id: message.id, ...result })));
  try {
    const result = await handler(message.event, context);
    answer({ ok: true, result: result ?? null });
  } catch (err) {
    const e = err as Error;
    answer({ ok: false, error: { errorType: e?.name || 'Error', errorMessage: e?.message ?? String(err) } });
  }
}

// invoke answers every failure itself (as a result message), so nothing is left to await here.
process.on('message', (message: InvokeMessage) => void invoke(message));
