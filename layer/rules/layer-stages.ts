/**
 * The layer build as a table of stages (run by stages.ts), for one target architecture:
 *
 *   build root ──┬──> OpenCV build ──> addon ──┬──> layer zip
 *   OpenCV source ┘        (the addon also reads the root, and the source for OpenCV's licence;
 *                           the zip also reads OpenCV's tree for the Haar cascade)
 *   model ──────────────────────────────────────┘
 *   smoke root (the bare root verify:layer runs the layer in)
 *
 * Keys, and so folder names, are those the build has always used: x86_64's as before arm64
 * existed, arm64's with its own inputs added and its folders saying so. OpenCV and the addon are
 * compiled in an overlay over the cached build root: the root itself is never written, and what a
 * stage reads from another (OpenCV's install tree, Node's headers) is mounted read-only.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { addon, CACHE_DIR, debian, layerZipPath, models, node, opencv, type ArchTarget } from '../inputs';
import { zipFolder } from '../../bundling/zip';
import { assembleLayer, type LayerManifest } from './assemble';
import { sha256File } from '../build-kit/cache';
import { ELF_MACHINES, readElfMachine } from '../build-kit/elf';
import { listFiles } from '../build-kit/files';
import { isCommittedModel, resolveCommittedModel } from './models';
import { ensureNodeDist } from '../build-kit/node-dist';
import { debootstrap, inRoot } from '../build-kit/roots';
import type { StageContext, StageDef } from '../build-kit/stages';

export const SCRIPTS = path.resolve(__dirname, '..', 'scripts');
const LAYER_DIR = path.resolve(__dirname, '..');
const PROJECT_ROOT = path.resolve(LAYER_DIR, '..');
export const JOBS = String(Math.max(1, Number(process.env.LAYER_JOBS) || os.availableParallelism()));

/** What the build's goals are: the zip, and the bare root verify:layer's smoke test runs in. */
export const BUILD_GOALS = ['layer', 'smoke-root'] as const;

function fileText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** What a cross build adds to the OpenCV step's environment (the target's pkg-config files only). */
export function crossEnv(target: ArchTarget): Record<string, string> {
  return target.emulator ? { PKG_CONFIG_LIBDIR: `/usr/lib/${target.gnuTriplet}/pkgconfig:/usr/share/pkgconfig` } : {};
}

