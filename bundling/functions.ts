/**
 * Bundles each Lambda function with esbuild into one file and zips it deterministically. The stack
 * calls `bundleFunction` once per function while it synthesizes (as CDK's NodejsFunction does), so
 * `cdktf synth`/`diff`/`deploy` work on a bare checkout; `npm run build:functions` runs the same
 * call on its own. The OpenCV addon stays external: it comes from the layer, on NODE_PATH at
 * /opt/nodejs/node_modules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, buildSync, stop, type BuildOptions, type BuildResult } from 'esbuild';
import { JPEG_LOSSLESS_PACKAGE } from '../functions/detect-faces/output/lossless-package';
import { LAMBDA_RUNTIME } from '../layer/inputs';
import { createZip } from './zip';

export interface FunctionBundle {
  /** Zip name (without .zip) under the output folder. */
  readonly name: string;
  /** TypeScript entry exporting `handler`, relative to the project root. */
  readonly entry: string;
  /** Modules resolved at run time instead of bundled. @default [] */
  readonly external?: string[];
}

export const FUNCTION_BUNDLES = {
  detectFaces: { name: 'detect-faces', entry: 'functions/detect-faces/index.ts', external: ['@u4/opencv4nodejs', JPEG_LOSSLESS_PACKAGE] },
  cleanup: { name: 'cleanup', entry: 'functions/cleanup/index.ts' },
  webApi: { name: 'web-api', entry: 'functions/web-api/index.ts' },
} as const satisfies Record<string, FunctionBundle>;

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Where bundles go unless told otherwise: functions/dist of this checkout, whatever the working directory. */
export const BUNDLE_DIR = path.join(PROJECT_ROOT, 'functions', 'dist');

/** esbuild settings shared by every function; `overrides` is the hook for special cases. */
export function esbuildOptions(bundle: FunctionBundle, overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    entryPoints: [path.join(PROJECT_ROOT, bundle.entry)],
    // Paths in the output (comments, names) are relative to this: the same bytes on every machine.
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: LAMBDA_RUNTIME.esbuildTarget,
    format: 'cjs',
    // Whitespace/syntax only: stack traces in CloudWatch keep readable names.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'eof',
    external: bundle.external ?? [],
    logLevel: 'warning',
    write: false,
    outfile: 'index.js',
    ...overrides,
  };
}

/**
 * Bundles and zips one function into `outDir` (created if needed); the zip holds only index.js.
 * Synchronous, because constructs are built synchronously while the app synthesizes.
 */
export function bundleFunction(bundle: FunctionBundle, outDir: string = BUNDLE_DIR, overrides: Partial<BuildOptions> = {}): { zip: string; bytes: number } {
  return writeZip(bundle, outDir, buildSync(esbuildOptions(bundle, overrides)));
}

/**
 * The same, asynchronous: for long-lived processes (the local runner, tests), which then call
 * stopBundler(): an esbuild service left running held a jest run open after its last test.
 */
export async function bundleFunctionAsync(bundle: FunctionBundle, outDir: string, overrides: Partial<BuildOptions> = {}): Promise<{ zip: string; bytes: number }> {
  return writeZip(bundle, outDir, await build(esbuildOptions(bundle, overrides)));
}

/** Ends esbuild's service process once a long-lived process is done bundling (it would keep jest from exiting). */
export async function stopBundler(): Promise<void> {
  await stop();
}

function writeZip(bundle: FunctionBundle, outDir: string, result: BuildResult): { zip: string; bytes: number } {
  const js = result.outputFiles?.find((f) => f.path.endsWith('.js'));
  if (!js) throw new Error(`esbuild produced no JavaScript for ${bundle.entry}`);
  fs.mkdirSync(outDir, { recursive: true });
  const zip = path.join(outDir, `${bundle.name}.zip`);
  const bytes = createZip([{ name: 'index.js', data: Buffer.from(js.contents) }]);
  // Written beside and renamed: a reader never sees half a zip.
  fs.writeFileSync(`${zip}.partial`, bytes);
  fs.renameSync(`${zip}.partial`, zip);
  return { zip, bytes: bytes.length };
}

function main(): void {
  for (const bundle of Object.values(FUNCTION_BUNDLES)) {
    const { zip, bytes } = bundleFunction(bundle);
    process.stdout.write(`${path.relative(process.cwd(), zip)}: ${(bytes / 1024).toFixed(0)} KB\n`);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`build:functions: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
