/**
 * `npm run bench`: where the detection pipeline stands, in one run on one machine so ratios hold.
 *
 *   1. per-stage latency (decode, detect, annotate, encode) of the handler's own code with the
 *      layer's addon, on the labelled photos and two large ones, with 1 OpenCV thread (Lambda at
 *      1769 MB has one vCPU) and the default count; median and p95
 *   2. the floor: JPEG decode + encode alone of the same images, and detection's cost over it
 *   3. peers on the same pixels: OpenCV.js 4.12 (YuNet through FaceDetectorYN, Haar cascade) and
 *      face-api (ssdMobilenetv1, WASM backend): time as a ratio to ours, recall/precision at
 *      IoU 0.4 (SQUARE_LABEL_IOU) on training.xml beside ours
 *   4. cold start (fresh processes, process start to first result), peak RSS on the large photo,
 *      layer size from its manifest
 *   5. detection at real sizes (bench/real-size.ts); `npm run bench -- --real-size` runs only that
 *   6. the cost of each mark mode beside box (bench/marks.ts); `npm run bench -- --marks` runs only that
 *   7. faces and texture by score band, and what redaction leaves (bench/scores.ts); `--scores` runs only that
 *   8. lossless (marks in the JPEG's coefficients) beside re-encode, per stage, and the entropy-only
 *      transcode floor (bench/lossless.ts); `--lossless` runs only that
 *   9. `--allocator` only: detect with and without the function's allocator settings in warm
 *      processes taking photos of different sizes in turn (bench/allocator.ts)
 *
 * Every part runs with the detect function's allocator settings (DETECT_ALLOCATOR_ENV), as the
 * function does: the bench starts itself again with them when they are not set.
 *
 * Prints a table and writes bench/results/latest.json. Peers are optional dependencies of
 * bench/package.json, installed on the first run.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Box } from '../functions/detect-faces/detect/boxes';
import { createDetector, MODEL_FILES } from '../functions/detect-faces/detect/detectors';
import { HAAR_PLAN, YUNET_PLAN } from '../functions/detect-faces/detect/plan';
import { decodeImage, drawBoxes, encodeJpeg } from '../functions/detect-faces/output/image';
import type { Mat, OpenCv } from '../functions/detect-faces/opencv';
import { LAYER_MANIFEST } from '../layer/inputs';
import { bundleSmoke, runSmokeHere } from '../layer/smoke/bundle';
import { unpackLayer } from '../local/layer';
import { FACES_DIR, readLabels } from './labelled-photos';
import { recallPrecision } from './detection-quality';
import { benchLossless, layerAddons } from './lossless';
import { benchMarks } from './marks';
import { faceDetectorYn, loadOpenCvJs } from './opencv-js';
import { LEGACY_MAX_SIDE, shrink } from './plain-look';
import { realSize } from './real-size';
import { benchAllocator } from './allocator';
import { rerunUnderAllocatorEnv } from '../local/allocator';
import { benchScores } from './scores';

const BENCH = __dirname;
const RESULTS = path.join(BENCH, 'results');
const QUALITY = 90;

interface Stats {
  median: number;
  p95: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { median: round(at(0.5)), p95: round(at(0.95)) };
}
const round = (n: number) => Math.round(n * 10) / 10;

function time<T>(work: () => T): [T, number] {
  const t0 = performance.now();
  const out = work();
  return [out, performance.now() - t0];
}

function ensurePeers(): void {
  if (fs.existsSync(path.join(BENCH, 'node_modules', '@vladmandic', 'face-api'))) return;
  console.error('installing the benchmark peers into bench/node_modules (first run only)...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: BENCH, stdio: 'inherit' });
}

function loadAddon(): { cv: OpenCv; modelsDir: string; layerNodeModules: string } {
  const layer = unpackLayer();
  process.env.NODE_PATH = [layer.nodeModules, process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('node:module').Module._initPaths();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cv: OpenCv = require('@u4/opencv4nodejs');
  return { cv, modelsDir: layer.modelsDir, layerNodeModules: layer.nodeModules };
}

/** 1920x1080 and 4000x3000 JPEGs made from the largest sample: resized, tiled, cropped. */
function largePhotos(cv: OpenCv): { name: string; data: Buffer }[] {
  const source = decodeImage(cv, fs.readFileSync(path.join(FACES_DIR, 'bald_guys.jpg')));
  const make = (width: number, height: number, tiles: number) => {
    const tileW = Math.ceil(width / tiles);
    const tileH = Math.ceil(height / tiles);
    const scale = Math.max(tileW / source.cols, tileH / source.rows);
    const tile = source.resize(Math.ceil(source.rows * scale), Math.ceil(source.cols * scale));
    const canvas = new cv.Mat(height, width, cv.CV_8UC3, [0, 0, 0]);
    for (let ty = 0; ty < tiles; ty++) {
      for (let tx = 0; tx < tiles; tx++) {
        const w = Math.min(tileW, width - tx * tileW);
        const h = Math.min(tileH, height - ty * tileH);
        tile.getRegion(new cv.Rect(0, 0, w, h)).copyTo(canvas.getRegion(new cv.Rect(tx * tileW, ty * tileH, w, h)));
      }
    }
    return encodeJpeg(cv, canvas, QUALITY);
  };
  return [
    { name: 'photo-1920x1080.jpg', data: make(1920, 1080, 1) },
    { name: 'photo-4000x3000.jpg', data: make(4000, 3000, 2) },
  ];
}

