/**
 * The coefficient path's cost by how the input JPEG is coded. The lossless bench's 12 MP photo with
 * 40 faces, written by OpenCV's encoder (libjpeg-turbo) at quality 90 three ways: the standard
 * Huffman tables (what bench/lossless.ts measures), tables optimised for the file (incomplete: save
 * extends them by what the changed blocks need), and progressive (save writes the shortest
 * progression). Per mark (fill, box): open, mark and save beside a re-encode's mark + encode, and
 * the bytes. One thread, median of 9 runs after a warm-up, a full garbage collection before each
 * timed stage. `npx tsx bench/lossless-coding.ts`.
 */
import type { OpenCv } from '../functions/detect-faces/opencv';
import { decodeImage, drawBoxes, encodeJpeg, redactFaces } from '../functions/detect-faces/output/image';
import { createLosslessEditor, type JpegLosslessAddon } from '../functions/detect-faces/output/lossless';
import { median } from '../layer/rules/checks';
import { gridFaces, layerAddons, RUNS, timed } from './lossless';
import { buildMosaic, MOSAICS } from './mosaic';

/** OpenCV's imwrite flags (the opencv4nodejs typings name only the quality). */
const IMWRITE_JPEG_PROGRESSIVE = 2;
const IMWRITE_JPEG_OPTIMIZE = 3;

export function benchLosslessCoding(cv: OpenCv, addon: JpegLosslessAddon): string {
  const editor = createLosslessEditor(addon);
  const mosaic = buildMosaic(cv, MOSAICS.groups4000).image;
  const codings = [
    { name: 'standard tables', flags: [] as number[] },
    { name: 'optimised tables', flags: [IMWRITE_JPEG_OPTIMIZE, 1] },
    { name: 'progressive', flags: [IMWRITE_JPEG_PROGRESSIVE, 1] },
  ];
  const faces = gridFaces(mosaic.cols, mosaic.rows, 40, 250);
  const rows = [['input', 'mark', 'reencode: mark + encode', 'lossless: open / mark / save', 'lossless / reencode, mark + write', 'bytes: input / lossless / reencode']];
  for (const coding of codings) {
    const jpeg = cv.imencode('.jpg', mosaic, [cv.IMWRITE_JPEG_QUALITY, 90, ...coding.flags]);
    for (const mode of ['fill', 'box'] as const) {
      const spec = { mode, shape: 'ellipse', padding: 0.4 } as const;
      const re: number[] = [];
      const open: number[] = [];
      const mark: number[] = [];
      const save: number[] = [];
      let bytes = { lossless: 0, reencoded: 0 };
      for (let i = 0; i <= RUNS; i++) {
        const image = decodeImage(cv, jpeg);
        const view = { width: image.cols, height: image.rows };
        const [reencoded, dRe] = timed(() => {
          if (mode === 'box') drawBoxes(cv, image, faces);
          else redactFaces(cv, image, faces, spec);
          return encodeJpeg(cv, image, 90);
        });
        image.release();
        const [edit, dOpen] = timed(() => editor.open(jpeg, view));
        const [, dMark] = timed(() => edit.mark(faces, spec));
        const [lossless, dSave] = timed(() => edit.save());
        edit.close();
        if (i === 0) continue; // warm-up
        re.push(dRe);
        open.push(dOpen);
        mark.push(dMark);
        save.push(dSave);
        bytes = { lossless: lossless.length, reencoded: reencoded.length };
      }
      const ratio = (median(mark) + median(save)) / median(re);
      rows.push([
        coding.name,
        mode,
        median(re).toFixed(1),
        `${median(open).toFixed(1)} / ${median(mark).toFixed(1)} / ${median(save).toFixed(1)}`,
        `${ratio.toFixed(2)}x`,
        `${jpeg.length} / ${bytes.lossless} / ${bytes.reencoded}`,
      ]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n');
}

if (require.main === module) {
  const { cv, addon } = layerAddons();
  cv.setNumThreads(1);
  process.stdout.write(`the coefficient path by the input's coding, 4000x3000, 40 faces of 250 px, one thread, ms, median of ${RUNS} runs\n${benchLosslessCoding(cv, addon)}\n`);
}
