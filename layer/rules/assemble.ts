/**
 * Lays out the Lambda layer from the build's outputs (the zip stage zips it with bundling/zip.ts):
 *   nodejs/node_modules/@u4/opencv4nodejs/  package.json, LICENSE, bundled JS loader, compiled addon
 *   nodejs/node_modules/@facedetect/jpeg-lossless/  our coefficient addon (jpeg_lossless.node) and its package.json
 *   lib/                                    shared libraries Amazon Linux 2023 lacks
 *   models/                                 YuNet ONNX (2023mar, 2022mar, YuNet_n) and the Haar frontal-face cascade the functions load (alt2)
 *   licenses/                               licences of everything shipped (a committed model's: model-<file>.txt)
 *   manifest.json                           versions, checksums, sizes
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { JPEG_LOSSLESS_PACKAGE } from '../../functions/detect-faces/output/lossless-package';
import { addon, LAMBDA_RUNTIME, LAYER_LAYOUT, models, node, opencv, type LayerArch } from '../inputs';
import { sha256File } from '../build-kit/cache';
import { compareVersions, isElf, readElf } from '../build-kit/elf';
import { listFiles } from '../build-kit/files';

export interface LayerManifest {
  name: string;
  architecture: string;
  opencv: { version: string; source: string; sourceSha256: string; modules: readonly string[] };
  addon: { name: string; version: string; nodeAbi: string; nodeVersion: string };
  runtime: { compatibleRuntimes: string[]; maxGlibc: string; maxGlibcxx: string };
  models: { file: string; path: string; sha256: string; bytes: number; license: string }[];
  /** The Debian packages of the root it was compiled in (`name:arch version`): what a rebuild would take again. */
  buildRoot: { suite: string; packages: string[] };
  libraries: { file: string; bytes: number }[];
  sizes: { unzippedBytes: number; files: number; byPart: Record<string, number> };
}

export interface AssembleInputs {
  arch: LayerArch;
  /** Output of build-addon.sh: addon/, lib/, licenses/, pkg/ (the package's JS), elf.json. */
  addonDir: string;
  /** Output of build-jpeg-lossless.sh: jpeg_lossless.node. */
  jpegLosslessDir: string;
  /** OpenCV install tree (its share/ holds the Haar cascades). */
  opencvDir: string;
  /** Each committed model's verified local copy, by file name (the models stage's outputs). */
  committedModels: Readonly<Record<string, string>>;
  /** Each committed model's licence file, by model file name: shipped as licenses/model-<file>.txt. */
  modelLicenses: Readonly<Record<string, string>>;
  nodeAbi: string;
  buildRoot: LayerManifest['buildRoot'];
}

