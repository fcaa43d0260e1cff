/**
 * Where faces end and texture begins on the score scale, and what redaction leaves: the evidence
 * for the contract's LOWEST_MIN_SCORE and REDACTION_DEFAULTS.padding. At the smallest face size
 * (the most sensitive request), on the labelled photos and the real-size mosaics:
 *   1. labelled faces found (one to one, IoU 0.5) and other detections, by score band
 *   2. for each redaction mode, shape and padding: the strongest detection that would find a
 *      redacted face again (stored JPEG, decoded), and how many reach LOWEST_MIN_SCORE
 * Run on its own (`npx tsx bench/scores.ts`) or as `npm run bench -- --scores`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DETECT_REQUEST, LOWEST_MIN_SCORE, REDACTION_DEFAULTS, REDACT_SHAPES } from '../functions/detect-faces/contract';
import { createDetector } from '../functions/detect-faces/detect/detectors';
import type { OpenCv } from '../functions/detect-faces/opencv';
import { decodeImage, encodeJpeg, redactFaces } from '../functions/detect-faces/output/image';
import { FACES_DIR, readLabels } from './labelled-photos';
import { matchDetections } from './detection-quality';
import { findsFaceAgain } from './found-again';
import { unpackLayer } from '../local/layer';
import { buildMosaic, MOSAICS } from './mosaic';

/** Score bands, the contract's floor among them. */
const BANDS = [...new Set([0.05, LOWEST_MIN_SCORE, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])].sort((a, b) => a - b);
/** Below the contract's floor, to see what the floor keeps out. */
const PROBE = { minScore: BANDS[0], minFaceSize: DETECT_REQUEST.minFaceSize.min };
const PADDINGS = [0.25, REDACTION_DEFAULTS.padding];

export function benchScores(cv: OpenCv, modelsDir: string, print: (line: string) => void = () => {}): string {
  const detector = createDetector(cv, 'yunet', modelsDir);
  const read = (file: string) => decodeImage(cv, fs.readFileSync(path.join(FACES_DIR, file)));
  const sets = [
    ...readLabels().map((l) => ({ name: l.file, image: read(l.file), truth: l.boxes })),
    ...[MOSAICS.groups2000, MOSAICS.groups4000].map((spec) => buildMosaic(cv, spec)),
  ];
  const labels = sets.reduce((n, s) => n + s.truth.length, 0);
  const out: string[] = [];
  // Printed as it goes too: a section takes minutes.
  const say = (line: string) => {
    out.push(line);
    print(line);
  };
  say(`1. at minFaceSize ${PROBE.minFaceSize}, ${sets.length} images, ${labels} labelled faces: detections scoring at least`);
  const found = sets.map((s) => ({ s, boxes: detector.detect(s.image, PROBE).boxes }));
  for (const band of BANDS) {
    let faces = 0;
    let total = 0;
    for (const { s, boxes } of found) {
      const kept = boxes.filter((b) => b.score >= band);
      faces += matchDetections(kept, s.truth).truePositives;
      total += kept.length;
    }
    say(`   ${band.toFixed(3)}: faces ${faces}/${labels}, other ${total - faces}${band === LOWEST_MIN_SCORE ? '   <- LOWEST_MIN_SCORE' : ''}`);
  }
  say(`2. redacted, stored as JPEG, decoded, then detected at minFaceSize ${PROBE.minFaceSize}: strongest detection finding a face again, and how many reach ${LOWEST_MIN_SCORE}`);
  const inputs = [...sets, { name: 'bald_guys.jpg', image: read('bald_guys.jpg') }, { name: 'grace_hopper_512x512.jpg', image: read('grace_hopper_512x512.jpg') }].map(({ name, image }) => ({
    name,
    image,
    faces: detector.detect(image).boxes,
  }));
  for (const mode of ['fill', 'pixelate', 'blur'] as const) {
    for (const shape of REDACT_SHAPES) {
      for (const padding of PADDINGS) {
        let strongest = 0;
        let reaching = 0;
        for (const { image, faces } of inputs) {
          const copy = image.copy();
          redactFaces(cv, copy, faces, { mode, shape, padding });
          const stored = decodeImage(cv, encodeJpeg(cv, copy, 90));
          for (const d of detector.detect(stored, PROBE).boxes) {
            if (!findsFaceAgain(d, faces, padding, stored.cols, stored.rows)) continue;
            strongest = Math.max(strongest, d.score);
            if (d.score >= LOWEST_MIN_SCORE) reaching += 1;
          }
        }
        say(`   ${mode.padEnd(8)} ${shape.padEnd(7)} padding ${padding.toFixed(2)}: strongest ${strongest.toFixed(2)}, reaching ${reaching}${padding === REDACTION_DEFAULTS.padding ? '   (default)' : ''}`);
      }
    }
  }
  return out.join('\n');
}

if (require.main === module) {
  const layer = unpackLayer();
  const cv = layer.load('@u4/opencv4nodejs') as OpenCv;
  cv.setNumThreads(1);
  benchScores(cv, layer.modelsDir, (line) => process.stdout.write(`${line}\n`));
}
