/**
 * The layer build as a table of stages (run by build-kit/stages.ts), for one target architecture.
 * The table says what each stage is made from; how each is made is in stages/*.ts.
 *
 *   build root ──┬──> OpenCV build ──> addon ──┬──> layer zip
 *   OpenCV source ┘        (the addon also reads the root, and the source for OpenCV's licence;
 *                           the zip also reads OpenCV's tree for the Haar cascade, and the root's
 *                           package list for the manifest)
 *   build root ──> jpeg-lossless (our coefficient addon: one C file) ──┤
 *   each committed model (sha256 checked) ──────┘
 *   smoke root (the bare root verify:layer runs the layer in)
 *
 * A stage's key covers everything it is made from: its named `inputs` (handed to its
 * implementation as its only parameters, so it cannot read a pin the key misses), the `files` it
 * runs, and its `code` with every project module that imports. The implementations of the expensive
 * stages import no pins (inputs.ts), so a pin changes only the keys of the stages that take it.
 * OpenCV and the addon compile in a sandbox (in-root.sh --sandbox: no network, own PID namespace,
 * mapped root) in an overlay over the cached build root: the root itself is never written, and
 * what a stage reads from another (OpenCV's install tree, Node's headers) is mounted read-only.
 *
 * Adding a stage: write its implementation in stages/<name>.ts (a function of its context and its
 * inputs, importing no pins), add an entry here before the stages that read it, and list it in
 * the `dependsOn` of those (docs/layer.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { version as esbuildVersion } from 'esbuild';
import { ensureNodeDist } from '../build-kit/node-dist';
import { IN_ROOT_SCRIPT } from '../build-kit/roots';
import { planStages, type StageDef, type StagePlan } from '../build-kit/stages';
import { addon, CACHE_DIR, CACHE_HOME, debian, LAMBDA_RUNTIME, LAYER_LAYOUT, layerZipPath, models, node, opencv, type ArchTarget } from '../inputs';
import { isCommittedModel, modelStageId, resolveCommittedModel } from './models';
import { ADDON_SCRIPTS, buildAddon } from './stages/addon';
import { zipLayer } from './stages/layer-zip';
import { buildJpegLossless, JPEG_LOSSLESS_FILES } from './stages/jpeg-lossless';
import { buildOpenCV, OPENCV_SCRIPTS } from './stages/opencv';
import { makeBuildRoot, makeSmokeRoot } from './stages/roots';
import { downloadSource } from './stages/source';

const LAYER_DIR = path.resolve(__dirname, '..');
export const PROJECT_ROOT = path.resolve(LAYER_DIR, '..');
const STAGES_DIR = path.join(__dirname, 'stages');
export const JOBS = String(Math.max(1, Number(process.env.LAYER_JOBS) || os.availableParallelism()));

/** The build's goals: the zip, and the bare root verify:layer's smoke test runs in. */
export const BUILD_GOALS = ['layer', 'smoke-root'] as const;

/** What a cross build adds to the OpenCV step's environment (the target's pkg-config files only). */
export function crossEnv(target: ArchTarget): Record<string, string> {
  return target.emulator ? { PKG_CONFIG_LIBDIR: `/usr/lib/${target.gnuTriplet}/pkgconfig:/usr/share/pkgconfig` } : {};
}

/**
 * A cold run of each stage (minutes), measured at rest with 2 jobs on this project's 2-core machines
 * (docs/layer.md); under load the same stages took up to five times as long.
 */
const MEASURED_MINUTES: Record<string, Partial<Record<ArchTarget['arch'], number>>> = {
  root: { x86_64: 1, arm64: 1.5 },
  opencv: { x86_64: 8.5, arm64: 9.5 },
  addon: { x86_64: 3, arm64: 3.5 },
  'jpeg-lossless': { x86_64: 0.1, arm64: 0.1 },
  'smoke-root': { x86_64: 0.5, arm64: 0.5 },
};
const measured = (id: string, target: ArchTarget) => {
  const minutes = MEASURED_MINUTES[id]?.[target.arch];
  return minutes === undefined ? {} : { expectedMs: minutes * 60_000 };
};

