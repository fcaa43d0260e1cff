/** Bundles the smoke script into one plain JS file that any Node 24 runs; the addon stays external. */
import * as path from 'node:path';
import { build } from 'esbuild';

export async function bundleSmoke(outfile: string): Promise<string> {
  await build({
    entryPoints: [path.join(__dirname, 'smoke.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    external: ['@u4/opencv4nodejs'],
    logLevel: 'warning',
  });
  return outfile;
}
