/**
 * `npm run verify:layer [zip]`: proves the layer zip will load on Lambda's nodejs24.x.
 *
 *   1. ELF: every binary's GLIBC/GLIBCXX ceiling and each NEEDED library (lib/ or the allowlist)
 *   2. sizes against the budget, manifest and model checksums
 *   3. smoke: a clean Debian minbase root (no compiler, no image libraries, no OpenCV) with only
 *      the layer at /opt (read-only) and Node 24, in Lambda's environment, loads the addon and
 *      both detectors, finds the faces in a sample image; run several times for the cold start.
 *
 * Prints what it decided from, writes layer/dist/verify-report.json, exits non-zero on any failure.
 * `--no-smoke` runs 1-2 only (no root needed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { debian, LAYER_BUDGET, LAYER_LAYOUT, LAYER_ZIP, models } from './inputs';
import type { LayerManifest } from './lib/assemble';
import { listFiles } from './lib/assemble';
import { sha256File } from './lib/cache';
import { checkElfFiles, checkSizes, foreignLibraries, formatElfTable, mb, median } from './lib/checks';
import { isElf, readElf } from './lib/elf';
import { ensureNodeDist } from './lib/node-dist';
import { reachableMirror, requireCommands, requireRoot } from './lib/prerequisites';
import { ensureSmokeRoot, inRoot, smokeRootEntry } from './lib/roots';
import { MissingPrerequisite, StepRunner } from './lib/steps';
import { bundleSmoke } from './smoke/bundle';

const SAMPLE = path.resolve(__dirname, '..', 'samples', 'astronaut.png');
const SMOKE_RUNS = Number(process.env.LAYER_SMOKE_RUNS) || 5;

/** Lambda's nodejs24.x environment, as its runtime sets it (the parts that decide loading). */
const LAMBDA_ENV = {
  LAMBDA_TASK_ROOT: '/var/task',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
  NODE_PATH: '/opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task',
  LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
  PATH: '/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin',
  TZ: ':UTC',
  OPENCV_LOG_LEVEL: 'ERROR',
};

