/**
 * Lossless (marks in the JPEG's coefficients) beside re-encode (decode, mark, encode), per stage,
 * in one run, one thread, with the function's own code: a 1920x1080 photo with 3 faces and a
 * 4000x3000 photo with 3 and with 40. The floor of the coefficient path is an entropy-only
 * transcode of the same file (open + save, no mark): what any lossless edit costs before it marks.
 * Then the other marks' mark + write, and the decode detection needs on the lossless path against a
 * full decode: the pipeline's one entropy decode for both (open with the level: libjpeg makes the
 * reduced image from the coefficients it reads for the output), beside OpenCV's separate scaled
 * decode (what the pipeline did before, and still does when the coefficient path refuses a file)
 * and `open` alone.
 * Run on its own (`npm run bench -- --lossless`) or as a section of `npm run bench`.
 *
 * A full garbage collection runs before each timed stage of the two paths (both alike): a collection
 * an earlier stage's garbage calls for (a 12 MP decode's Mat, the JPEGs' Buffers) otherwise lands in
 * whichever stage runs next, measured as 4-5 ms pauses in one stage of every second or third run.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Mat, OpenCv } from '../functions/detect-faces/opencv';
import { finestLevel, planDetection } from '../functions/detect-faces/detect/plan';
import { inspectImage } from '../functions/detect-faces/fetch/sniff';
import { bgrMat, decodeImage, drawBoxes, encodeJpeg, redactFaces } from '../functions/detect-faces/output/image';
import { createLosslessEditor, type JpegLosslessAddon } from '../functions/detect-faces/output/lossless';
import { readKeptMetadata, withOnlyKeptMetadata } from '../functions/detect-faces/output/metadata';
import type { Region } from '../functions/detect-faces/output/redact-plan';
import { JPEG_LOSSLESS_PACKAGE } from '../functions/detect-faces/output/lossless-package';
import { MAX_DECODE_LEVEL } from '../functions/detect-faces/pipeline';
import { unpackLayer } from '../local/layer';
import { buildMosaic, MOSAICS } from './mosaic';
import { median } from '../layer/rules/checks';

export const RUNS = Number(process.env.BENCH_RUNS) || 9;
const SPEC = { mode: 'fill', shape: 'ellipse', padding: 0.4 } as const;

const ms = (t0: number) => performance.now() - t0;

/** A full collection now (V8's gc, exposed for this process). */
const collect: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** The time of `work` after a full collection. */
export function timed<T>(work: () => T): [T, number] {
  collect();
  const t = performance.now();
  const out = work();
  return [out, ms(t)];
}

/** `count` face boxes of `side` px spread over a grid of the image (the marks' cost depends on their area, not on what is under them). */
export function gridFaces(width: number, height: number, count: number, side: number): Region[] {
  const cols = Math.ceil(Math.sqrt((count * width) / height));
  const rows = Math.ceil(count / cols);
  return Array.from({ length: count }, (_, k) => ({
    x: Math.round(((k % cols) + 0.5) * (width / cols) - side / 2),
    y: Math.round((Math.floor(k / cols) + 0.5) * (height / rows) - side / 2),
    width: side,
    height: side,
  }));
}

