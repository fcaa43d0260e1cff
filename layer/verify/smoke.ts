/**
 * verify:layer's smoke test: a clean Debian minbase root (no compiler, no image libraries, no
 * OpenCV) with only the layer at /opt (read-only) and Node, in Lambda's environment, loads the
 * addon, both detectors and YuNet 2022mar (the cascade's second network: its output sizes checked)
 * and finds the faces in a sample image, several times for the cold start; then the boxes of both
 * detectors and 2022mar on a labelled photo, matched to its labels (and, for arm64, compared with
 * x86_64's report). arm64 runs under qemu-user (its timings mean nothing).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DETECT_ENV, QUIET_OPENCV_LOG_LEVEL } from '../../functions/detect-faces/contract';
import { CACHE_DIR, CACHE_HOME, debian, LAMBDA_RUNTIME, LAYER_ARCH, node, verifyReportPath, type ArchTarget } from '../inputs';
import { sha256File } from '../build-kit/cache';
import { ensureNodeDist } from '../build-kit/node-dist';
import { reachableMirror, requireCommands, requireRoot } from '../build-kit/prerequisites';
import { inRoot } from '../build-kit/roots';
import { runGoals } from '../build-kit/stages';
import { compareBoxes, foreignLibraries, labelsFound, median, parseLabels, type BoxComparison, type FaceBox } from '../rules/checks';
import { planLayer } from '../rules/layer-stages';
import { bundleSmoke } from '../smoke/bundle';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'astronaut.png');
/** A labelled photo (7 faces of 37-45 px; labels in training.xml beside it). */
const LABELLED = path.resolve(__dirname, '..', '..', '__tests__', 'fixtures', 'faces', '2007_007763.jpg');
const SMOKE_RUNS = Number(process.env.LAYER_SMOKE_RUNS) || 5;

