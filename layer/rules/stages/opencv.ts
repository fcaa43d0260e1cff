/** OpenCV compiled in a sandboxed overlay over the build root; it installs straight into the stage's output (/opt). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256File } from '../../build-kit/cache';
import { inRoot } from '../../build-kit/roots';
import type { StageContext } from '../../build-kit/stages';

const SCRIPTS = path.resolve(__dirname, '..', '..', 'scripts');
/** The scripts this stage runs in the root (the table hashes them into its key). */
export const OPENCV_SCRIPTS = { build: path.join(SCRIPTS, 'build-opencv.sh'), crossToolchain: path.join(SCRIPTS, 'toolchain-aarch64.cmake') } as const;

export interface OpenCVInputs {
  /** The source tarball's sha256 (checked again before extracting). */
  sourceSha256: string;
  modules: readonly string[];
  cmakeFlags: readonly string[];
  /** A cross build: the toolchain file goes to /work, and these variables into the build's environment. */
  cross?: { env: Record<string, string> };
}

export async function buildOpenCV(ctx: StageContext, inputs: OpenCVInputs, jobs: string): Promise<void> {
  const source = ctx.input('source');
  if (sha256File(source) !== inputs.sourceSha256) throw new Error(`cached ${source} does not match its sha256; delete it and rerun`);
  const work = path.join(ctx.scratch, 'work');
  fs.mkdirSync(path.join(work, 'opencv-src'), { recursive: true });
  await ctx.exec(['tar', '-xJf', source, '-C', path.join(work, 'opencv-src'), '--strip-components=1']);
  fs.writeFileSync(path.join(work, 'cmake-flags.txt'), `${inputs.cmakeFlags.join('\n')}\n`);
  fs.copyFileSync(OPENCV_SCRIPTS.build, path.join(work, 'build-opencv.sh'));
  if (inputs.cross) fs.copyFileSync(OPENCV_SCRIPTS.crossToolchain, path.join(work, path.basename(OPENCV_SCRIPTS.crossToolchain)));
  await ctx.exec(
    inRoot(ctx.input('root'), { JOBS: jobs, BUILD_LIST: inputs.modules.join(','), ...inputs.cross?.env }, ['bash', '/work/build-opencv.sh'], {
      overlay: path.join(ctx.scratch, 'overlay'),
      binds: [
        { from: work, to: '/work' },
        { from: ctx.out, to: '/opt' },
      ],
      sandbox: true,
    }),
  );
}
