/**
 * Runs inside the clean smoke root, as Lambda would: Node 24 at /var/lang/bin/node, the layer at
 * /opt (read-only), Lambda's NODE_PATH and LD_LIBRARY_PATH. Loads the addon, both detectors and the
 * cascade's second network (YuNet 2022mar, its output sizes checked on a 64x64 input), finds the
 * faces in one image, fills them in the JPEG's own coefficients (our jpeg-lossless addon),
 * compares the addon's reduced image (detection's, from the coefficients) with OpenCV's scaled
 * decode, and reports timings and every shared library the process mapped; then the boxes both
 * detectors and 2022mar find in each further image (labelled photos, compared across architectures).
 * Bundled by verify.ts with esbuild; the addon itself is resolved from the layer at run time.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DETECT_ENV } from '../../functions/detect-faces/contract';
import { createDetector, MODEL_FILES } from '../../functions/detect-faces/detect/detectors';
import { floats, yunetBlob } from '../../functions/detect-faces/detect/dnn';
import { YUNET_2022_OUTPUT_NAMES, YUNET_2022_VALUES_PER_PRIOR, yunet2022Look, yunet2022PriorCount } from '../../functions/detect-faces/detect/yunet-2022';
import type { FaceCandidate } from '../../functions/detect-faces/detect/yunet-decode';
import type { OpenCv } from '../../functions/detect-faces/opencv';
import { createLosslessEditor, loadJpegLossless } from '../../functions/detect-faces/output/lossless';
import { paddedRegion } from '../../functions/detect-faces/output/redact-plan';

/** The raw score a 2022mar face counts from here (the sample's face scores well above it). */
const YUNET_2022_SCORE = 0.5;

const [imagePath, ...morePaths] = process.argv.slice(2);
// The layer's /opt/models, as on Lambda; the bench runs it outside a root with MODELS_DIR set.
const modelsDir = process.env[DETECT_ENV.modelsDir.env] || DETECT_ENV.modelsDir.default;
// performance.now() counts from the process's time origin, i.e. from process start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cv: OpenCv = require('@u4/opencv4nodejs');
const addonLoadedMs = performance.now();
const yunet = createDetector(cv, 'yunet', modelsDir);
const haar = createDetector(cv, 'haar', modelsDir);
const modelsReadyMs = performance.now();
// The cascade's second network on its own (the YuNet detector holds one too), for its outputs' sizes and boxes.
const yunet2022Net = cv.readNetFromONNX(`${modelsDir}/${MODEL_FILES.yunet2022}`);
const yunet2022LoadMs = performance.now() - modelsReadyMs;
const yunet2022Outputs = yunet2022OutputSizes(64, 64);

const image = cv.imdecode(fs.readFileSync(imagePath));
const t0 = performance.now();
const yunetBoxes = yunet.detect(image).boxes;
const t1 = performance.now();
const firstResultMs = t1;
const haarBoxes = haar.detect(image).boxes;
const t2 = performance.now();
const yunet2022Boxes = yunet2022Look(cv, yunet2022Net, image, YUNET_2022_SCORE).map(asBox);
const t3 = performance.now();
const jpeg = cv.imencode('.jpg', image, [cv.IMWRITE_JPEG_QUALITY, 90]);
const lossless = losslessFill(jpeg, yunetBoxes);

const more = morePaths.map((file) => {
  const img = cv.imdecode(fs.readFileSync(file));
  const yunetFaces = yunet.detect(img).boxes;
  const haarFaces = haar.detect(img).boxes;
  const yunet2022Faces = yunet2022Look(cv, yunet2022Net, img, YUNET_2022_SCORE).map(asBox);
  return { file: file.split('/').pop(), width: img.cols, height: img.rows, yunet: yunetFaces, haar: haarFaces, yunet2022: yunet2022Faces };
});

const mapped = new Set<string>();
for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
  const file = line.split(/\s+/)[5];
  if (file && /\.so(\.|$)|\.node$/.test(file)) mapped.add(file);
}

process.stdout.write(
  `${JSON.stringify({
    opencv: `${cv.version.major}.${cv.version.minor}.${cv.version.revision}`,
    node: process.version,
    addonLoadedMs: Math.round(addonLoadedMs),
    modelsReadyMs: Math.round(modelsReadyMs),
    firstResultMs: Math.round(firstResultMs),
    image: { width: image.cols, height: image.rows },
    yunet: { faces: yunetBoxes.length, ms: Math.round(t1 - t0), boxes: yunetBoxes },
    haar: { faces: haarBoxes.length, ms: Math.round(t2 - t1), boxes: haarBoxes },
    yunet2022: { loadMs: Math.round(yunet2022LoadMs), outputs: yunet2022Outputs, faces: yunet2022Boxes.length, ms: Math.round(t3 - t2), boxes: yunet2022Boxes },
    jpegBytes: jpeg.length,
    lossless,
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
    peakRssMb: peakRssMb(),
    mappedLibraries: [...mapped].sort(),
    more,
  })}\n`,
);

