/**
 * `npm start -- [image URL or file]`: runs the real detect-faces handler, with the real layer,
 * against the embedded S3 server, and prints the handler's JSON result. The marked image is
 * served at the printed URL while this runs (until Ctrl-C when interactive) and saved locally.
 * Without an argument it uses the bundled sample photo.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startLocalStack } from './local-stack';

const SAMPLE = path.resolve(__dirname, '..', 'samples', 'astronaut.png');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep') || (!args.includes('--no-keep') && process.stdin.isTTY === true);
  const input = args.find((a) => !a.startsWith('--')) ?? SAMPLE;
  const session = await startLocalStack();
  try {
    let imageUrl = input;
    if (!/^https?:\/\//i.test(input)) {
      if (!fs.existsSync(input)) throw new Error(`no such file: ${input} (give an http(s) URL or a local image file)`);
      imageUrl = session.files.add(fs.readFileSync(input), path.basename(input));
    }
    const run = await session.detect.invoke({ imageUrl });
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
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await session.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