interface StageRow {
  image: string;
  size: string;
  threads: number;
  decode: Stats;
  detect: Stats;
  annotate: Stats;
  encode: Stats;
  total: Stats;
  floor: Stats;
  faces: number;
}

function measurePipeline(cv: OpenCv, detect: (m: Mat) => Box[], image: { name: string; data: Buffer }, runs: number, threads: number): StageRow {
  const t = { decode: [] as number[], detect: [] as number[], annotate: [] as number[], encode: [] as number[], total: [] as number[], floor: [] as number[] };
  let faces = 0;
  let size = '';
  for (let i = 0; i < runs + 1; i++) {
    const [mat, dDecode] = time(() => decodeImage(cv, image.data));
    const [boxes, dDetect] = time(() => detect(mat));
    const [, dAnnotate] = time(() => drawBoxes(cv, mat, boxes));
    const [, dEncode] = time(() => encodeJpeg(cv, mat, QUALITY));
    // The floor: the same JPEG in and out, nothing else.
    const [, dFloor] = time(() => encodeJpeg(cv, decodeImage(cv, image.data), QUALITY));
    if (i === 0) continue; // warm-up
    faces = boxes.length;
    size = `${mat.cols}x${mat.rows}`;
    t.decode.push(dDecode);
    t.detect.push(dDetect);
    t.annotate.push(dAnnotate);
    t.encode.push(dEncode);
    t.total.push(dDecode + dDetect + dAnnotate + dEncode);
    t.floor.push(dFloor);
  }
  return {
    image: image.name,
    size,
    threads,
    decode: stats(t.decode),
    detect: stats(t.detect),
    annotate: stats(t.annotate),
    encode: stats(t.encode),
    total: stats(t.total),
    floor: stats(t.floor),
    faces,
  };
}

type PeerDetect = (bgr: Buffer, width: number, height: number) => Promise<Box[]> | Box[];