/** Lambda's environment, as its runtime sets it (the parts that decide loading). */
const LAMBDA_ENV = {
  LAMBDA_TASK_ROOT: '/var/task',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
  NODE_PATH: `${LAMBDA_RUNTIME.layerNodePath}:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
  LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
  PATH: '/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin',
  TZ: ':UTC',
  [DETECT_ENV.opencvLogLevel.env]: QUIET_OPENCV_LOG_LEVEL,
};

interface SmokeResult {
  opencv: string;
  node: string;
  addonLoadedMs: number;
  modelsReadyMs: number;
  image: { width: number; height: number };
  yunet: { faces: number; ms: number };
  haar: { faces: number; ms: number };
  /** The cascade's second network: one forward on a small input (output sizes), then the sample. */
  yunet2022: { loadMs: number; outputs: { width: number; height: number; priors: number; got: Record<string, number>; expected: Record<string, number>; ok: boolean }; faces: number; ms: number };
  rssMb: number;
  mappedLibraries: string[];
  /** Our jpeg-lossless addon filling the sample's faces in its coefficients (layer/smoke/smoke.ts). */
  lossless:
    | { error: string }
    | { ms: number; bytes: number; sameSize: boolean; compared: number; farUnchanged: boolean; centresBlack: boolean; reduced: { sameSize: boolean; meanDiff: number; maxDiff: number }; releaseFreeMemory: boolean };
  more: { file: string; width: number; height: number; yunet: FaceBox[]; haar: FaceBox[]; yunet2022: FaceBox[] }[];
}


/**
 * The bare root the smoke test runs in: the build table's stage, made by the build (where the
 * archive is reachable), made here only when it is missing, under the cache's lock like any build.
 */
export async function smokeRoot(target: ArchTarget, out: (line: string) => void = (l) => console.log(l)): Promise<string> {
  const outputs = await runGoals(() => planLayer(target, ['smoke-root']), {
    lockDir: CACHE_DIR,
    logDir: path.join(CACHE_DIR, 'logs'),
    logPrefix: `${target.arch}-`,
    scratchDir: path.join(CACHE_DIR, 'scratch'),
    mirror: () => reachableMirror(debian.suite),
    out,
  });
  return outputs.get('smoke-root')!;
}

/** Runs the layer unzipped at `opt` in the clean root; prints what it saw, adds to `failures`, returns the report's part. */
export async function smokeTest(opt: string, target: ArchTarget, failures: string[]): Promise<unknown> {
  requireRoot();
  requireCommands(['unshare', 'chroot', ...(target.emulator ? [target.emulator] : [])]);
  const root = await smokeRoot(target);

  // Nothing the layer needs may already be in the root: that is what makes the test hermetic.
  const borrowed = execFileSync('find', [root, '-xdev', '(', '-name', 'libopencv*', '-o', '-name', 'libjpeg*', '-o', '-name', 'libpng*', '-o', '-name', 'libprotobuf*', '-o', '-name', 'libwebp*', '-o', '-path', '*/bin/gcc*', '-o', '-path', '*/bin/g++*', '-o', '-name', 'cc1plus', ')', '-not', '-path', `${root}/opt/*`], { encoding: 'utf8' }).trim();
  if (borrowed) failures.push(`smoke root is not clean: ${borrowed.split('\n').join(', ')}`);

  // The root is never written: the command runs in an overlay over it, and the layer (at /opt),
  // Node, the task folder and the emulator are mounted read-only.
  const nodeDir = ensureNodeDist(node.version, target.nodePackage, CACHE_HOME);
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
  const second = first.yunet2022;
  const sizes = (o: Record<string, number>) => Object.entries(o).map(([name, n]) => `${name} ${n}`).join(', ');
  console.log(
    `  YuNet 2022mar: loaded in ${second.loadMs} ms; ${second.outputs.width}x${second.outputs.height} input, ${second.outputs.priors} priors: ${sizes(second.outputs.got)} ` +
      `(expected ${sizes(second.outputs.expected)}); ${second.faces} face(s) in the sample in ${second.ms} ms`,
  );
  console.log(`  libraries mapped: ${first.mappedLibraries.length}, from outside /opt and the system allowlist: ${foreign.length ? foreign.join(' ') : 'none'}`);
  console.log(
    `  cold start over ${runs.length} fresh processes (median): addon loaded ${median(runs.map((r) => r.addonLoadedMs))} ms, ` +
      `models ready ${median(runs.map((r) => r.modelsReadyMs))} ms after process start; ` +
      // The emulator does not report the guest's resident memory.
      (target.emulator ? 'RSS not measured under emulation' : `RSS ${median(runs.map((r) => r.rssMb))} MB`),
  );
  if (first.yunet.faces !== 1) failures.push(`YuNet found ${first.yunet.faces} faces in the one-face sample`);
  if (first.haar.faces < 1) failures.push('Haar found no face in the sample');
  if (!second.outputs.ok) failures.push(`YuNet 2022mar's outputs for a ${second.outputs.width}x${second.outputs.height} input: ${sizes(second.outputs.got)}, expected ${sizes(second.outputs.expected)}`);
  if (second.faces !== 1) failures.push(`YuNet 2022mar found ${second.faces} faces in the one-face sample`);
  if (foreign.length) failures.push(`libraries borrowed from outside the layer: ${foreign.join(', ')}`);
  const lossless = first.lossless;
  if ('error' in lossless) failures.push(`jpeg-lossless: ${lossless.error}`);
  else {
    console.log(`  jpeg-lossless: faces filled in the coefficients in ${lossless.ms} ms, ${lossless.bytes} bytes; ${lossless.compared} pixels away from the faces unchanged: ${lossless.farUnchanged}, face centres black: ${lossless.centresBlack}`);
    console.log(`  jpeg-lossless: detection's image at 1/2, made while the coefficients are read, against OpenCV's scaled decode: same size ${lossless.reduced.sameSize}, mean difference ${lossless.reduced.meanDiff}, largest ${lossless.reduced.maxDiff}`);
    // The same libjpeg makes both (the addon drives its scaled decode): equal.
    const reducedOk = lossless.reduced.sameSize && lossless.reduced.maxDiff === 0;
    if (!lossless.sameSize || !lossless.farUnchanged || !lossless.centresBlack || !reducedOk || !lossless.releaseFreeMemory) failures.push(`jpeg-lossless: ${JSON.stringify(lossless)}`);
  }
  const labelled = labelledPhoto(first, target, bundleSha256, failures);
  return {
    runs: runs.length,
    bundleSha256,
    node: first.node,
    opencv: first.opencv,
    yunetFaces: first.yunet.faces,
    haarFaces: first.haar.faces,
    yunet2022: { outputs: second.outputs, faces: second.faces },
    addonLoadedMsMedian: median(runs.map((r) => r.addonLoadedMs)),
    modelsReadyMsMedian: median(runs.map((r) => r.modelsReadyMs)),
    rssMbMedian: median(runs.map((r) => r.rssMb)),
    mappedLibraries: first.mappedLibraries,
    lossless,
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
  const found = { yunet: labelsFound(labels, photo.yunet), haar: labelsFound(labels, photo.haar), yunet2022: labelsFound(labels, photo.yunet2022) };
  console.log(
    `  labelled ${photo.file} ${photo.width}x${photo.height}, ${labels.length} faces: YuNet ${photo.yunet.length} box(es) covering ${found.yunet}, ` +
      `Haar ${photo.haar.length} covering ${found.haar}, YuNet 2022mar ${photo.yunet2022.length} covering ${found.yunet2022} (IoU >= 0.3)`,
  );
  if (found.yunet < labels.length - 1) failures.push(`YuNet found ${found.yunet} of the ${labels.length} labelled faces in ${photo.file}`);
  let vsX86: Record<'yunet' | 'haar' | 'yunet2022', BoxComparison> | undefined;
  const x86Report = verifyReportPath(LAYER_ARCH);
  if (target.arch !== LAYER_ARCH) {
    const x86Smoke = readReport(x86Report)?.smoke;
    const x86 = x86Smoke?.labelled;
    if (x86?.file !== photo.file) {
      console.log(`  vs x86_64: no x86_64 boxes for ${photo.file} in ${x86Report} (run \`npm run verify:layer\` first to compare)`);
    } else if (x86Smoke?.bundleSha256 !== bundleSha256) {
      console.log(`  vs x86_64: ${x86Report} comes from other detector code (smoke bundle changed): run \`npm run verify:layer\` again to compare`);
    } else {
      vsX86 = { yunet: compareBoxes(photo.yunet, x86.yunet), haar: compareBoxes(photo.haar, x86.haar), yunet2022: compareBoxes(photo.yunet2022, x86.yunet2022) };
      for (const [name, c] of Object.entries(vsX86)) {
        console.log(`  vs x86_64 (${path.basename(x86Report)}), ${name}: ${c.pairs} pairs, ${c.unpaired} unpaired, at most ${c.maxDeltaPx.toFixed(2)} px apart`);
        if (c.unpaired || c.maxDeltaPx > BOX_TOLERANCE_PX) failures.push(`${name} boxes differ from x86_64's: ${c.unpaired} unpaired, ${c.maxDeltaPx} px apart`);
      }
    }
  }
  return { file: photo.file, labels: labels.length, found, yunet: photo.yunet, haar: photo.haar, yunet2022: photo.yunet2022, vsX86 };
}

interface ReportSmoke {
  smoke?: { bundleSha256?: string; labelled?: { file: string; yunet: FaceBox[]; haar: FaceBox[]; yunet2022: FaceBox[] } };
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

