/**
 * `npm start -- [image URL or file] [--min-face-size N ...]`: runs the real detect-faces handler, with the real layer,
 * against the embedded S3 server, and prints the handler's JSON result. The marked image is
 * served at the printed URL while this runs (until Ctrl-C when interactive) and saved locally.
 * Without an argument it uses the bundled sample photo.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { signalExitStatus } from './close';
import { startLocalStack } from './local-stack';
import { REQUEST_FLAGS, takeRequestFlag } from './request-flags';
import { userCwd } from './user-cwd';

const SAMPLE = path.resolve(__dirname, '..', 'samples', 'astronaut.png');

async function main(): Promise<void> {
  const { input = SAMPLE, keep: keepFlag, options } = parseArgs(process.argv.slice(2));
  const keep = keepFlag ?? process.stdin.isTTY === true;
  // Ctrl-C or a kill, at any point, closes the local stack once (its function bundles leave the temp
  // folder); repeats are ignored while it closes. Before the stack is up it stops once the start ends.
  let stopped: NodeJS.Signals | undefined;
  let onStop: () => void = () => undefined;
  const stop = new Promise<void>((resolve) => (onStop = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) return;
    stopped = signal;
    if (!keep) process.stderr.write('stopping...\n');
    onStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const session = await startLocalStack();
  // Ended by a signal before its result: 128 + the signal's number, as a shell says.
  const interrupted = () => void (process.exitCode = signalExitStatus(stopped!));
  try {
    if (stopped) return interrupted();
    let imageUrl = input;
    if (!/^https?:\/\//i.test(input)) {
      const file = path.resolve(userCwd(), input);
      if (!fs.existsSync(file)) throw new Error(`no such file: ${input} (give an http(s) URL or a local image file)`);
      if (!fs.statSync(file).isFile()) throw new Error(`${input} is not a file (give an http(s) URL or a local image file; npm run redact takes a folder)`);
      imageUrl = session.files.add(fs.readFileSync(file), path.basename(file));
    }
    const run = await Promise.race([session.detect.invoke({ imageUrl, ...options }), stop.then(() => undefined)]);
    if (!run) return interrupted();
    if (process.env.FACE_LOCAL_VERBOSE) process.stderr.write(run.log);
    if (!run.ok) {
      process.stdout.write(`${JSON.stringify(run.error, null, 2)}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${JSON.stringify(run.result, null, 2)}\n`);
    const { outputUrl } = run.result as { outputUrl: string };
    const res = await fetch(outputUrl);
    const out = path.resolve('local', '.data', 'out', path.basename(new URL(outputUrl).pathname));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, Buffer.from(await res.arrayBuffer()));
    process.stderr.write(`marked image: ${out}\n`);
    if (keep) {
      process.stderr.write(`served at ${outputUrl} until Ctrl-C\n`);
      await stop;
    }
  } finally {
    await session.close();
  }
}

/** The input, --keep/--no-keep, and request options; validation is the function's (its error names the field). */
export function parseArgs(args: readonly string[]): { input?: string; keep?: boolean; options: Record<string, unknown> } {
  const options: Record<string, unknown> = {};
  let input: string | undefined;
  let keep: boolean | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--keep' || arg === '--no-keep') {
      keep = arg === '--keep';
      continue;
    }
    const last = takeRequestFlag(args, i, options);
    if (last !== undefined) i = last;
    else if (arg.startsWith('--')) {
      throw new Error(`unknown option ${arg}; request options: ${[...REQUEST_FLAGS.keys()].join(', ')}`);
    } else if (input === undefined) input = arg;
    else throw new Error(`one image at a time (got ${input} and ${arg})`);
  }
  return { input, keep, options };
}

if (require.main === module) main().catch((err: unknown) => {
  process.stderr.write(`start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
