/**
 * Bundles each Lambda function with esbuild into one file and zips it deterministically
 * (`npm run build:functions`). The stack deploys the zips; it never imports function code.
 * The OpenCV addon stays external: it comes from the layer, on NODE_PATH at /opt/nodejs/node_modules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { createZip } from './zip';

export interface FunctionBundle {
  /** Zip name (without .zip) under functions/dist. */
  readonly name: string;
  /** TypeScript entry exporting `handler`. */
  readonly entry: string;
  /** Modules resolved at run time instead of bundled. @default [] */
  readonly external?: string[];
}

export const FUNCTION_BUNDLES: readonly FunctionBundle[] = [
  { name: 'detect-faces', entry: 'functions/detect-faces/index.ts', external: ['@u4/opencv4nodejs'] },
  { name: 'cleanup', entry: 'functions/cleanup/index.ts' },
];

export const BUNDLE_DIR = path.join('functions', 'dist');

/** esbuild settings shared by every function; `overrides` is the hook for special cases. */
export function esbuildOptions(bundle: FunctionBundle, overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    entryPoints: [bundle.entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
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

export async function bundleFunction(bundle: FunctionBundle, outDir = BUNDLE_DIR, overrides: Partial<BuildOptions> = {}): Promise<{ zip: string; bytes: number }> {
  const result = await build(esbuildOptions(bundle, overrides));
  const js = result.outputFiles?.find((f) => f.path.endsWith('.js'));
  if (!js) throw new Error(`esbuild produced no JavaScript for ${bundle.entry}`);
  fs.mkdirSync(outDir, { recursive: true });
  const zip = path.join(outDir, `${bundle.name}.zip`);
  const bytes = createZip([{ name: 'index.js', data: Buffer.from(js.contents) }]);
  fs.writeFileSync(zip, bytes);
  return { zip, bytes: bytes.length };
}

async function main(): Promise<void> {
  for (const bundle of FUNCTION_BUNDLES) {
    const { zip, bytes } = await bundleFunction(bundle);
    process.stdout.write(`${zip}: ${(bytes / 1024).toFixed(0)} KB\n`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`build:functions: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