interface SmokeResult {
  opencv: string;
  node: string;
  addonLoadedMs: number;
  modelsReadyMs: number;
  image: { width: number; height: number };
  yunet: { faces: number; ms: number };
  haar: { faces: number; ms: number };
  rssMb: number;
  mappedLibraries: string[];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = !args.includes('--no-smoke');
  const zip = path.resolve(args.find((a) => !a.startsWith('--')) ?? LAYER_ZIP);
  if (!fs.existsSync(zip)) throw new MissingPrerequisite(`no layer at ${zip}: build it with \`npm run build:layer\``);
  requireCommands(['unzip', 'readelf']);
  const failures: string[] = [];
  const report: Record<string, unknown> = { zip: path.relative(process.cwd(), zip), zipSha256: sha256File(zip) };

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'layer-verify-'));
  try {
    const opt = path.join(work, 'opt');
    execFileSync('unzip', ['-q', zip, '-d', opt]);
    const files = listFiles(opt);

    // 1. ELF
    const libDir = path.join(opt, LAYER_LAYOUT.lib);
    const layerLibs = new Set(fs.existsSync(libDir) ? fs.readdirSync(libDir) : []);
    const elfFiles = files
      .filter((f) => isElf(path.join(opt, f)))
      .map((f) => ({ file: f, bytes: fs.statSync(path.join(opt, f)).size, info: readElf(path.join(opt, f)) }));
    if (!elfFiles.some((f) => f.file.endsWith('opencv4nodejs.node'))) failures.push('the addon (opencv4nodejs.node) is not in the zip');
    const rows = checkElfFiles(elfFiles, layerLibs, { maxGlibc: LAYER_BUDGET.maxGlibc, maxGlibcxx: LAYER_BUDGET.maxGlibcxx, systemLibraries: LAYER_BUDGET.systemLibraries });
    console.log(`ELF files (ceilings GLIBC ${LAYER_BUDGET.maxGlibc}, GLIBCXX ${LAYER_BUDGET.maxGlibcxx}; system: ${LAYER_BUDGET.systemLibraries.join(' ')})\n`);
    console.log(formatElfTable(rows));
    rows.forEach((r) => r.problems.forEach((p) => failures.push(`${r.file}: ${p}`)));
    report.elf = rows;

    // 2. Sizes, manifest, models
    const unzipped = files.reduce((sum, f) => sum + fs.statSync(path.join(opt, f)).size, 0);
    const sizes = checkSizes(fs.statSync(zip).size, unzipped, LAYER_BUDGET);
    console.log(
      `\nsize: ${mb(sizes.zippedBytes)} zipped (budget ${mb(LAYER_BUDGET.zippedBytes)}), ` +
        `${mb(sizes.unzippedBytes)} unzipped (budget ${mb(LAYER_BUDGET.unzippedBytes)}; Lambda allows 250 MB), ${files.length} files`,
    );
    failures.push(...sizes.problems);
    report.sizes = sizes;
    const manifestFile = path.join(opt, LAYER_LAYOUT.manifest);
    if (!fs.existsSync(manifestFile)) failures.push('manifest.json is missing');
    else {
      const manifest: LayerManifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      console.log(`manifest: OpenCV ${manifest.opencv.version} (${manifest.opencv.source}), ${manifest.addon.name} ${manifest.addon.version}, Node ABI ${manifest.addon.nodeAbi}, ${manifest.architecture}`);
      for (const model of models) {
        const file = path.join(opt, LAYER_LAYOUT.models, model.file);
        const listed = manifest.models.find((m) => m.file === model.file);
        if (!fs.existsSync(file)) failures.push(`model ${model.file} is missing`);
        else if (sha256File(file) !== model.sha256) failures.push(`model ${model.file} does not match its pinned sha256`);
        else if (!listed || listed.sha256 !== model.sha256) failures.push(`manifest does not record ${model.file} with its sha256`);
        else console.log(`model: ${listed.path} ${listed.sha256.slice(0, 16)}… ok`);
      }
      report.manifest = manifest;
    }

    // 3. Smoke in a clean root
    if (smoke) {
      const result = await smokeTest(opt, failures);
      report.smoke = result;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }

  report.failures = failures;
  fs.mkdirSync(path.dirname(LAYER_ZIP), { recursive: true });
  fs.writeFileSync(path.join(path.dirname(LAYER_ZIP), 'verify-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (failures.length) {
    console.log(`\nFAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\nlayer verified: ok');
}

async function smokeTest(opt: string, failures: string[]): Promise<unknown> {
  requireRoot();
  // debootstrap only when the build has not made the smoke root yet.
  requireCommands(smokeRootEntry().exists() ? ['unshare', 'chroot'] : ['debootstrap', 'unshare', 'chroot']);
  const steps = new StepRunner(path.join(path.dirname(smokeRootEntry().dir), '..', 'logs'), 1, (l) => console.log(l));
  const root = await ensureSmokeRoot(steps, () => reachableMirror(debian.suite));

  // Nothing the layer needs may already be in the root: that is what makes the test hermetic.
  const borrowed = execFileSync('find', [root, '-xdev', '(', '-name', 'libopencv*', '-o', '-name', 'libjpeg*', '-o', '-name', 'libpng*', '-o', '-name', 'libprotobuf*', '-o', '-name', 'libwebp*', '-o', '-path', '*/bin/gcc*', '-o', '-path', '*/bin/g++*', '-o', '-name', 'cc1plus', ')', '-not', '-path', `${root}/opt/*`], { encoding: 'utf8' }).trim();
  if (borrowed) failures.push(`smoke root is not clean: ${borrowed.split('\n').join(', ')}`);

  const nodeDir = ensureNodeDist();
  fs.rmSync(path.join(root, 'opt'), { recursive: true, force: true });
  fs.cpSync(opt, path.join(root, 'opt'), { recursive: true });
  fs.mkdirSync(path.join(root, 'var', 'lang', 'bin'), { recursive: true });
  fs.copyFileSync(path.join(nodeDir, 'bin', 'node'), path.join(root, 'var', 'lang', 'bin', 'node'));
  fs.chmodSync(path.join(root, 'var', 'lang', 'bin', 'node'), 0o755);
  const task = path.join(root, 'var', 'task');
  fs.rmSync(task, { recursive: true, force: true });
  fs.mkdirSync(task, { recursive: true });
  fs.copyFileSync(SAMPLE, path.join(task, path.basename(SAMPLE)));
  await bundleSmoke(path.join(task, 'smoke.js'));

  const runs: SmokeResult[] = [];
  for (let i = 0; i < SMOKE_RUNS; i++) {
    const argv = inRoot(root, LAMBDA_ENV, ['/var/lang/bin/node', '/var/task/smoke.js', `/var/task/${path.basename(SAMPLE)}`]);
    const res = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, IN_ROOT_READONLY: 'opt' } });
    if (res.status !== 0) {
      failures.push(`smoke run failed (exit ${res.status}): ${(res.stderr || res.stdout).trim().split('\n').slice(-5).join(' | ')}`);
      return { error: res.stderr };
    }
    runs.push(JSON.parse(res.stdout.trim().split('\n').pop()!));
  }
  const first = runs[0];
  const foreign = foreignLibraries(first.mappedLibraries, LAYER_BUDGET.systemLibraries);
  console.log(`\nsmoke (clean ${debian.suite} root, layer read-only at /opt, Node ${first.node}, OpenCV ${first.opencv}):`);
  console.log(`  image ${SAMPLE.split('/').pop()} ${first.image.width}x${first.image.height}: YuNet ${first.yunet.faces} face(s) in ${first.yunet.ms} ms, Haar ${first.haar.faces} in ${first.haar.ms} ms`);
  console.log(`  libraries mapped: ${first.mappedLibraries.length}, from outside /opt and the system allowlist: ${foreign.length ? foreign.join(' ') : 'none'}`);
  console.log(
    `  cold start over ${runs.length} fresh processes (median): addon loaded ${median(runs.map((r) => r.addonLoadedMs))} ms, ` +
      `models ready ${median(runs.map((r) => r.modelsReadyMs))} ms after process start; RSS ${median(runs.map((r) => r.rssMb))} MB`,
  );
  if (first.yunet.faces !== 1) failures.push(`YuNet found ${first.yunet.faces} faces in the one-face sample`);
  if (first.haar.faces < 1) failures.push('Haar found no face in the sample');
  if (foreign.length) failures.push(`libraries borrowed from outside the layer: ${foreign.join(', ')}`);
  return {
    runs: runs.length,
    node: first.node,
    opencv: first.opencv,
    yunetFaces: first.yunet.faces,
    haarFaces: first.haar.faces,
    addonLoadedMsMedian: median(runs.map((r) => r.addonLoadedMs)),
    modelsReadyMsMedian: median(runs.map((r) => r.modelsReadyMs)),
    rssMbMedian: median(runs.map((r) => r.rssMb)),
    mappedLibraries: first.mappedLibraries,
  };
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`verify:layer: ${message}\n`);
  process.exit(err instanceof MissingPrerequisite ? 2 : 1);
});
