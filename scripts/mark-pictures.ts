/**
 * `npx tsx scripts/mark-pictures.ts`: docs/marks.jpg, docs/redaction.md's picture of each mark mode (box,
 * fill, pixelate, blur) on the public-domain sample photo, made with the layer's OpenCV and the
 * function's own detector and marking code. Needs the built layer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { MARK_MODES, REDACTION_DEFAULTS } from '../functions/detect-faces/contract';
import { createDetector } from '../functions/detect-faces/detect/detectors';
import type { Mat, OpenCv } from '../functions/detect-faces/opencv';
import { decodeImage, drawBoxes, encodeJpeg, redactFaces } from '../functions/detect-faces/output/image';
import { unpackLayer } from '../local/layer';

const ROOT = path.resolve(__dirname, '..');
const layer = unpackLayer(path.join(ROOT, 'layer', 'dist', 'opencv-layer-x86_64.zip'));
const cv = createRequire(path.join(layer.nodeModules, 'noop.js'))('@u4/opencv4nodejs') as OpenCv;
const photo = () => decodeImage(cv, fs.readFileSync(path.join(ROOT, 'samples', 'astronaut.png')));
const { boxes } = createDetector(cv, 'yunet', layer.modelsDir).detect(photo());
const side = 240;
const panels: Mat[] = MARK_MODES.map((mode) => {
  const image = photo();
  if (mode === 'box') drawBoxes(cv, image, boxes);
  else redactFaces(cv, image, boxes, { mode, ...REDACTION_DEFAULTS });
  // The face and its surroundings, scaled to one panel.
  const b = boxes[0];
  const crop = Math.min(image.cols, image.rows, Math.round(b.width * 2.4));
  const x = Math.max(0, Math.min(image.cols - crop, Math.round(b.x + b.width / 2 - crop / 2)));
  const y = Math.max(0, Math.min(image.rows - crop, Math.round(b.y + b.height / 2 - crop / 2)));
  return image.getRegion(new cv.Rect(x, y, crop, crop)).resize(side, side, 0, 0, cv.INTER_AREA);
});
const strip = new cv.Mat(side, side * panels.length + 8 * (panels.length - 1), cv.CV_8UC3, [255, 255, 255]);
panels.forEach((p, i) => p.copyTo(strip.getRegion(new cv.Rect(i * (side + 8), 0, side, side))));
const out = path.resolve(ROOT, 'docs', process.argv[2] ?? 'marks.jpg');
fs.writeFileSync(out, out.endsWith('.png') ? cv.imencode('.png', strip) : encodeJpeg(cv, strip, 85));
process.stdout.write(`${path.relative(ROOT, out)}: ${MARK_MODES.join(', ')} (${boxes.length} face)\n`);