export async function assembleLayer(stage: string, inputs: AssembleInputs): Promise<LayerManifest> {
  const pkgDir = path.join(stage, LAYER_LAYOUT.addon);
  fs.mkdirSync(path.join(pkgDir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(path.join(inputs.addonDir, 'addon', 'opencv4nodejs.node'), path.join(pkgDir, 'build', 'Release', 'opencv4nodejs.node'));
  fs.copyFileSync(path.join(inputs.addonDir, 'pkg', 'LICENSE'), path.join(pkgDir, 'LICENSE'));
  const upstream = JSON.parse(fs.readFileSync(path.join(inputs.addonDir, 'pkg', 'package.json'), 'utf8'));
  fs.writeFileSync(
    path.join(pkgDir, 'package.json'),
    `${JSON.stringify({ name: upstream.name, version: upstream.version, license: upstream.license, main: './cjs/lib/opencv4nodejs.js' }, null, 2)}\n`,
  );
  // One file instead of the package's JS tree and its 30 build-time dependencies: faster require.
  await build({
    // Module names in the bundle are relative to the package, not to wherever the cache is.
    absWorkingDir: path.join(inputs.addonDir, 'pkg'),
    entryPoints: [path.join(inputs.addonDir, 'pkg', 'cjs', 'lib', 'opencv4nodejs.js')],
    outfile: path.join(pkgDir, 'cjs', 'lib', 'opencv4nodejs.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: LAMBDA_RUNTIME.esbuildTarget,
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'none',
    // The shim comes in as a virtual module: its name in the bundle is the same on every machine.
    plugins: [
      {
        name: 'opencv-build-shim',
        setup(b) {
          b.onResolve({ filter: /^@u4\/opencv-build$/ }, () => ({ path: 'opencv-build-shim.js', namespace: 'shim' }));
          b.onLoad({ filter: /.*/, namespace: 'shim' }, () => ({
            contents: fs.readFileSync(path.resolve(__dirname, '..', 'runtime', 'opencv-build-shim.js'), 'utf8'),
            loader: 'js',
          }));
        },
      },
    ],
    logLevel: 'warning',
  });

  // Ours (MIT, as the project); it links the libjpeg.so.62 in lib/, whose licence the addon's closure ships.
  const jpegDir = path.join(stage, LAYER_LAYOUT.jpegLossless);
  fs.mkdirSync(jpegDir, { recursive: true });
  fs.copyFileSync(path.join(inputs.jpegLosslessDir, 'jpeg_lossless.node'), path.join(jpegDir, 'jpeg_lossless.node'));
  fs.writeFileSync(path.join(jpegDir, 'package.json'), `${JSON.stringify({ name: JPEG_LOSSLESS_PACKAGE, private: true, license: 'MIT', main: './jpeg_lossless.node' }, null, 2)}\n`);

  const libDir = path.join(stage, LAYER_LAYOUT.lib);
  fs.cpSync(path.join(inputs.addonDir, 'lib'), libDir, { recursive: true });
  fs.cpSync(path.join(inputs.addonDir, 'licenses'), path.join(stage, LAYER_LAYOUT.licenses), { recursive: true });

  const modelDir = path.join(stage, LAYER_LAYOUT.models);
  fs.mkdirSync(modelDir, { recursive: true });
  const manifestModels: LayerManifest['models'] = [];
  for (const model of models) {
    const from = 'repoPath' in model.source ? inputs.committedModels[model.file] : path.join(inputs.opencvDir, haarInstallPath(model.source.opencvSourcePath));
    if (!from) throw new Error(`${model.file}: no verified copy was handed to the layer stage`);
    const to = path.join(modelDir, model.file);
    fs.copyFileSync(from, to);
    const sha256 = sha256File(to);
    if (sha256 !== model.sha256) throw new Error(`${model.file}: sha256 ${sha256}, expected ${model.sha256}`);
    const license = inputs.modelLicenses[model.file];
    if (license) fs.copyFileSync(license, path.join(stage, LAYER_LAYOUT.licenses, `model-${model.file}.txt`));
    else if ('repoPath' in model.source) throw new Error(`${model.file}: no licence file was handed to the layer stage`);
    manifestModels.push({ file: model.file, path: `/opt/${LAYER_LAYOUT.models}/${model.file}`, sha256, bytes: fs.statSync(to).size, license: model.license });
  }

  const ceilings = elfCeilings([inputs.addonDir, inputs.jpegLosslessDir]);
  const manifest: LayerManifest = {
    name: `opencv-layer-${inputs.arch}`,
    architecture: inputs.arch,
    opencv: { version: opencv.version, source: opencv.file, sourceSha256: opencv.sha256, modules: opencv.modules },
    addon: { name: addon.name, version: addon.version, nodeAbi: inputs.nodeAbi, nodeVersion: node.version },
    runtime: { compatibleRuntimes: [LAMBDA_RUNTIME.name], maxGlibc: ceilings.glibc, maxGlibcxx: ceilings.glibcxx },
    models: manifestModels,
    buildRoot: inputs.buildRoot,
    libraries: fs.readdirSync(libDir).sort().map((file) => ({ file, bytes: fs.statSync(path.join(libDir, file)).size })),
    sizes: sizesOf(stage),
  };
  fs.writeFileSync(path.join(stage, LAYER_LAYOUT.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  manifest.sizes = sizesOf(stage);
  fs.writeFileSync(path.join(stage, LAYER_LAYOUT.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Highest GLIBC / GLIBCXX versions any shipped ELF file asks for (recorded in the manifest). */
function elfCeilings(dirs: readonly string[]): { glibc: string; glibcxx: string } {
  let glibc = '0';
  let glibcxx = '0';
  for (const file of dirs.flatMap((dir) => listFiles(dir).map((rel) => path.join(dir, rel)))) {
    if (!isElf(file)) continue;
    const v = readElf(file).maxVersions;
    if (v.GLIBC && compareVersions(v.GLIBC, glibc) > 0) glibc = v.GLIBC;
    if (v.GLIBCXX && compareVersions(v.GLIBCXX, glibcxx) > 0) glibcxx = v.GLIBCXX;
  }
  return { glibc, glibcxx };
}

/** OpenCV installs data/haarcascades/X as share/opencv4/haarcascades/X. */
function haarInstallPath(sourcePath: string): string {
  return path.join('share', 'opencv4', 'haarcascades', path.basename(sourcePath));
}

function sizesOf(stage: string): LayerManifest['sizes'] {
  const byPart: Record<string, number> = {};
  let unzippedBytes = 0;
  const files = listFiles(stage);
  for (const file of files) {
    const bytes = fs.statSync(path.join(stage, file)).size;
    const part = file.startsWith(LAYER_LAYOUT.addon) ? 'addon' : file.startsWith(LAYER_LAYOUT.jpegLossless) ? 'jpeg-lossless' : file.split('/')[0];
    byPart[part] = (byPart[part] ?? 0) + bytes;
    unzippedBytes += bytes;
  }
  return { unzippedBytes, files: files.length, byPart };
}