export function layerStages(target: ArchTarget, jobs: string = JOBS): StageDef[] {
  const cross = !!target.emulator;
  // Step names of a cross build say which architecture; its folders (but the roots') start with it.
  const forArch = cross ? ` for ${target.arch}` : '';
  const tag = cross ? `${target.arch}-` : '';
  const yunet = models.find(isCommittedModel)!;
  return [
    {
      id: 'root',
      title: cross
        ? `build root (debian ${debian.suite} ${debian.variant} + ${target.gnuTriplet} cross toolchain and ${target.debianArch} libraries)`
        : `build root (debian ${debian.suite} ${debian.variant} + toolchain)`,
      keyPrefix: cross ? `build-${debian.suite}-cross-${target.arch}-` : `build-${debian.suite}-`,
      inputs: cross
        ? [debian.suite, debian.variant, target.buildPackages, target.debianArch, target.crossPackages]
        : [debian.suite, debian.variant, target.buildPackages],
      network: 'debian',
      root: true,
      commands: ['debootstrap', 'unshare', 'chroot'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'roots', key) },
      run: (ctx) =>
        debootstrap(ctx, ctx.out, ctx.mirror(), target.buildPackages, {
          suite: debian.suite,
          variant: debian.variant,
          cross: cross ? { debianArch: target.debianArch, packages: target.crossPackages } : undefined,
        }),
    },
    {
      id: 'source',
      title: `OpenCV ${opencv.version} source`,
      pin: opencv.sha256,
      network: 'debian',
      output: { kind: 'file', at: () => path.join(CACHE_DIR, 'downloads', opencv.file) },
      run: downloadSource,
    },
    {
      id: 'opencv',
      title: `OpenCV ${opencv.version} build${forArch} (${opencv.modules.length} modules, ${jobs} jobs)`,
      dependsOn: ['root', 'source'],
      inputs: [
        opencv.modules,
        target.cmakeFlags,
        fileText(path.join(SCRIPTS, 'build-opencv.sh')),
        ...(cross ? [fileText(path.join(SCRIPTS, 'toolchain-aarch64.cmake')), crossEnv(target)] : []),
      ],
      root: true,
      commands: ['tar', 'xz', 'unshare', 'chroot'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'opencv', `${opencv.version}-${tag}${key}`) },
      run: (ctx) => buildOpenCV(ctx, target, jobs),
    },
    {
      id: 'addon',
      title: `${addon.name} ${addon.version} addon for Node ${node.version}${forArch}`,
      // The source for OpenCV's licence (its install tree has only its third parties'); OpenCV's key
      // already covers the source, so the addon's key does not hash it again.
      dependsOn: ['root', 'opencv', 'source'],
      inputs: [
        node.version,
        fileText(path.join(addon.lockDir, 'package-lock.json')),
        fileText(path.join(SCRIPTS, 'build-addon.sh')),
        target.systemLibraries,
        opencv.addonModules,
        ...(cross ? [fileText(path.join(SCRIPTS, 'build-addon-cross.sh')), target.gnuTriplet, target.arch] : []),
      ],
      network: 'npm',
      root: true,
      commands: ['npm', 'tar', 'xz', 'unshare', 'chroot'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'addon', `${addon.version}-${tag}${key}`) },
      run: (ctx) => buildAddon(ctx, target, jobs),
    },
    {
      id: 'models',
      title: `model ${yunet.file} (sha256 checked)`,
      // The checksums of every model the layer ships (the cascades come with OpenCV's tree).
      pin: models.map((m) => m.sha256),
      run: async () => resolveCommittedModel(yunet, PROJECT_ROOT),
    },
    {
      id: 'layer',
      title: 'layer zip',
      dependsOn: ['addon', 'opencv', 'models'],
      inputs: [
        fileText(path.join(LAYER_DIR, 'rules', 'assemble.ts')),
        fileText(path.join(LAYER_DIR, 'runtime', 'opencv-build-shim.js')),
        // The zip writer and the library under it (the function bundles' too).
        fileText(path.join(PROJECT_ROOT, 'bundling', 'zip.ts')),
        `fflate@${JSON.parse(fileText(require.resolve('fflate/package.json'))).version}`,
      ],
      commands: ['readelf'],
      output: { kind: 'file', at: (key) => path.join(CACHE_DIR, 'layers', `${tag}${key}.zip`) },
      run: (ctx) => zipLayer(ctx, target),
    },
    {
      id: 'smoke-root',
      title: `smoke root (debian ${debian.suite} ${debian.variant}, ${cross ? `${target.debianArch}, first stage` : 'nothing else'})`,
      keyPrefix: cross ? `smoke-${debian.suite}-${target.arch}-` : `smoke-${debian.suite}-`,
      inputs: cross ? [debian.suite, debian.variant, 'smoke', target.debianArch, 'foreign'] : [debian.suite, debian.variant, 'smoke'],
      network: 'debian',
      root: true,
      commands: ['debootstrap'],
      output: { kind: 'dir', at: (key) => path.join(CACHE_DIR, 'roots', key) },
      // Bare minbase of the target architecture: no compiler, no image libraries, no OpenCV: proves
      // the layer brings its own. For a foreign architecture only debootstrap's first stage (loader,
      // libc, libstdc++ unpacked; configuring them would need the emulator registered in binfmt).
      run: (ctx) =>
        debootstrap(ctx, ctx.out, ctx.mirror(), [], {
          suite: debian.suite,
          variant: debian.variant,
          ...(cross ? { debianArch: target.debianArch, foreign: true } : {}),
        }),
    },
  ];
}

async function downloadSource(ctx: StageContext): Promise<void> {
  const url = `${ctx.mirror()}/${opencv.poolPath}/${opencv.file}`;
  ctx.log(`GET ${url}`);
  const res = await fetch(url, { signal: AbortSignal.timeout(15 * 60_000) });
  if (!res.ok || !res.body) throw new Error(`GET ${url} answered HTTP ${res.status}`);
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), fs.createWriteStream(ctx.out));
  const actual = sha256File(ctx.out);
  if (actual !== opencv.sha256) {
    fs.rmSync(ctx.out, { force: true });
    throw new Error(`sha256 of ${url} is ${actual}, expected ${opencv.sha256}`);
  }
}

/** Compiles OpenCV in an overlay over the build root; it installs straight into the stage's output (/opt). */
async function buildOpenCV(ctx: StageContext, target: ArchTarget, jobs: string): Promise<void> {
  const source = ctx.input('source');
  if (sha256File(source) !== opencv.sha256) throw new Error(`cached ${source} does not match its sha256; delete it and rerun`);
  const work = path.join(ctx.scratch, 'work');
  fs.mkdirSync(path.join(work, 'opencv-src'), { recursive: true });
  await ctx.exec(['tar', '-xJf', source, '-C', path.join(work, 'opencv-src'), '--strip-components=1']);
  fs.writeFileSync(path.join(work, 'cmake-flags.txt'), `${target.cmakeFlags.join('\n')}\n`);
  fs.copyFileSync(path.join(SCRIPTS, 'build-opencv.sh'), path.join(work, 'build-opencv.sh'));
  if (target.emulator) fs.copyFileSync(path.join(SCRIPTS, 'toolchain-aarch64.cmake'), path.join(work, 'toolchain-aarch64.cmake'));
  await ctx.exec(
    inRoot(ctx.input('root'), { JOBS: jobs, BUILD_LIST: opencv.modules.join(','), ...crossEnv(target) }, ['bash', '/work/build-opencv.sh'], {
      overlay: path.join(ctx.scratch, 'overlay'),
      binds: [
        { from: work, to: '/work' },
        { from: ctx.out, to: '/opt' },
      ],
    }),
  );
}