async function loadPeers(modelsDir: string): Promise<Record<string, PeerDetect>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const peerRequire = (name: string) => require(require.resolve(name, { paths: [BENCH] }));
  const { cv: ocv } = await loadOpenCvJs();
  const yunet = await faceDetectorYn(modelsDir, 0.8);
  ocv.FS_createDataFile('/', 'haar.xml', fs.readFileSync(path.join(modelsDir, MODEL_FILES.haar)), true, false, false);
  const haar = new ocv.CascadeClassifier();
  haar.load('/haar.xml');

  const faceapi = peerRequire('@vladmandic/face-api/dist/face-api.node-wasm.js');
  await faceapi.tf.setBackend('wasm');
  await faceapi.tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json', { paths: [BENCH] })), 'model'));
  const ssdOptions = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });

  const toMat = (bgr: Buffer, w: number, h: number) => ocv.matFromArray(h, w, ocv.CV_8UC3, bgr);
  return {
    'OpenCV.js YuNet': (bgr, w, h) => yunet.detect(bgr, w, h),
    'OpenCV.js Haar': (bgr, w, h) => {
      const mat = toMat(bgr, w, h);
      const gray = new ocv.Mat();
      ocv.cvtColor(mat, gray, ocv.COLOR_BGR2GRAY);
      const rects = new ocv.RectVector();
      haar.detectMultiScale(gray, rects, 1.1, 3, 0, new ocv.Size(20, 20), new ocv.Size(0, 0));
      const out: Box[] = [];
      for (let i = 0; i < rects.size(); i++) {
        const r = rects.get(i);
        out.push({ x: r.x, y: r.y, width: r.width, height: r.height, score: 1 });
      }
      [mat, gray, rects].forEach((m) => m.delete());
      return out;
    },
    'face-api SSD (WASM)': async (bgr, w, h) => {
      const rgb = new Uint8Array(bgr.length);
      for (let i = 0; i < bgr.length; i += 3) {
        rgb[i] = bgr[i + 2];
        rgb[i + 1] = bgr[i + 1];
        rgb[i + 2] = bgr[i];
      }
      const tensor = faceapi.tf.tensor3d(rgb, [h, w, 3], 'int32');
      const found = await faceapi.detectAllFaces(tensor, ssdOptions);
      tensor.dispose();
      // Box fields are getters on face-api's Box class: copy them one by one.
      return found.map((d: { box: { x: number; y: number; width: number; height: number }; score: number }) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score }));
    },
  };
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  if (process.argv.includes('--real-size')) return void console.log(await realSize());
  if (process.argv.includes('--allocator')) return void console.log(benchAllocator());
  if (process.argv.includes('--marks')) {
    const { cv, modelsDir } = loadAddon();
    cv.setNumThreads(1);
    return void console.log(`mark modes, one thread\n${benchMarks(cv, modelsDir)}`);
  }
  if (process.argv.includes('--lossless')) {
    const { cv, addon } = layerAddons();
    cv.setNumThreads(1);
    return void console.log(`lossless beside reencode, fill (ellipse), one thread, ms\n${benchLossless(cv, addon)}`);
  }
  if (process.argv.includes('--scores')) {
    const { cv, modelsDir } = loadAddon();
    cv.setNumThreads(1);
    return void benchScores(cv, modelsDir, (line) => console.log(line));
  }
  ensurePeers();
  const runs = Number(process.env.BENCH_RUNS) || 15;
  const { cv, modelsDir, layerNodeModules } = loadAddon();
  const layer = { nodeModules: layerNodeModules, modelsDir };
  const defaultThreads = cv.getNumThreads();
  const labels = readLabels();
  const images = [
    ...labels.map((l) => ({ name: l.file, data: fs.readFileSync(path.join(FACES_DIR, l.file)) })),
    ...largePhotos(cv),
  ];
  fs.mkdirSync(RESULTS, { recursive: true });
  for (const img of images.slice(-2)) fs.writeFileSync(path.join(RESULTS, img.name), img.data);

  // 1 + 2: stages and floor, one thread and the default.
  const yunet = createDetector(cv, 'yunet', modelsDir);
  const stageRows: StageRow[] = [];
  for (const threads of [1, defaultThreads]) {
    cv.setNumThreads(threads);
    for (const img of images) {
      const n = img.name.includes('4000') ? Math.max(5, Math.round(runs / 3)) : runs;
      stageRows.push(measurePipeline(cv, (m) => yunet.detect(m).boxes, img, n, threads));
    }
  }
  cv.setNumThreads(1);

  // 3: peers on the same detector input, single-threaded like ours above.
  const peers = await loadPeers(modelsDir);
  const haar = createDetector(cv, 'haar', modelsDir);
  const contenders: Record<string, PeerDetect> = {
    // Same pixels as the peers: the smallest face at the detectors' own input size, i.e. scale 1.
    'ours: YuNet (addon)': (bgr, w, h) => yunet.detect(new cv.Mat(bgr, h, w, cv.CV_8UC3), { minFaceSize: YUNET_PLAN.minNetFace }).boxes,
    'ours: Haar (addon)': (bgr, w, h) => haar.detect(new cv.Mat(bgr, h, w, cv.CV_8UC3), { minFaceSize: HAAR_PLAN.minNetFace }).boxes,
    ...peers,
  };
  const peerRows: { name: string; ms: number; perImage: Record<string, number>; recall: number; precision: number }[] = [];
  for (const [name, detect] of Object.entries(contenders)) {
    const perImage: Record<string, number> = {};
    const quality: { found: Box[]; truth: Omit<Box, 'score'>[] }[] = [];
    for (const img of images) {
      // Every contender gets what ours looks at: the decoded image at most 640 px on its longer side.
      const { small: mat, scale } = shrink(cv, decodeImage(cv, img.data), LEGACY_MAX_SIDE);
      const bgr = mat.getData();
      const samples: number[] = [];
      let found: Box[] = [];
      for (let i = 0; i < Math.min(runs, 7) + 1; i++) {
        const t0 = performance.now();
        found = await detect(bgr, mat.cols, mat.rows);
        if (i > 0) samples.push(performance.now() - t0);
      }
      perImage[img.name] = stats(samples).median;
      const label = labels.find((l) => l.file === img.name);
      if (label) quality.push({ found: found.map((b) => ({ ...b, x: b.x / scale, y: b.y / scale, width: b.width / scale, height: b.height / scale })), truth: label.boxes });
    }
    const { recall, precision } = recallPrecision(quality);
    const ms = round(Object.values(perImage).reduce((a, b) => a + b, 0));
    peerRows.push({ name, ms, perImage, recall: Math.round(recall * 1000) / 1000, precision: Math.round(precision * 1000) / 1000 });
  }
  const oursMs = peerRows[0].ms;

  // 4: cold start, memory, size.
  const smokeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-bench-smoke-'));
  const script = await bundleSmoke(path.join(smokeDir, 'smoke.js'));
  const sample = path.resolve(BENCH, '..', 'samples', 'astronaut.png');
  const cold = Array.from({ length: 7 }, () => runSmokeHere(script, layer, sample));
  const median = (k: 'addonLoadedMs' | 'modelsReadyMs' | 'firstResultMs') => stats(cold.map((c) => c[k])).median;
  const big = runSmokeHere(script, layer, path.join(RESULTS, 'photo-4000x3000.jpg'));
  fs.rmSync(smokeDir, { recursive: true, force: true });
  const manifest = JSON.parse(fs.readFileSync(LAYER_MANIFEST, 'utf8'));

  const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, OpenCV ${cv.version.major}.${cv.version.minor}.${cv.version.revision} (layer addon), ${new Date().toISOString().slice(0, 10)}`;
  const stageTable = table(
    ['image', 'size', 'threads', 'decode', 'detect', 'annotate', 'encode', 'total (p95)', 'floor: decode+encode (p95)', 'total / floor'],
    stageRows.map((r) => [r.image, r.size, r.threads, r.decode.median, r.detect.median, r.annotate.median, r.encode.median, `${r.total.median} (${r.total.p95})`, `${r.floor.median} (${r.floor.p95})`, `${round(r.total.median / r.floor.median)}x`]),
  );
  const peerTable = table(
    ['detector (same pixels, 1 thread)', 'ms, all 6 images', 'ratio to ours', 'recall @IoU 0.4', 'precision'],
    peerRows.map((r) => [r.name, r.ms, `${round(r.ms / oursMs)}x`, r.recall, r.precision]),
  );
  const summary = table(
    ['measure', 'value'],
    [
      ['cold start: addon loaded (median of 7 processes)', `${median('addonLoadedMs')} ms`],
      ['cold start: models ready', `${median('modelsReadyMs')} ms`],
      ['cold start: first result (512x512)', `${median('firstResultMs')} ms`],
      ['peak RSS, 4000x3000 photo (decode, both detectors, encode)', `${big.peakRssMb} MB`],
      ['layer zipped / unzipped', `${(manifest.zippedBytes / 1e6).toFixed(2)} MB / ${(manifest.sizes.unzippedBytes / 1e6).toFixed(2)} MB`],
    ],
  );
  const report = `Machine: ${machine}\nTimes in ms, median of ${runs} runs (4000x3000: ${Math.max(5, Math.round(runs / 3))}) after one warm-up.\n\n${stageTable}\n\n${peerTable}\n\n${summary}\n`;
  console.log(report);
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), report);
  console.log(await realSize());
  cv.setNumThreads(1);
  console.log(`mark modes, one thread\n${benchMarks(cv, modelsDir)}`);
  benchScores(cv, modelsDir, (line) => console.log(line));
  console.log(`lossless beside reencode, fill (ellipse), one thread, ms\n${benchLossless(cv, layerAddons().addon)}`);
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), `${JSON.stringify({ machine, runs, stages: stageRows, peers: peerRows, coldStart: cold, largePhoto: big, layer: { zippedBytes: manifest.zippedBytes, unzippedBytes: manifest.sizes.unzippedBytes } }, null, 2)}\n`);
}

// Every figure with the detect function's allocator settings, as it runs (local/allocator.ts).
rerunUnderAllocatorEnv()
  .then((status) => (status !== undefined ? process.exit(status) : main()))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
