/** Detection quality against labelled boxes: greedy one-to-one matching at an IoU threshold (the bench's and the tests' recall and precision). */
import { iou, type Box, type Rect } from '../functions/detect-faces/detect/boxes';

export function matchDetections(found: readonly Box[], truth: readonly Rect[], threshold = 0.5): { truePositives: number } {
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
