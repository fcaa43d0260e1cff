/**
 * Our jpeg-lossless addon (layer/jpeg-lossless/): one C file compiled in a sandboxed overlay over
 * the build root against the root's libjpeg-turbo (the libjpeg.so.62 OpenCV links and the layer
 * ships in lib/) and Node's headers; stripped, its RUNPATH set to the layer's lib/, its NEEDED set
 * and architecture checked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ELF_MACHINES, readElfMachine } from '../../build-kit/elf';
import { inRoot } from '../../build-kit/roots';
import type { StageContext } from '../../build-kit/stages';

/** The files this stage compiles and runs (the table hashes them into its key). */
export const JPEG_LOSSLESS_FILES = {
  source: path.resolve(__dirname, '..', '..', 'jpeg-lossless', 'jpeg_lossless.c'),
  build: path.resolve(__dirname, '..', '..', 'scripts', 'build-jpeg-lossless.sh'),
} as const;

export interface JpegLosslessInputs {
  /** The Node whose headers (node_api.h) it compiles against. */
  node: { version: string; package: string };
  /** The compiler prefix and library folder: x86_64-linux-gnu or aarch64-linux-gnu. */
  triplet: string;
  elfMachine: { code: number; name: string };
}

export async function buildJpegLossless(ctx: StageContext, inputs: JpegLosslessInputs, { nodeDir }: { nodeDir: string }): Promise<void> {
  const work = path.join(ctx.scratch, 'work');
  fs.mkdirSync(work, { recursive: true });
  for (const file of Object.values(JPEG_LOSSLESS_FILES)) fs.copyFileSync(file, path.join(work, path.basename(file)));
  await ctx.exec(
    inRoot(ctx.input('root'), { TRIPLET: inputs.triplet }, ['bash', '/work/build-jpeg-lossless.sh'], {
      overlay: path.join(ctx.scratch, 'overlay'),
      binds: [
        { from: work, to: '/work' },
        { from: path.join(nodeDir, 'include'), to: '/node/include', readOnly: true },
      ],
      sandbox: true,
    }),
  );
  const machine = readElfMachine(path.join(work, 'out', 'jpeg_lossless.node'));
  if (machine !== inputs.elfMachine.code) {
    throw new Error(`jpeg-lossless was built for ${ELF_MACHINES[machine ?? -1] ?? `e_machine ${machine}`}, not ${inputs.elfMachine.name}`);
  }
  fs.cpSync(path.join(work, 'out'), ctx.out, { recursive: true });
}
