/**
 * `npm run bench -- --real-size` (also the last section of `npm run bench`): detection on photos
 * at real sizes, one OpenCV thread, the layer's addon.
 *
 *   - labelled mosaics built from the training photos (bench/mosaic.ts): groups at 2000x1500 and
 *     4000x3000, a 4000x3000 crowd of small faces, a 1080p frame, and the 500-px originals
 *   - for each: recall and precision at IoU 0.4 (SQUARE_LABEL_IOU), per-stage times (decode, detect, mark, encode),
 *     total against its floor (decode + encode of the same JPEG), at the default settings, beside
 *     the old behaviour (one look at a 640-px copy, `legacy640`), and the crowd also at
 *     minFaceSize 32
 *   - one large face with ~30-px faces in the same 4000x3000 photo
 *   - detect throughput (the plan's input pixels x LOOKS_COST per ms), the constant behind networkPixelsForBudget
 *   - the lossless path's detection (a JPEG marked in its coefficients) at 1/2^level, the coarsest
 *     the plan reads (FaceDetector.finestLevel), detected at the photo's size: as the pipeline does
 *     it ("from the coefficients": one entropy decode for both, the image made by libjpeg while
 *     `open` reads the coefficients; the decode column is open + reduced), and as it did before
 *     ("reduced decode": OpenCV's scaled decode, the coefficients read after detection; the same
 *     pixels); decode + detect only (mark and write: `npm run bench -- --lossless`)
 *   - peak RSS of a fresh process doing one 12 MP request (VmHWM), re-encoded and lossless
 *
 * Prints a table and writes bench/results/real-size.{md,json}.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Box } from '../functions/detect-faces/detect/boxes';
import { createDetector, type DetectOptions, type FaceDetector } from '../functions/detect-faces/detect/detectors';
import { LOOKS_COST } from '../functions/detect-faces/detect/budget';
import { HAAR_PLAN, planDetection, type PlanParams } from '../functions/detect-faces/detect/plan';
import type { Mat, OpenCv } from '../functions/detect-faces/opencv';
import { inspectImage } from '../functions/detect-faces/fetch/sniff';
import { bgrMat, decodeImage, drawBoxes, encodeJpeg } from '../functions/detect-faces/output/image';
import { createLosslessEditor, JPEG_LOSSLESS_PACKAGE, type JpegLosslessAddon } from '../functions/detect-faces/output/lossless';
import { MAX_DECODE_LEVEL } from '../functions/detect-faces/pipeline';
import { unpackLayer } from '../local/layer';
import { DETECT_ENV, operatingPointFor, QUIET_OPENCV_LOG_LEVEL } from '../functions/detect-faces/contract';
import { FACES_DIR } from './labelled-photos';
import { recallPrecision } from './detection-quality';
import { median } from '../layer/rules/checks';
import { legacy640, LEGACY_MAX_SIDE, padTo32 } from './plain-look';
import { bigAndSmall, buildMosaic, MOSAICS, trainingPhotos, type Truth } from './mosaic';

const RESULTS = path.join(__dirname, 'results');
const QUALITY = 90;

export function loadAddon(): { cv: OpenCv; modelsDir: string } {
  const layer = unpackLayer();
  process.env.NODE_PATH = [layer.nodeModules, process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('node:module').Module._initPaths();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cv: OpenCv = require('@u4/opencv4nodejs');
  return { cv, modelsDir: layer.modelsDir };
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

function time<T>(work: () => T): [T, number] {
  const t0 = performance.now();
  const out = work();
  return [out, performance.now() - t0];
}

interface Case {
  readonly name: string;
  readonly mode: string;
  /** One or more JPEGs with their labels; times are summed over them. */
  readonly images: { jpeg: Buffer; truth: Truth[] }[];
  /** `reduced`: the image is the photo decoded at 1/2^level (the lossless path's decode). */
  readonly detect: (image: Mat, reduced?: DetectOptions['reduced']) => { boxes: Box[]; minFaceSize?: number };
  /** The decode level for a photo of this size (the lossless path's); absent: a full decode, marked and re-encoded. */
  readonly level?: (width: number, height: number) => number;
  /** With `level`: the image from the coefficients (open + reduced), not OpenCV's scaled decode. */
  readonly coefficients?: JpegLosslessAddon;
  readonly options?: DetectOptions;
  /** The detector's plan parameters (for the input pixels column). @default YUNET_PLAN */
  readonly params?: PlanParams;
}

