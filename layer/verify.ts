/**
 * `npm run verify:layer [-- --arch x86_64|arm64] [zip]`: proves the layer zip will load on Lambda's
 * nodejs24.x for that architecture (x86_64 unless `--arch` says otherwise).
 *
 *   1. ELF: every binary's architecture, GLIBC/GLIBCXX ceiling and each NEEDED library (lib/ or
 *      the allowlist)
 *   2. sizes against the budget, manifest and model checksums
 *   3. smoke: a clean Debian minbase root (no compiler, no image libraries, no OpenCV) with only
 *      the layer at /opt (read-only) and Node 24, in Lambda's environment, loads the addon and
 *      both detectors, finds the faces in a sample image; run several times for the cold start.
 *      Then both detectors' boxes on a labelled photo, matched to its labels (and, for arm64,
 *      compared with x86_64's report). arm64 runs under qemu-user (its timings mean nothing).
 *
 * Prints what it decided from, writes layer/dist/verify-report.json, exits non-zero on any failure.
 * `--no-smoke` runs 1-2 only (no root needed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CACHE_DIR, debian, LAYER_ARCH, LAYER_BUDGET, LAYER_LAYOUT, layerZipPath, models, node, verifyReportPath, type ArchTarget } from './inputs';
import { sha256File } from './build-kit/cache';
import { isElf, readElf, readElfMachine } from './build-kit/elf';
import { listFiles } from './build-kit/files';
import { ensureNodeDist } from './build-kit/node-dist';
import { reachableMirror, requireCommands, requireRoot } from './build-kit/prerequisites';
import { inRoot } from './build-kit/roots';
import { planStages, runStages } from './build-kit/stages';
import { MissingPrerequisite } from './build-kit/steps';
import { parseArchArgs, targetFor, UsageError } from './rules/arch';
import type { LayerManifest } from './rules/assemble';
import { checkElfFiles, checkSizes, compareBoxes, foreignLibraries, formatElfTable, labelsFound, mb, median, parseLabels, type BoxComparison, type FaceBox } from './rules/checks';
import { layerStages } from './rules/layer-stages';
import { bundleSmoke } from './smoke/bundle';

const SAMPLE = path.resolve(__dirname, '..', 'samples', 'astronaut.png');
/** A labelled photo (7 faces of 37-45 px; labels in training.xml beside it). */
const LABELLED = path.resolve(__dirname, '..', '__tests__', 'fixtures', 'faces', '2007_007763.jpg');
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
  more: { file: string; width: number; height: number; yunet: FaceBox[]; haar: FaceBox[] }[];
}


