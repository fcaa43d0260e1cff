/**
 * The cost of each mark mode beside `box`: the mark stage alone and the whole mark + encode, on
 * photos of the sizes users send (one thread, the layer's OpenCV, the function's own code).
 * Run on its own (`npx tsx bench/marks.ts`) or as a section of `npm run bench`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MARK_MODES, REDACTION_DEFAULTS, REDACT_SHAPES } from '../functions/detect-faces/contract';
import { createDetector } from '../functions/detect-faces/detect/detectors';
import type { Mat, OpenCv } from '../functions/detect-faces/opencv';
import { decodeImage, drawBoxes, encodeJpeg, redactFaces } from '../functions/detect-faces/output/image';
import { FACES_DIR } from './labelled-photos';
import { unpackLayer } from '../local/layer';
import { median } from '../layer/rules/checks';
import { buildMosaic, MOSAICS } from './mosaic';

const RUNS = Number(process.env.BENCH_RUNS) || 9;


export function benchMarks(cv: OpenCv, modelsDir: string): string {
  const detector = createDetector(cv, 'yunet', modelsDir);
  const inputs: { name: string; image: Mat }[] = [
    { name: '2008_001322.jpg (500x375, 3 faces)', image: decodeImage(cv, fs.readFileSync(path.join(FACES_DIR, '2008_001322.jpg'))) },
    { name: `${MOSAICS.groups2000.name}`, image: buildMosaic(cv, MOSAICS.groups2000).image },
    { name: `${MOSAICS.groups4000.name}`, image: buildMosaic(cv, MOSAICS.groups4000).image },
  ];
  const rows = [['image', 'faces', 'mode', 'shape', 'mark ms (median)', 'mark + encode ms', 'vs box']];
  for (const { name, image } of inputs) {
    const boxes = detector.detect(image).boxes;
    let boxTotal = 0;
    for (const mode of MARK_MODES) {
      for (const shape of mode === 'box' ? ([undefined] as const) : REDACT_SHAPES) {
        const mark: number[] = [];
        const total: number[] = [];
        for (let i = 0; i < RUNS; i += 1) {
          const copy = image.copy();
          const t0 = performance.now();
          if (mode === 'box') drawBoxes(cv, copy, boxes);
          else redactFaces(cv, copy, boxes, { mode, shape: shape!, padding: REDACTION_DEFAULTS.padding });
          const t1 = performance.now();
          encodeJpeg(cv, copy, 90);
          mark.push(t1 - t0);
          total.push(performance.now() - t0);
        }
        if (mode === 'box') boxTotal = median(total);
        rows.push([name, String(boxes.length), mode, shape ?? '-', median(mark).toFixed(1), median(total).toFixed(1), `${(median(total) / boxTotal).toFixed(2)}x`]);
      }
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n');
}

if (require.main === module) {
  const layer = unpackLayer();
  const cv = layer.load('@u4/opencv4nodejs') as OpenCv;
  cv.setNumThreads(1);
  process.stdout.write(`mark modes, one thread, ${RUNS} runs each\n${benchMarks(cv, layer.modelsDir)}\n`);
}