interface Row {
  name: string;
  mode: string;
  size: string;
  minFace: string;
  networkMpx: number;
  decode: number;
  detect: number;
  mark: number;
  encode: number;
  total: number;
  floor: number;
  ratio: number;
  faces: number;
  truth: number;
  recall: number;
  precision: number;
}

function measure(cv: OpenCv, c: Case, runs: number): Row {
  const sum = { decode: 0, detect: 0, mark: 0, encode: 0, floor: 0 };
  const quality: { found: Box[]; truth: Truth[] }[] = [];
  // Total and floor are timed back to back in each run, so their ratio per run shares the
  // machine's load at that moment: its median is steadier than the ratio of the medians.
  const runRatios: number[] = [];
  let sizes = '';
  let minFace = '';
  let networkPixels = 0;
  for (const img of c.images) {
    const t = { decode: [] as number[], detect: [] as number[], mark: [] as number[], encode: [] as number[], floor: [] as number[] };
    const ratios: number[] = [];
    let found: Box[] = [];
    const { width, height } = inspectImage(img.jpeg, Number.POSITIVE_INFINITY);
    const level = c.level?.(width, height) ?? 0;
    const reduced = c.level ? { level, width, height } : undefined;
    for (let i = 0; i <= runs; i++) {
      const [mat, dDecode] = time(() => (c.coefficients && level > 0 ? fromCoefficients(cv, c.coefficients, img.jpeg, { width, height }, level) : decodeImage(cv, img.jpeg, level)));
      const [result, dDetect] = time(() => c.detect(mat, reduced));
      // The lossless path marks and writes the coefficients, not these pixels.
      const [, dMark] = reduced ? [undefined, 0] : time(() => drawBoxes(cv, mat, result.boxes));
      const [, dEncode] = reduced ? [undefined, 0] : time(() => encodeJpeg(cv, mat, QUALITY));
      const [, dFloor] = time(() => encodeJpeg(cv, decodeImage(cv, img.jpeg), QUALITY));
      mat.release();
      found = result.boxes;
      if (i === 0) {
        sizes = `${width}x${height}${reduced ? ` (decoded 1/${2 ** level})` : ''}`;
        minFace = result.minFaceSize === undefined ? '-' : String(result.minFaceSize);
        if (result.minFaceSize !== undefined) networkPixels += planDetection(width, height, { ...c.options, minFaceSize: result.minFaceSize }, c.params).networkPixels;
        else networkPixels += padTo32(shrink640(width, height)[0]) * padTo32(shrink640(width, height)[1]);
        continue; // warm-up
      }
      t.decode.push(dDecode);
      t.detect.push(dDetect);
      t.mark.push(dMark);
      t.encode.push(dEncode);
      t.floor.push(dFloor);
      ratios.push((dDecode + dDetect + dMark + dEncode) / dFloor);
    }
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += median(t[k]);
    runRatios.push(median(ratios));
    quality.push({ found, truth: img.truth });
  }
  const { recall, precision } = recallPrecision(quality);
  const total = sum.decode + sum.detect + sum.mark + sum.encode;
  return {
    name: c.name,
    mode: c.mode,
    size: c.images.length > 1 ? `${c.images.length} photos` : sizes,
    minFace,
    networkMpx: r3(networkPixels / 1e6),
    decode: r1(sum.decode),
    detect: r1(sum.detect),
    mark: r1(sum.mark),
    encode: r1(sum.encode),
    total: r1(total),
    floor: r1(sum.floor),
    ratio: r1(c.images.length === 1 ? runRatios[0] : total / sum.floor),
    faces: quality.reduce((n, q) => n + q.found.length, 0),
    truth: quality.reduce((n, q) => n + q.truth.length, 0),
    recall: r3(recall),
    precision: r3(precision),
  };
}

