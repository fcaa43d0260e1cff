/**
 * `npm run invoke -- '<json payload>'`: one invocation of the real detect-faces handler against
 * the embedded S3 server. stdout holds exactly the handler's JSON response, or on failure its
 * error JSON with a non-zero exit code, so scripts can drive it.
 */
import { startLocalStack } from './local-stack';

async function main(): Promise<number> {
  const payload = process.argv[2];
  if (payload === undefined) {
    process.stderr.write(`usage: npm run invoke -- '{"imageUrl":"https://example.com/photo.jpg"}'\n`);
    return 2;
  }
  let event: unknown;
  try {
    event = JSON.parse(payload);
  } catch {
    process.stdout.write(`${JSON.stringify({ errorType: 'InvalidInput', errorMessage: 'the payload is not valid JSON' })}\n`);
    return 1;
  }
  const session = await startLocalStack();
  try {
    const run = await session.detect.invoke(event);
    if (process.env.FACE_LOCAL_VERBOSE) process.stderr.write(run.log);
    process.stdout.write(`${JSON.stringify(run.ok ? run.result : run.error)}\n`);
    return run.ok ? 0 : 1;
  } finally {
    await session.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`invoke: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