/** Fetches the addon's pinned packages on the host, compiles it in an overlay over the build root against OpenCV (read-only at /opt). */
async function buildAddon(ctx: StageContext, target: ArchTarget, jobs: string): Promise<void> {
  const nodeDir = ensureNodeDist(node.version, node.package);
  const work = path.join(ctx.scratch, 'work');
  fs.mkdirSync(path.join(work, 'addon'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(addon.lockDir, f), path.join(work, 'addon', f));
  // Fetch with the host's npm (registry access, CA setup); compile inside the root.
  await ctx.exec(['npm', 'ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: path.join(work, 'addon') });
  fs.copyFileSync(path.join(SCRIPTS, 'build-addon.sh'), path.join(work, 'build-addon.sh'));
  // build-addon.sh ships OpenCV's own licence from /work/opencv-src: taken here from this stage's
  // own dependency on the source (it used to be what the OpenCV stage left in a shared root).
  fs.mkdirSync(path.join(work, 'opencv-src'));
  await ctx.exec(['tar', '-xJf', ctx.input('source'), '-C', path.join(work, 'opencv-src'), '--strip-components=1', '--wildcards', '--no-wildcards-match-slash', '*/LICENSE']);
  if (!fs.existsSync(path.join(work, 'opencv-src', 'LICENSE'))) throw new Error(`no LICENSE at the top of ${ctx.input('source')}`);
  const env = { JOBS: jobs, SYSTEM_LIBS: target.systemLibraries.join(' '), ADDON_MODULES: opencv.addonModules.join(' ') };
  const mounts = {
    overlay: path.join(ctx.scratch, 'overlay'),
    binds: [
      { from: work, to: '/work' },
      { from: ctx.input('opencv'), to: '/opt', readOnly: true },
      { from: path.join(nodeDir, 'bin'), to: '/node/bin', readOnly: true },
      { from: path.join(nodeDir, 'include'), to: '/node/include', readOnly: true },
    ],
  };
  if (target.emulator) {
    // The x64 Node runs node-gyp; the wrapper points it and build-addon.sh at the cross tools.
    fs.copyFileSync(path.join(SCRIPTS, 'build-addon-cross.sh'), path.join(work, 'build-addon-cross.sh'));
    await ctx.exec(inRoot(ctx.input('root'), { ...env, TRIPLET: target.gnuTriplet, NODE_GYP_ARCH: target.arch }, ['bash', '/work/build-addon-cross.sh'], mounts));
  } else {
    await ctx.exec(inRoot(ctx.input('root'), env, ['bash', '/work/build-addon.sh'], mounts));
  }
  const machine = readElfMachine(path.join(work, 'out', 'addon', 'opencv4nodejs.node'));
  if (machine !== target.elfMachine.code) {
    throw new Error(`the addon was built for ${ELF_MACHINES[machine ?? -1] ?? `e_machine ${machine}`}, not ${target.elfMachine.name}`);
  }
  fs.cpSync(path.join(work, 'out'), ctx.out, { recursive: true });
  const pkg = path.join(work, 'addon', 'node_modules', '@u4', 'opencv4nodejs');
  for (const f of ['cjs', 'package.json', 'LICENSE']) fs.cpSync(path.join(pkg, f), path.join(ctx.out, 'pkg', f), { recursive: true });
  fs.writeFileSync(path.join(ctx.out, 'node-abi.txt'), fileText(path.join(nodeDir, 'include', 'node', 'node_version.h')).match(/#define NODE_MODULE_VERSION (\d+)/)![1]);
}

/** Lays the layer out in scratch, zips it, and writes the manifest beside the zip (before the zip is renamed into place). */
async function zipLayer(ctx: StageContext, target: ArchTarget): Promise<void> {
  const addonDir = ctx.input('addon');
  const tree = path.join(ctx.scratch, 'tree');
  fs.mkdirSync(tree);
  const manifest = await assembleLayer(tree, {
    arch: target.arch,
    addonDir,
    opencvDir: ctx.input('opencv'),
    yunetModel: ctx.input('models'),
    nodeAbi: fileText(path.join(addonDir, 'node-abi.txt')).trim(),
  });
  fs.writeFileSync(ctx.out, zipFolder(tree));
  const full = { ...manifest, zip: path.basename(layerZipPath(target.arch)), zippedBytes: fs.statSync(ctx.out).size, zipSha256: sha256File(ctx.out) };
  fs.writeFileSync(sideManifest(ctx.final), `${JSON.stringify(full, null, 2)}\n`);
  ctx.log(`files: ${listFiles(tree).length}`);
}

/** The manifest kept beside a cached zip (with the zip's own size and checksum). */
export function sideManifest(zip: string): string {
  return zip.replace(/\.zip$/, '.manifest.json');
}

export type SideManifest = LayerManifest & { zip: string; zippedBytes: number; zipSha256: string };