export function layerStages(target: ArchTarget, jobs: string = JOBS): StageDef[] {
  const cross = !!target.emulator;
  // Step names of a cross build say which architecture; its folders (but the roots') start with it.
  const forArch = cross ? ` for ${target.arch}` : '';
  const tag = cross ? `${target.arch}-` : '';
  const committed = models.filter(isCommittedModel);
  const code = (file: string) => [path.join(STAGES_DIR, file)];

  const rootInputs = {
    suite: debian.suite,
    variant: debian.variant,
    packages: target.buildPackages,
    cross: cross ? { debianArch: target.debianArch, packages: target.crossPackages } : undefined,
  };
  const opencvInputs = {
    sourceSha256: opencv.sha256,
    modules: opencv.modules,
    cmakeFlags: target.cmakeFlags,
    cross: cross ? { env: crossEnv(target) } : undefined,
  };
  const addonInputs = {
    node: { version: node.version, package: node.package },
    lockDir: addon.lockDir,
    systemLibraries: target.systemLibraries,
    addonModules: opencv.addonModules,
    elfMachine: target.elfMachine,
    cross: cross ? { triplet: target.gnuTriplet, arch: target.arch } : undefined,
  };
  const jpegLosslessInputs = { node: { version: node.version, package: node.package }, triplet: target.gnuTriplet, elfMachine: target.elfMachine };
  const zipInputs = { arch: target.arch, zipName: path.basename(layerZipPath(target.arch)), suite: debian.suite, committedModels: committed.map((m) => m.file),
    modelLicenses: Object.fromEntries(committed.map((m) => [m.file, m.source.licenseRepoPath])),
  };
  const smokeInputs = { suite: debian.suite, variant: debian.variant, foreign: cross ? { debianArch: target.debianArch } : undefined };
  const sourceInputs = { poolFile: `${opencv.poolPath}/${opencv.file}`, sha256: opencv.sha256 };

  return [
    {
      id: 'root',
      title: cross
        ? `build root (debian ${debian.suite} ${debian.variant} + ${target.gnuTriplet} cross toolchain and ${target.debianArch} libraries)`
        : `build root (debian ${debian.suite} ${debian.variant} + toolchain)`,
      keyPrefix: cross ? `build-${debian.suite}-cross-${target.arch}-` : `build-${debian.suite}-`,
      inputs: rootInputs,
      code: code('roots.ts'),
      files: cross ? [IN_ROOT_SCRIPT] : [],
      network: 'debian',
      root: true,
      commands: ['debootstrap', 'unshare', 'chroot'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'roots', key) },
      ...measured('root', target),
      run: (ctx) => makeBuildRoot(ctx, rootInputs),
    },
    {
      id: 'source',
      title: `OpenCV ${opencv.version} source`,
      // Checked against its sha256 whatever fetched it: the pin is its key, and its path follows it.
      pin: opencv.sha256,
      network: 'debian',
      output: { kind: 'file', at: (key) => path.join(CACHE_DIR, 'downloads', `${key.slice(0, 16)}-${opencv.file}`) },
      run: (ctx) => downloadSource(ctx, sourceInputs),
    },
    {
      id: 'opencv',
      title: `OpenCV ${opencv.version} build${forArch} (${opencv.modules.length} modules, ${jobs} jobs)`,
      dependsOn: ['root', 'source'],
      inputs: opencvInputs,
      code: code('opencv.ts'),
      files: [OPENCV_SCRIPTS.build, ...(cross ? [OPENCV_SCRIPTS.crossToolchain] : []), IN_ROOT_SCRIPT],
      root: true,
      commands: ['tar', 'xz', 'unshare', 'setpriv', 'chroot'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'opencv', `${opencv.version}-${tag}${key}`) },
      ...measured('opencv', target),
      run: (ctx) => buildOpenCV(ctx, opencvInputs, jobs),
    },
    {
      id: 'addon',
      title: `${addon.name} ${addon.version} addon for Node ${node.version}${forArch}`,
      // The source for OpenCV's licence; OpenCV's key already covers the source (and the root).
      dependsOn: ['root', 'opencv', 'source'],
      inputs: addonInputs,
      code: code('addon.ts'),
      files: [
        path.join(PROJECT_ROOT, addon.lockDir, 'package.json'),
        path.join(PROJECT_ROOT, addon.lockDir, 'package-lock.json'),
        ADDON_SCRIPTS.build,
        ADDON_SCRIPTS.licence,
        ...(cross ? [ADDON_SCRIPTS.cross] : []),
        IN_ROOT_SCRIPT,
      ],
      network: 'npm',
      root: true,
      commands: ['npm', 'tar', 'xz', 'unshare', 'setpriv', 'chroot'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'addon', `${addon.version}-${tag}${key}`) },
      ...measured('addon', target),
      run: (ctx) =>
        buildAddon(ctx, { ...addonInputs, lockDir: path.join(PROJECT_ROOT, addon.lockDir) }, { nodeDir: ensureNodeDist(node.version, node.package, CACHE_HOME), jobs }),
    },
    {
      id: 'jpeg-lossless',
      title: `jpeg-lossless addon (ours, over the root's libjpeg-turbo)${forArch}`,
      dependsOn: ['root'],
      inputs: jpegLosslessInputs,
      code: code('jpeg-lossless.ts'),
      files: [JPEG_LOSSLESS_FILES.source, JPEG_LOSSLESS_FILES.build, IN_ROOT_SCRIPT],
      root: true,
      commands: ['unshare', 'setpriv', 'chroot'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'jpeg-lossless', `${tag}${key}`) },
      ...measured('jpeg-lossless', target),
      run: (ctx) => buildJpegLossless(ctx, jpegLosslessInputs, { nodeDir: ensureNodeDist(node.version, node.package, CACHE_HOME) }),
    },
    ...committed.map(
      (model): StageDef => ({
        id: modelStageId(model.file),
        title: `model ${model.file} (sha256 checked)`,
        // The cascades come with OpenCV's tree, which the OpenCV build's key covers.
        pin: model.sha256,
        run: async () => resolveCommittedModel(model, PROJECT_ROOT),
      }),
    ),
    {
      id: 'layer',
      title: 'layer zip',
      // The root for its package list (the addon's key covers it).
      dependsOn: ['addon', 'opencv', ...committed.map((m) => modelStageId(m.file)), 'root', 'jpeg-lossless'],
      inputs: {
        ...zipInputs,
        // What the zip stage's code reads besides its own modules (which `code` covers: this table,
        // assemble.ts, the ELF and file helpers, the zip writer, the pins in inputs.ts).
        layout: LAYER_LAYOUT,
        models: models.map((m) => ({ file: m.file, license: m.license, sha256: m.sha256 })),
        runtime: LAMBDA_RUNTIME,
        esbuild: esbuildVersion,
        fflate: (JSON.parse(fs.readFileSync(require.resolve('fflate/package.json'), 'utf8')) as { version: string }).version,
      },
      code: [path.join(__dirname, 'layer-stages.ts'), path.join(STAGES_DIR, 'layer-zip.ts')],
      files: [path.join(LAYER_DIR, 'runtime', 'opencv-build-shim.js'), ...new Set(committed.map((m) => path.join(PROJECT_ROOT, m.source.licenseRepoPath)))],
      commands: ['readelf'],
      output: { kind: 'file', at: (key) => path.join(CACHE_DIR, 'layers', `${tag}${key}.zip`) },
      run: (ctx) => zipLayer(ctx, zipInputs, PROJECT_ROOT),
    },
    {
      id: 'smoke-root',
      title: `smoke root (debian ${debian.suite} ${debian.variant}, ${cross ? `${target.debianArch}, first stage` : 'nothing else'})`,
      keyPrefix: cross ? `smoke-${debian.suite}-${target.arch}-` : `smoke-${debian.suite}-`,
      inputs: smokeInputs,
      code: code('roots.ts'),
      network: 'debian',
      root: true,
      commands: ['debootstrap'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'roots', key) },
      ...measured('smoke-root', target),
      run: (ctx) => makeSmokeRoot(ctx, smokeInputs),
    },
  ];
}

/** The plan of the layer table for `target` towards `goals` (file names in keys relative to the project). */
export function planLayer(target: ArchTarget, goals: readonly string[], options: { exists?: (file: string) => boolean; jobs?: string } = {}): StagePlan {
  return planStages(layerStages(target, options.jobs), goals, { root: PROJECT_ROOT, exists: options.exists });
}
