/** Detection quality against labelled boxes: greedy one-to-one matching at an IoU threshold (the bench's and the tests' recall and precision). */
import { iou, type Box, type Rect } from '../functions/detect-faces/detect/boxes';

/**
 * The IoU at which a detection matches a label of the repository's photos (training.xml) and the
 * mosaics built from them. Those labels are dlib imglab squares from brow to lip; YuNet's boxes
 * follow WIDER FACE's convention, hairline to chin, about 1.3x taller. Fed BGR, YuNet finds every
 * labelled face at 0.98-1.0, yet its box overlaps a 37-45 px label by IoU 0.49-0.8 (one face at
 * 0.49 on 2007_007763), so 0.5 would count a face found as one missed and one false. WIDER's own
 * labels share YuNet's convention: bench/wider scores at 0.5.
 */
export const SQUARE_LABEL_IOU = 0.4;

export function matchDetections(found: readonly Box[], truth: readonly Rect[], threshold = SQUARE_LABEL_IOU): { truePositives: number } {
  const unmatched = new Set(truth.map((_, i) => i));
  let truePositives = 0;
  for (const box of [...found].sort((a, b) => b.score - a.score)) {
    let best = -1;
    let bestIou = threshold;
    for (const i of unmatched) {
      const o = iou(box, truth[i]);
      if (o >= bestIou) {
        best = i;
        bestIou = o;
      }
    }
    if (best >= 0) {
      unmatched.delete(best);
      truePositives++;
    }
  }
  return { truePositives };
}

export function recallPrecision(results: { found: readonly Box[]; truth: readonly Rect[] }[]): { recall: number; precision: number } {
  let tp = 0;
  let gt = 0;
  let det = 0;
  for (const r of results) {
    tp += matchDetections(r.found, r.truth).truePositives;
    gt += r.truth.length;
    det += r.found.length;
  }
  return { recall: gt ? tp / gt : 1, precision: det ? tp / det : 1 };
}
