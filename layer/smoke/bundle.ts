/**
 * Bundles the smoke script into one plain JS file that any Node 24 runs (the addons stay external),
 * and runs it outside a root against an unpacked layer: the bench's cold start.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { build } from 'esbuild';
import { toEnvironment } from '../../functions/common/schema';
import { DETECT_ENV, QUIET_OPENCV_LOG_LEVEL } from '../../functions/detect-faces/contract';
import { JPEG_LOSSLESS_PACKAGE } from '../../functions/detect-faces/output/lossless-package';
import { LAMBDA_RUNTIME } from '../inputs';

export async function bundleSmoke(outfile: string): Promise<string> {
  await build({
    entryPoints: [path.join(__dirname, 'smoke.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: LAMBDA_RUNTIME.esbuildTarget,
    external: ['@u4/opencv4nodejs', JPEG_LOSSLESS_PACKAGE],
    logLevel: 'warning',
  });
  return outfile;
}

/** What smoke.ts prints (the fields read outside verify.ts). */
export interface SmokeReport {
  readonly addonLoadedMs: number;
  readonly modelsReadyMs: number;
  readonly firstResultMs: number;
  readonly peakRssMb: number;
  readonly yunet: { readonly faces: number };
  readonly haar: { readonly faces: number };
  readonly yunet2022: { readonly faces: number; readonly outputs: { readonly ok: boolean } };
}

/**
 * A fresh process of this machine's Node on `image`, with the layer's node_modules on NODE_PATH and
 * its models folder as MODELS_DIR (verify.ts runs the same script in a root, at /opt).
 */
export function runSmokeHere(script: string, layer: { nodeModules: string; modelsDir: string }, image: string): SmokeReport {
  const res = spawnSync(process.execPath, [script, image], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NODE_PATH: layer.nodeModules, ...toEnvironment(DETECT_ENV, { modelsDir: layer.modelsDir, opencvLogLevel: QUIET_OPENCV_LOG_LEVEL }) },
  });
  if (res.status !== 0) throw new Error(`smoke process failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as SmokeReport;
}
