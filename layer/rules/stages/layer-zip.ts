/** The layer zip: laid out from the addon, our jpeg-lossless addon, OpenCV and the models (assemble.ts), zipped, its manifest kept beside it. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zipFolder } from '../../../bundling/zip';
import { sha256File } from '../../build-kit/cache';
import { listFiles } from '../../build-kit/files';
import type { StageContext } from '../../build-kit/stages';
import type { LayerArch } from '../../inputs';
import { assembleLayer, type LayerManifest } from '../assemble';
import { modelStageId } from '../models';
import { rootPackages } from './roots';

export interface LayerZipInputs {
  arch: LayerArch;
  /** The zip's name in layer/dist (recorded in the manifest). */
  zipName: string;
  suite: string;
  /** The committed models' file names: each is the output of its own stage (modelStageId). */
  committedModels: readonly string[];
  /** Each committed model's licence file, relative to the project, by model file name. */
  modelLicenses: Readonly<Record<string, string>>;
}

/** Lays the layer out in scratch, zips it, and writes the manifest beside the zip (before the zip is renamed into place). */
export async function zipLayer(ctx: StageContext, inputs: LayerZipInputs, projectRoot: string): Promise<void> {
  const addonDir = ctx.input('addon');
  const tree = path.join(ctx.scratch, 'tree');
  fs.mkdirSync(tree);
  const manifest = await assembleLayer(tree, {
    arch: inputs.arch,
    addonDir,
    jpegLosslessDir: ctx.input('jpeg-lossless'),
    opencvDir: ctx.input('opencv'),
    committedModels: Object.fromEntries(inputs.committedModels.map((file) => [file, ctx.input(modelStageId(file))])),
    modelLicenses: Object.fromEntries(Object.entries(inputs.modelLicenses).map(([file, license]) => [file, path.join(projectRoot, license)])),
    nodeAbi: fs.readFileSync(path.join(addonDir, 'node-abi.txt'), 'utf8').trim(),
    buildRoot: { suite: inputs.suite, packages: rootPackages(ctx.input('root')) },
  });
  fs.writeFileSync(ctx.out, zipFolder(tree));
  const full: SideManifest = { ...manifest, zip: inputs.zipName, zippedBytes: fs.statSync(ctx.out).size, zipSha256: sha256File(ctx.out) };
  fs.writeFileSync(sideManifest(ctx.final), `${JSON.stringify(full, null, 2)}\n`);
  ctx.log(`files: ${listFiles(tree).length}`);
}

/** The manifest kept beside a cached zip (with the zip's own size and checksum). */
export function sideManifest(zip: string): string {
  return zip.replace(/\.zip$/, '.manifest.json');
}

export type SideManifest = LayerManifest & { zip: string; zippedBytes: number; zipSha256: string };