export function benchLossless(cv: OpenCv, addon: JpegLosslessAddon): string {
  const editor = createLosslessEditor(addon);
  const mosaic = buildMosaic(cv, MOSAICS.groups4000).image;
  const photo = (image: Mat) => encodeJpeg(cv, image, 90);
  const cases = [
    { name: '1920x1080, 3 faces of 200 px', jpeg: photo(mosaic.resize(1080, 1920)), faces: gridFaces(1920, 1080, 3, 200) },
    { name: '4000x3000, 3 faces of 400 px', jpeg: photo(mosaic), faces: gridFaces(4000, 3000, 3, 400) },
    { name: '4000x3000, 40 faces of 250 px', jpeg: photo(mosaic), faces: gridFaces(4000, 3000, 40, 250) },
  ];
  // First, while the process's memory is as a fresh one's: after the stages below, a full decode's
  // 36 MB came back from fresh pages each time (40-42 ms against 20-21 ms, the reduced ones alike).
  const decodes = detectionDecode(cv, addon, cases[1]);
  const rows = [['image', 'path', 'decode / open', 'mark', 'encode / save', 'mark + write', 'total', 'bytes']];
  for (const c of cases) {
    const kept = readKeptMetadata(c.jpeg, 'jpeg');
    const re = { decode: [] as number[], mark: [] as number[], write: [] as number[], bytes: 0 };
    const ll = { decode: [] as number[], mark: [] as number[], write: [] as number[], bytes: 0 };
    const floor = { decode: [] as number[], write: [] as number[], bytes: 0 };
    for (let i = 0; i <= RUNS; i++) {
      const [image, dDecode] = timed(() => decodeImage(cv, c.jpeg));
      const [, dMark] = timed(() => redactFaces(cv, image, c.faces, SPEC));
      const [reencoded, dWrite] = timed(() => withOnlyKeptMetadata(encodeJpeg(cv, image, 90), { icc: kept.icc, orientation: 1 }));
      const view = { width: image.cols, height: image.rows };
      image.release();

      const [edit, lOpen] = timed(() => editor.open(c.jpeg, view));
      const [, lMark] = timed(() => edit.mark(c.faces, SPEC));
      const [lossless, lWrite] = timed(() => withOnlyKeptMetadata(edit.save(), { icc: kept.icc, orientation: edit.orientation }));
      edit.close();

      const [plain, fOpen] = timed(() => editor.open(c.jpeg, view));
      const [transcoded, fWrite] = timed(() => plain.save());
      plain.close();
      if (i === 0) continue; // warm-up
      re.decode.push(dDecode);
      re.mark.push(dMark);
      re.write.push(dWrite);
      re.bytes = reencoded.length;
      ll.decode.push(lOpen);
      ll.mark.push(lMark);
      ll.write.push(lWrite);
      ll.bytes = lossless.length;
      floor.decode.push(fOpen);
      floor.write.push(fWrite);
      floor.bytes = transcoded.length;
    }
    const row = (label: string, s: { decode: number[]; mark?: number[]; write: number[]; bytes: number }) => {
      const mark = s.mark ? median(s.mark) : 0;
      return [c.name, label, median(s.decode).toFixed(1), s.mark ? mark.toFixed(1) : '-', median(s.write).toFixed(1), (mark + median(s.write)).toFixed(1), (median(s.decode) + mark + median(s.write)).toFixed(1), String(s.bytes)];
    };
    rows.push(row('reencode (q90)', re), row('lossless', ll), row('floor: entropy-only transcode', floor));
    const ratio = (median(ll.mark) + median(ll.write)) / (median(re.mark) + median(re.write));
    rows.push([c.name, 'lossless / reencode, mark + write', '', '', '', `${ratio.toFixed(2)}x`, '', `input ${c.jpeg.length}`]);
  }
  return [
    table(rows),
    '',
    'the other marks (ellipse where it has a shape), mark + write, ms',
    table(otherMarks(cv, editor, cases.slice(1))),
    '',
    "the decode detection needs on the lossless path (the default plan's finest level marked), ms, median, the four alternating: a full decode; OpenCV's scaled decode (IMREAD_REDUCED_COLOR_n: a separate read, the pipeline's when the coefficient path refuses the file); open alone (the coefficients' entropy decode the output needs anyway); open with the level, libjpeg making the reduced image from the coefficients as it reads them, and its copy into a Mat (one entropy decode for both: the pipeline's, docs/lossless-jpeg.md); reduced = the difference of the last two medians",
    table(decodes),
  ].join('\n');
}

/**
 * A full decode against what detection reads on the lossless path, at the level the default plan
 * allows (marked) and the coarser ones a larger minFaceSize allows: OpenCV's scaled decode (the
 * pipeline's), and the reduced image made while `open` reads the coefficients (which the output
 * needs anyway: one entropy decode for both), against `open` alone. The four alternate so that
 * other load slows each alike.
 */