/** Detection's image on the one-decode path: opened with the level, the reduced image made while the coefficients are read (here closed at once: the output is not written). */
function fromCoefficients(cv: OpenCv, addon: JpegLosslessAddon, jpeg: Buffer, view: { width: number; height: number }, level: number): Mat {
  const opened = createLosslessEditor(addon).open(jpeg, view, level);
  try {
    return opened.reduced((bgr) => bgrMat(cv, bgr));
  } finally {
    opened.close();
  }
}

function shrink640(w: number, h: number): [number, number] {
  const s = Math.min(1, LEGACY_MAX_SIDE / Math.max(w, h));
  return [Math.round(w * s), Math.round(h * s)];
}

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

/**
 * Runs `script` in a fresh Node process (this one's flags, OpenCV's log quiet, `env` added) with
 * `--rss-child` and `args`; the JSON its last stdout line holds (the child's VmHWM figures).
 */
export function rssChildResult<T>(script: string, args: readonly string[], env: Record<string, string> = {}): T {
  const res = spawnSync(process.execPath, [...process.execArgv, script, '--rss-child', ...args], { encoding: 'utf8', env: { ...process.env, [DETECT_ENV.opencvLogLevel.env]: QUIET_OPENCV_LOG_LEVEL, ...env } });
  if (res.status !== 0) throw new Error(`RSS child failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as T;
}

/** A memory field of a process's /proc status (`VmRSS`: resident now; `VmHWM`: peak resident so far), MB. */
export function statusMb(field: 'VmRSS' | 'VmHWM', pid: number | 'self' = 'self'): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Math.round(Number(kb[1]) / 1024);
}

/** This process's peak RSS so far (VmHWM), MB. */
export const vmHwmMb = (): number => statusMb('VmHWM');

/** A fresh process: addon, detector, then one request on `file` (`lossless`: as the lossless path does it); its VmHWM before and after. */
function peakRss(file: string, minFaceSize?: number, lossless = false, oneDecode = false): { baselineMb: number; peakMb: number; faces: number } {
  return rssChildResult(__filename, [file, String(minFaceSize ?? 0), ...(lossless ? ['lossless'] : [])], { RSS_ONE_DECODE: oneDecode ? '1' : '0' });
}

function rssChild(file: string, minFaceSize: number | undefined, lossless: boolean): void {
  const { cv, modelsDir } = loadAddon();
  cv.setNumThreads(1);
  const detector = createDetector(cv, 'yunet', modelsDir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const editor = createLosslessEditor(require(JPEG_LOSSLESS_PACKAGE) as JpegLosslessAddon);
  const jpeg = fs.readFileSync(file);
  // Warm the network on a small input so the baseline includes the loaded model.
  detector.detect(new cv.Mat(64, 64, cv.CV_8UC3, [0, 0, 0]));
  const baselineMb = vmHwmMb();
  let faces: number;
  if (lossless) {
    // RSS_ONE_DECODE=1: as the pipeline's lossless path, the coefficients first and detection on the
    // reduced image libjpeg made as it read them; otherwise two decodes, OpenCV's reduced decode for
    // detection and the coefficients read after it (the pipeline before).
    const { width, height } = inspectImage(jpeg, Number.POSITIVE_INFINITY);
    const level = Math.min(MAX_DECODE_LEVEL, detector.finestLevel(width, height, { minFaceSize }));
    const opened = process.env.RSS_ONE_DECODE === '1' ? editor.open(jpeg, { width, height }, level) : undefined;
    const image = opened ? opened.reduced((bgr) => bgrMat(cv, bgr)) : decodeImage(cv, jpeg, level);
    const { boxes } = detector.detect(image, { minFaceSize, reduced: { level, width, height } });
    image.release();
    const edit = opened ?? editor.open(jpeg, { width, height });
    edit.mark(boxes, { mode: 'box', shape: 'ellipse', padding: 0 });
    edit.save();
    edit.close();
    faces = boxes.length;
  } else {
    const image = decodeImage(cv, jpeg);
    const { boxes } = detector.detect(image, { minFaceSize });
    drawBoxes(cv, image, boxes);
    encodeJpeg(cv, image, QUALITY);
    faces = boxes.length;
  }
  process.stdout.write(`${JSON.stringify({ baselineMb, peakMb: vmHwmMb(), faces })}\n`);
}

export async function realSize(): Promise<string> {
  const runs = Number(process.env.BENCH_RUNS) || 5;
  const loadBefore = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
  const { cv, modelsDir } = loadAddon();
  cv.setNumThreads(1);
  const yunet: FaceDetector = createDetector(cv, 'yunet', modelsDir);
  const haar: FaceDetector = createDetector(cv, 'haar', modelsDir);
  const old = legacy640(cv, modelsDir);
  const photos = trainingPhotos(cv);
  const jpegOf = (m: Mat) => encodeJpeg(cv, m, QUALITY);
  const mosaic = (spec: (typeof MOSAICS)[keyof typeof MOSAICS]) => {
    const m = buildMosaic(cv, spec, photos);
    return { name: m.name, images: [{ jpeg: jpegOf(m.image), truth: m.truth }] };
  };
  const originals = {
    name: `500 px originals (${photos.labels.length})`,
    images: photos.labels.map((l) => ({ jpeg: fs.readFileSync(path.join(FACES_DIR, l.file)), truth: l.boxes })),
  };
  const hd = mosaic(MOSAICS.hd1080);
  const g2 = mosaic(MOSAICS.groups2000);
  const g4 = mosaic(MOSAICS.groups4000);
  const g4small = mosaic(MOSAICS.groups4000small);
  const crowd = mosaic(MOSAICS.crowd4000);
  // The large face's reference box: what YuNet finds on the 512-px original.
  const hopper = yunet.detect(decodeImage(cv, fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')))).boxes[0];
  const mixed = bigAndSmall(cv, hopper, 35, 2200, photos);
  const mixedCase = { name: mixed.name, images: [{ jpeg: jpegOf(mixed.image), truth: mixed.truth }] };
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'groups-4000x3000.jpg'), g4.images[0].jpeg);
  fs.writeFileSync(path.join(RESULTS, 'crowd-4000x3000.jpg'), crowd.images[0].jpeg);
  // The pixel limit (40 MP): the 12 MP groups mosaic enlarged, for memory only.
  fs.writeFileSync(path.join(RESULTS, 'groups-7300x5475.jpg'), jpegOf(decodeImage(cv, g4.images[0].jpeg).resize(5475, 7300)));

  const ours = (options?: DetectOptions) => (m: Mat, reduced?: DetectOptions['reduced']) => yunet.detect(m, { ...options, ...(reduced ? { reduced } : {}) });
  const legacy = (m: Mat) => ({ boxes: old(m) });
  const cases: Case[] = [];
  for (const set of [originals, hd, g2, g4, g4small]) {
    cases.push({ ...set, mode: 'default', detect: ours() });
    // A redaction's default: the recall-first point (its cost beside the box default's).
    cases.push({ ...set, mode: 'redaction default', detect: ours({ mark: 'fill' }) });
    if (set !== g4small) cases.push({ ...set, mode: 'legacy640', detect: legacy });
  }
  for (const set of [g2, g4]) cases.push({ ...set, mode: 'Haar, default', detect: (m: Mat) => haar.detect(m), params: HAAR_PLAN });
  cases.push({ ...crowd, mode: 'default', detect: ours() });
  cases.push({ ...crowd, mode: 'redaction default', detect: ours({ mark: 'fill' }) });
  cases.push({ ...crowd, mode: 'minFaceSize 32', detect: ours({ minFaceSize: 32 }), options: { minFaceSize: 32 } });
  cases.push({ ...crowd, mode: 'legacy640', detect: legacy });
  cases.push({ ...mixedCase, mode: 'minFaceSize 30', detect: ours({ minFaceSize: 30 }), options: { minFaceSize: 30 } });
  cases.push({ ...mixedCase, mode: 'default', detect: ours() });
  // The lossless path (a JPEG's default output) at the coarsest level its plan reads: OpenCV's scaled decode, and from the coefficients (the pipeline's).
  const reducedOf = (options: DetectOptions) => (width: number, height: number) => Math.min(MAX_DECODE_LEVEL, yunet.finestLevel(width, height, options));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const coefficients = require(JPEG_LOSSLESS_PACKAGE) as JpegLosslessAddon;
  for (const set of [hd, g2, g4, g4small, crowd, mixedCase])
    for (const [mode, options] of [['default', {}], ['redaction default', { mark: 'fill' }]] as const) {
      cases.push({ ...set, mode: `${mode}, lossless path (reduced decode)`, detect: ours(options), level: reducedOf(options) });
      cases.push({ ...set, mode: `${mode}, lossless path, from the coefficients`, detect: ours(options), level: reducedOf(options), coefficients });
    }

  const rows: Row[] = [];
  for (const c of cases) {
    const n = c.images.some((i) => i.jpeg.length > 1e6) || c.options?.minFaceSize ? Math.max(3, Math.ceil(runs / 2)) : runs;
    const row = measure(cv, c, n);
    console.error(`  ${row.name}, ${row.mode}: recall ${row.recall}, precision ${row.precision}, total ${row.total} ms (${row.ratio}x floor)`);
    rows.push(row);
  }
  const cost = looksCost(cv, yunet, [hd, g4, crowd], runs);
  const defaults = rows.filter((r) => r.mode !== 'legacy640' && !r.mode.startsWith('Haar'));
  // What the budget counts: the plan's pixels times what its looks cost (LOOKS_COST); the redaction rows run fill's looks, the others box's.
  const budgetPixels = (r: Row) => r.networkMpx * 1e6 * LOOKS_COST[operatingPointFor(r.mode.startsWith('redaction') ? 'fill' : 'box').looks];
  const throughput = Math.round(defaults.reduce((n, r) => n + budgetPixels(r), 0) / defaults.reduce((n, r) => n + r.detect, 0));
  const rss = peakRss(path.join(RESULTS, 'groups-4000x3000.jpg'));
  const rssCrowd = peakRss(path.join(RESULTS, 'crowd-4000x3000.jpg'), 32);
  const rss40 = peakRss(path.join(RESULTS, 'groups-7300x5475.jpg'));
  const rssLossless = peakRss(path.join(RESULTS, 'groups-4000x3000.jpg'), undefined, true);
  const rss40Lossless = peakRss(path.join(RESULTS, 'groups-7300x5475.jpg'), undefined, true);
  const rssOneDecode = peakRss(path.join(RESULTS, 'groups-4000x3000.jpg'), undefined, true, true);
  const rss40OneDecode = peakRss(path.join(RESULTS, 'groups-7300x5475.jpg'), undefined, true, true);

  // Other work on the machine slows every row alike only roughly: say how busy it was.
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, Node ${process.version}, OpenCV ${cv.version.major}.${cv.version.minor}.${cv.version.revision} (layer addon), 1 thread, ${new Date().toISOString().slice(0, 16)}Z, load average at the end ${load} (before: ${loadBefore})`;
  const report = [
    `Real sizes. ${machine}. Times in ms, median of ${runs} runs (12 MP and minFaceSize rows: ${Math.max(3, Math.ceil(runs / 2))}) after one warm-up; rows of several photos sum their medians. total/floor: median of the per-run ratios (rows of several photos: ratio of the sums).`,
    '',
    table(
      ['image', 'mode', 'size', 'min face', 'net Mpx', 'decode', 'detect', 'mark', 'encode', 'total', 'floor', 'total/floor', 'faces/labels', 'recall', 'precision'],
      rows.map((r) => [r.name, r.mode, r.size, r.minFace, r.networkMpx, r.decode, r.detect, r.mark, r.encode, r.total, r.floor, `${r.ratio}x`, `${r.faces}/${r.truth}`, r.recall, r.precision]),
    ),
    '',
    `detect, one look / box default / redaction default (each against one look at the same plan: the service's detect before issue 22's second looks), medians of ${Math.max(5, runs)} interleaved runs: ${cost.map((c) => `${c.name} ${c.one} / ${c.box} / ${c.redaction} ms = 1 / ${c.boxRatio}x / ${c.redactionRatio}x`).join('; ')}`,
    `detect throughput (default and minFaceSize rows): ${throughput} budget pixels per ms (the plan's input pixels x LOOKS_COST of its looks: YUNET_PIXELS_PER_MS's measure)`,
    `peak RSS, fresh process, 12 MP groups (decode, detect, mark, encode): ${rss.peakMb} MB (${rss.baselineMb} MB after loading the addon and model)`,
    `peak RSS, fresh process, 12 MP crowd at minFaceSize 32: ${rssCrowd.peakMb} MB (${rssCrowd.baselineMb} MB after loading)`,
    `peak RSS, fresh process, 40 MP (7300x5475) at the default: ${rss40.peakMb} MB (${rss40.baselineMb} MB after loading)`,
    `peak RSS, fresh process, lossless path as the pipeline does it, one entropy decode (coefficients and the reduced image made as they are read, detect, boxes in the coefficients): 12 MP groups ${rssOneDecode.peakMb} MB, 40 MP ${rss40OneDecode.peakMb} MB (${rssOneDecode.baselineMb} MB after loading)`,
    `peak RSS, fresh process, lossless path with two decodes (OpenCV's reduced decode, detect, then the coefficients read for the boxes): 12 MP groups ${rssLossless.peakMb} MB, 40 MP ${rss40Lossless.peakMb} MB (${rssLossless.baselineMb} MB after loading)`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(RESULTS, 'real-size.md'), report);
  fs.writeFileSync(path.join(RESULTS, 'real-size.json'), `${JSON.stringify({ machine, runs, rows, cost, throughput, rss, rssCrowd, rss40, rssLossless, rss40Lossless, rssOneDecode, rss40OneDecode }, null, 2)}\n`);
  return report;
}

/**
 * Each default's detect against one look at the same plan (the service's detect before issue 22's
 * second looks) on the same decoded photo, the three alternating so that other work on the machine
 * slows them alike: medians, and the medians of the per-run ratios.
 */
function looksCost(cv: OpenCv, yunet: FaceDetector, sets: readonly { name: string; images: { jpeg: Buffer }[] }[], runs: number): { name: string; one: number; box: number; redaction: number; boxRatio: number; redactionRatio: number }[] {
  return sets.map((set) => {
    const image = decodeImage(cv, set.images[0].jpeg);
    const one: number[] = [];
    const box: number[] = [];
    const redaction: number[] = [];
    yunet.detect(image, { mark: 'fill' });
    for (let i = 0; i < Math.max(5, runs); i++) {
      one.push(time(() => yunet.detect(image, { mark: 'box', looks: 'single' }))[1]);
      box.push(time(() => yunet.detect(image, { mark: 'box' }))[1]);
      redaction.push(time(() => yunet.detect(image, { mark: 'fill' }))[1]);
    }
    image.release();
    const ratio = (xs: number[]) => Math.round(median(xs.map((x, i) => x / one[i])) * 100) / 100;
    return { name: set.name, one: r1(median(one)), box: r1(median(box)), redaction: r1(median(redaction)), boxRatio: ratio(box), redactionRatio: ratio(redaction) };
  });
}

if (require.main === module) {
  const i = process.argv.indexOf('--rss-child');
  if (i >= 0) rssChild(process.argv[i + 1], Number(process.argv[i + 2]) || undefined, process.argv[i + 3] === 'lossless');
  else
    realSize()
      .then((report) => console.log(report))
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
}