/**
 * One forward of YuNet 2022mar on a black `width` x `height` input (multiples of 64): each output's
 * values against what its priors need (loc 14, conf 2, iou 1 per prior).
 */
function yunet2022OutputSizes(width: number, height: number) {
  const priors = yunet2022PriorCount(width, height);
  const input = new cv.Mat(height, width, cv.CV_8UC3, [0, 0, 0]);
  const blob = yunetBlob(cv, input);
  yunet2022Net.setInput(blob);
  const outputs = yunet2022Net.forward([...YUNET_2022_OUTPUT_NAMES]);
  const got = Object.fromEntries(YUNET_2022_OUTPUT_NAMES.map((name, i) => [name, floats(outputs[i]).length]));
  for (const m of [input, blob, ...outputs]) m.release();
  const expected = Object.fromEntries(YUNET_2022_OUTPUT_NAMES.map((name) => [name, priors * YUNET_2022_VALUES_PER_PRIOR[name]]));
  return { width, height, priors, got, expected, ok: YUNET_2022_OUTPUT_NAMES.every((name) => got[name] === expected[name]) };
}

function asBox({ x, y, width, height, score }: FaceCandidate) {
  return { x, y, width, height, score };
}

/**
 * The faces filled in the coefficients of `source`: whether the output decodes to the same size,
 * the face centres black, and every pixel 32 px or more away from each padded face exactly as
 * before (the MCUs a mark rewrites and the decoder's chroma upsampling around them stay within that).
 */
function losslessFill(source: Buffer, boxes: readonly { x: number; y: number; width: number; height: number }[]) {
  const addon = loadJpegLossless();
  if ('unavailable' in addon) return { error: addon.unavailable };
  const spec = { mode: 'fill', shape: 'ellipse', padding: 0.4 } as const;
  const start = performance.now();
  const before = cv.imdecode(source);
  const edit = createLosslessEditor(addon).open(source, { width: before.cols, height: before.rows }, 1);
  const reduced = edit.reduced((bgr) => reducedAgainstOpenCv(source, bgr));
  edit.mark(boxes, spec);
  const out = edit.save();
  edit.close();
  const ms = performance.now() - start;
  // The collector's malloc_trim (functions/common/collect.ts) answers whether any memory went back.
  const releaseFreeMemory = typeof addon.releaseFreeMemory() === 'boolean';
  const after = cv.imdecode(out);
  const a = before.getData();
  const b = after.getData();
  const regions = boxes.map((f) => paddedRegion(f, spec.padding, before.cols, before.rows)).filter((r) => r !== undefined);
  const near = (x: number, y: number) => regions.some((r) => x >= r.x - 32 && x < r.x + r.width + 32 && y >= r.y - 32 && y < r.y + r.height + 32);
  let compared = 0;
  let farUnchanged = true;
  for (let y = 0; y < before.rows; y++)
    for (let x = 0; x < before.cols; x++) {
      if (near(x, y)) continue;
      compared++;
      const at = (y * before.cols + x) * 3;
      if (a[at] !== b[at] || a[at + 1] !== b[at + 1] || a[at + 2] !== b[at + 2]) farUnchanged = false;
    }
  const centresBlack = boxes.every((f) => {
    const at = (Math.round(f.y + f.height / 2) * before.cols + Math.round(f.x + f.width / 2)) * 3;
    return Math.max(b[at], b[at + 1], b[at + 2]) <= 12;
  });
  return { ms: Math.round(ms), bytes: out.length, sameSize: after.cols === before.cols && after.rows === before.rows, compared, farUnchanged: compared > 0 && farUnchanged, centresBlack, reduced, releaseFreeMemory };
}

/** The addon's image at 1/2, made while the coefficients are read, against OpenCV's IMREAD_REDUCED_COLOR_2 of the same file: sizes, mean and largest difference. */
function reducedAgainstOpenCv(source: Buffer, got: { width: number; height: number; pixels: Buffer }) {
  const scaled = cv.imdecode(source, cv.IMREAD_REDUCED_COLOR_2);
  const want = scaled.getData();
  const sameSize = got.width === scaled.cols && got.height === scaled.rows && got.pixels.length === want.length;
  let sum = 0;
  let max = 0;
  if (sameSize)
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(want[i] - got.pixels[i]);
      sum += d;
      max = Math.max(max, d);
    }
  return { sameSize, meanDiff: sameSize ? Math.round((sum / want.length) * 1000) / 1000 : -1, maxDiff: max };
}

/** Peak resident set size of this process (VmHWM), in MB. */
function peakRssMb(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return kb ? Math.round(Number(kb[1]) / 1000) : Math.round(process.memoryUsage().rss / 1e6);
}