function detectionDecode(cv: OpenCv, addon: JpegLosslessAddon, c: { name: string; jpeg: Buffer }): string[][] {
  const editor = createLosslessEditor(addon);
  const rows = [['image', 'level', 'full decode', 'OpenCV scaled', 'open', 'open + reduced', 'reduced', 'scaled / full', 'reduced / full', '(open + reduced) / full']];
  const { width, height } = inspectImage(c.jpeg, Number.POSITIVE_INFINITY);
  const planned = Math.min(MAX_DECODE_LEVEL, finestLevel(planDetection(width, height)));
  const flags = [cv.IMREAD_COLOR, cv.IMREAD_REDUCED_COLOR_2, cv.IMREAD_REDUCED_COLOR_4, cv.IMREAD_REDUCED_COLOR_8];
  for (let level = 1; level <= MAX_DECODE_LEVEL; level++) {
    const t = { full: [] as number[], scaled: [] as number[], open: [] as number[], both: [] as number[] };
    for (let i = 0; i <= RUNS; i++) {
      let t0 = performance.now();
      cv.imdecode(c.jpeg, flags[0]).release();
      const dFull = ms(t0);
      t0 = performance.now();
      cv.imdecode(c.jpeg, flags[level]).release();
      const dScaled = ms(t0);
      t0 = performance.now();
      const handle = addon.open(c.jpeg);
      const dOpen = ms(t0);
      addon.close(handle);
      // One entropy decode for both: the reduced image made while the coefficients are read, copied into a Mat.
      t0 = performance.now();
      const both = editor.open(c.jpeg, { width, height }, level);
      const image = both.reduced((bgr) => bgrMat(cv, bgr));
      const dBoth = ms(t0);
      image.release();
      both.close();
      if (i === 0) continue; // warm-up
      t.full.push(dFull);
      t.scaled.push(dScaled);
      t.open.push(dOpen);
      t.both.push(dBoth);
    }
    const [full, scaled, open, both] = [median(t.full), median(t.scaled), median(t.open), median(t.both)];
    const reduced = both - open;
    const label = `${level} (1/${2 ** level})${level === planned ? ', the default plan' : ''}`;
    const x = (v: number) => `${(v / full).toFixed(2)}x`;
    rows.push([`${width}x${height}`, label, full.toFixed(1), scaled.toFixed(1), open.toFixed(1), both.toFixed(1), reduced.toFixed(1), x(scaled), x(reduced), x(both)]);
  }
  return rows;
}

/** Mark + write of pixelate, blur and box on the same photos, lossless beside reencode. */
function otherMarks(cv: OpenCv, editor: ReturnType<typeof createLosslessEditor>, cases: { name: string; jpeg: Buffer; faces: Region[] }[]): string[][] {
  const rows = [['image', 'mark', 'reencode', 'lossless', 'lossless / reencode']];
  for (const c of cases)
    for (const mode of ['pixelate', 'blur', 'box'] as const) {
      const spec = { ...SPEC, mode };
      const re: number[] = [];
      const ll: number[] = [];
      for (let i = 0; i <= RUNS; i++) {
        const image = decodeImage(cv, c.jpeg);
        const view = { width: image.cols, height: image.rows };
        const [, dRe] = timed(() => {
          if (mode === 'box') drawBoxes(cv, image, c.faces);
          else redactFaces(cv, image, c.faces, spec);
          encodeJpeg(cv, image, 90);
        });
        image.release();
        const edit = editor.open(c.jpeg, view);
        const [, dLl] = timed(() => {
          edit.mark(c.faces, spec);
          edit.save();
        });
        edit.close();
        if (i === 0) continue; // warm-up
        re.push(dRe);
        ll.push(dLl);
      }
      rows.push([c.name, mode, median(re).toFixed(1), median(ll).toFixed(1), `${(median(ll) / median(re)).toFixed(2)}x`]);
    }
  return rows;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n');
}

/** The layer's addons (OpenCV and ours) through Node's own require. */
export function layerAddons(): { cv: OpenCv; addon: JpegLosslessAddon } {
  const layer = unpackLayer();
  return { cv: layer.load('@u4/opencv4nodejs') as OpenCv, addon: layer.load(JPEG_LOSSLESS_PACKAGE) as JpegLosslessAddon };
}

if (require.main === module) {
  const { cv, addon } = layerAddons();
  cv.setNumThreads(1);
  // --decode: only the last table (the decode detection needs), on the 12 MP photo.
  if (process.argv.includes('--decode')) process.stdout.write(`${table(detectionDecode(cv, addon, { name: '4000x3000', jpeg: encodeJpeg(cv, buildMosaic(cv, MOSAICS.groups4000).image, 90) }))}\n`);
  else process.stdout.write(`lossless beside reencode, fill (ellipse), one thread, ms, median of ${RUNS} runs\n${benchLossless(cv, addon)}\n`);
}