async function main(): Promise<void> {
  const { arch, rest: args } = parseArchArgs(process.argv.slice(2));
  const target = targetFor(arch);
  const smoke = !args.includes('--no-smoke');
  const unknown = args.find((a) => a.startsWith('--') && a !== '--no-smoke');
  if (unknown) throw new UsageError(`unknown option ${unknown}; usage: verify:layer [-- --arch x86_64|arm64] [--no-smoke] [zip]`);
  const zip = path.resolve(args.find((a) => !a.startsWith('--')) ?? layerZipPath(arch));
  const build = arch === LAYER_ARCH ? 'npm run build:layer' : `npm run build:layer -- --arch ${arch}`;
  if (!fs.existsSync(zip)) throw new MissingPrerequisite(`no layer at ${zip}: build it with \`${build}\``);
  requireCommands(['unzip', 'readelf']);
  const failures: string[] = [];
  const report: Record<string, unknown> = { arch, zip: path.relative(process.cwd(), zip), zipSha256: sha256File(zip) };

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
      .map((f) => ({ file: f, bytes: fs.statSync(path.join(opt, f)).size, info: readElf(path.join(opt, f)), machine: readElfMachine(path.join(opt, f)) }));
    if (!elfFiles.some((f) => f.file.endsWith('opencv4nodejs.node'))) failures.push('the addon (opencv4nodejs.node) is not in the zip');
    const rows = checkElfFiles(elfFiles, layerLibs, {
      maxGlibc: LAYER_BUDGET.maxGlibc,
      maxGlibcxx: LAYER_BUDGET.maxGlibcxx,
      systemLibraries: target.systemLibraries,
      machine: target.elfMachine,
    });
    console.log(
      `ELF files (${target.elfMachine.name}; ceilings GLIBC ${LAYER_BUDGET.maxGlibc}, GLIBCXX ${LAYER_BUDGET.maxGlibcxx}; system: ${target.systemLibraries.join(' ')})\n`,
    );
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
      if (manifest.architecture !== arch) failures.push(`manifest says ${manifest.architecture}, expected ${arch}`);
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
      const result = await smokeTest(opt, target, failures);
      report.smoke = result;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }

  report.failures = failures;
  fs.mkdirSync(path.dirname(verifyReportPath(arch)), { recursive: true });
  // Written whole, then renamed: the other architecture's run may be reading it at the same time.
  fs.writeFileSync(`${verifyReportPath(arch)}.partial`, `${JSON.stringify(report, null, 2)}\n`);
  fs.renameSync(`${verifyReportPath(arch)}.partial`, verifyReportPath(arch));
  if (failures.length) {
    console.log(`\nFAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\nlayer verified: ok');
}

async function smokeTest(opt: string, target: ArchTarget, failures: string[]): Promise<unknown> {
  requireRoot();
  // The smoke root is the build table's stage: made by the build (where the archive is reachable),
  // made here only when it is missing.
  const plan = planStages(layerStages(target), ['smoke-root']);
  requireCommands([...plan.needs.commands, 'unshare', 'chroot', ...(target.emulator ? [target.emulator] : [])]);
  const outputs = await runStages(plan, {
    logDir: path.join(CACHE_DIR, 'logs'),
    logPrefix: `${target.arch}-`,
    scratchDir: path.join(CACHE_DIR, 'scratch'),
    mirror: () => reachableMirror(debian.suite),
    out: (l) => console.log(l),
  });
  const root = outputs.get('smoke-root')!;

  // Nothing the layer needs may already be in the root: that is what makes the test hermetic.
  const borrowed = execFileSync('find', [root, '-xdev', '(', '-name', 'libopencv*', '-o', '-name', 'libjpeg*', '-o', '-name', 'libpng*', '-o', '-name', 'libprotobuf*', '-o', '-name', 'libwebp*', '-o', '-path', '*/bin/gcc*', '-o', '-path', '*/bin/g++*', '-o', '-name', 'cc1plus', ')', '-not', '-path', `${root}/opt/*`], { encoding: 'utf8' }).trim();
  if (borrowed) failures.push(`smoke root is not clean: ${borrowed.split('\n').join(', ')}`);

  // The root is never written: the command runs in an overlay over it, and the layer (at /opt),
  // Node, the task folder and the emulator are mounted read-only.
  const nodeDir = ensureNodeDist(node.version, target.nodePackage);
  const task = path.join(path.dirname(opt), 'task');
  fs.mkdirSync(task, { recursive: true });
  fs.copyFileSync(SAMPLE, path.join(task, path.basename(SAMPLE)));
  fs.copyFileSync(LABELLED, path.join(task, path.basename(LABELLED)));
  await bundleSmoke(path.join(task, 'smoke.js'));
  // Boxes are compared across architectures only between runs of the same detector code.
  const bundleSha256 = sha256File(path.join(task, 'smoke.js'));
  const binds = [
    { from: opt, to: '/opt', readOnly: true },
    { from: path.join(nodeDir, 'bin', 'node'), to: '/var/lang/bin/node', readOnly: true },
    { from: task, to: '/var/task', readOnly: true },
  ];
  let emulator: string | undefined;
  if (target.emulator) {
    // The emulator is static: it runs inside the foreign root, called by in-root.sh (no binfmt).
    const host = execFileSync('sh', ['-c', 'command -v "$1"', 'sh', target.emulator], { encoding: 'utf8' }).trim();
    emulator = `/usr/bin/${target.emulator}`;
    binds.push({ from: host, to: emulator, readOnly: true });
  }
  const overlay = path.join(path.dirname(opt), 'overlay');

  const runs: SmokeResult[] = [];
  for (let i = 0; i < SMOKE_RUNS; i++) {
    // The labelled photo in the first run only: its boxes are what is compared, not its timing.
    const images = [`/var/task/${path.basename(SAMPLE)}`, ...(i === 0 ? [`/var/task/${path.basename(LABELLED)}`] : [])];
    fs.rmSync(overlay, { recursive: true, force: true });
    const argv = inRoot(root, LAMBDA_ENV, ['/var/lang/bin/node', '/var/task/smoke.js', ...images], { overlay, binds, emulator });
    const res = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (res.status !== 0) {
      failures.push(`smoke run failed (exit ${res.status}): ${(res.stderr || res.stdout).trim().split('\n').slice(-5).join(' | ')}`);
      return { error: res.stderr };
    }
    runs.push(JSON.parse(res.stdout.trim().split('\n').pop()!));
  }
  const first = runs[0];
  const foreign = foreignLibraries(first.mappedLibraries, target.systemLibraries);
  const emulated = target.emulator ? `, under ${target.emulator}: timings are the emulator's, not Lambda's` : '';
  console.log(`\nsmoke (clean ${debian.suite} ${target.debianArch} root, layer read-only at /opt, Node ${first.node}, OpenCV ${first.opencv}${emulated}):`);
  console.log(`  image ${SAMPLE.split('/').pop()} ${first.image.width}x${first.image.height}: YuNet ${first.yunet.faces} face(s) in ${first.yunet.ms} ms, Haar ${first.haar.faces} in ${first.haar.ms} ms`);
  console.log(`  libraries mapped: ${first.mappedLibraries.length}, from outside /opt and the system allowlist: ${foreign.length ? foreign.join(' ') : 'none'}`);
  console.log(
    `  cold start over ${runs.length} fresh processes (median): addon loaded ${median(runs.map((r) => r.addonLoadedMs))} ms, ` +
      `models ready ${median(runs.map((r) => r.modelsReadyMs))} ms after process start; ` +
      // The emulator does not report the guest's resident memory.
      (target.emulator ? 'RSS not measured under emulation' : `RSS ${median(runs.map((r) => r.rssMb))} MB`),
  );
  if (first.yunet.faces !== 1) failures.push(`YuNet found ${first.yunet.faces} faces in the one-face sample`);
  if (first.haar.faces < 1) failures.push('Haar found no face in the sample');
  if (foreign.length) failures.push(`libraries borrowed from outside the layer: ${foreign.join(', ')}`);
  const labelled = labelledPhoto(first, target, bundleSha256, failures);
  return {
    runs: runs.length,
    bundleSha256,
    node: first.node,
    opencv: first.opencv,
    yunetFaces: first.yunet.faces,
    haarFaces: first.haar.faces,
    addonLoadedMsMedian: median(runs.map((r) => r.addonLoadedMs)),
    modelsReadyMsMedian: median(runs.map((r) => r.modelsReadyMs)),
    rssMbMedian: median(runs.map((r) => r.rssMb)),
    mappedLibraries: first.mappedLibraries,
    labelled,
  };
}

/**
 * The labelled photo: how many labelled faces each detector found, and (for another architecture
 * than x86_64, when x86_64's report is there) how far its boxes are from x86_64's.
 */
function labelledPhoto(run: SmokeResult, target: ArchTarget, bundleSha256: string, failures: string[]): unknown {
  const photo = run.more[0];
  const labels = parseLabels(fs.readFileSync(path.join(path.dirname(LABELLED), 'training.xml'), 'utf8'), photo.file);
  const found = { yunet: labelsFound(labels, photo.yunet), haar: labelsFound(labels, photo.haar) };
  console.log(
    `  labelled ${photo.file} ${photo.width}x${photo.height}, ${labels.length} faces: YuNet ${photo.yunet.length} box(es) covering ${found.yunet}, ` +
      `Haar ${photo.haar.length} covering ${found.haar} (IoU >= 0.3)`,
  );
  if (found.yunet < labels.length - 1) failures.push(`YuNet found ${found.yunet} of the ${labels.length} labelled faces in ${photo.file}`);
  let vsX86: Record<'yunet' | 'haar', BoxComparison> | undefined;
  const x86Report = verifyReportPath(LAYER_ARCH);
  if (target.arch !== LAYER_ARCH) {
    const x86Smoke = readReport(x86Report)?.smoke;
    const x86 = x86Smoke?.labelled;
    if (x86?.file !== photo.file) {
      console.log(`  vs x86_64: no x86_64 boxes for ${photo.file} in ${x86Report} (run \`npm run verify:layer\` first to compare)`);
    } else if (x86Smoke?.bundleSha256 !== bundleSha256) {
      console.log(`  vs x86_64: ${x86Report} comes from other detector code (smoke bundle changed): run \`npm run verify:layer\` again to compare`);
    } else {
      vsX86 = { yunet: compareBoxes(photo.yunet, x86.yunet), haar: compareBoxes(photo.haar, x86.haar) };
      for (const [name, c] of Object.entries(vsX86)) {
        console.log(`  vs x86_64 (${path.basename(x86Report)}), ${name}: ${c.pairs} pairs, ${c.unpaired} unpaired, at most ${c.maxDeltaPx.toFixed(2)} px apart`);
        if (c.unpaired || c.maxDeltaPx > BOX_TOLERANCE_PX) failures.push(`${name} boxes differ from x86_64's: ${c.unpaired} unpaired, ${c.maxDeltaPx} px apart`);
      }
    }
  }
  return { file: photo.file, labels: labels.length, found, yunet: photo.yunet, haar: photo.haar, vsX86 };
}

interface ReportSmoke {
  smoke?: { bundleSha256?: string; labelled?: { file: string; yunet: FaceBox[]; haar: FaceBox[] } };
}

/** Another run's report, or undefined when it is missing or unreadable. */
function readReport(file: string): ReportSmoke | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ReportSmoke;
  } catch {
    return undefined;
  }
}

/** Boxes of the same photo on two architectures may differ by float rounding, not more. */
const BOX_TOLERANCE_PX = 2;

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`verify:layer: ${message}\n`);
  process.exit(err instanceof MissingPrerequisite || err instanceof UsageError ? 2 : 1);
});
