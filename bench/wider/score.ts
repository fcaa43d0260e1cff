/**
 * Scoring face detections against WIDER FACE labels (the format of a WIDER-format folder's
 * labels.json), in the terms the recall issue's targets use. Pure.
 *
 * Counted faces: side sqrt(w*h) >= 20 px, annotator-invalid faces left out. A counted face is found
 * when some prediction at or above the threshold overlaps it with IoU >= 0.5. Categories from
 * WIDER's own attributes: clean (no blur, no occlusion, typical pose), occluded (partial or heavy),
 * atypical pose, heavily blurred, all. Precision: predictions of side >= 20 px that overlap
 * (IoU >= 0.5) any labelled face, small or invalid ones included, over all such predictions.
 * WIDER AP: the official evaluation (WiderFace-Evaluation, as YuNet's published figures use it):
 * scores min-max normalised, 1000 thresholds, easy/medium/hard with the official ignore sets.
 */
import { iou } from '../../functions/detect-faces/detect/boxes';

export interface WiderFace {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly blur: number;
  readonly occlusion: number;
  readonly pose: number;
  readonly invalid: number | boolean;
  readonly inEasy: boolean;
  readonly inMedium: boolean;
  readonly inHard: boolean;
}

export interface WiderImage {
  /** Path of the image relative to the folder's images/ (as labels.json names it). */
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly faces: readonly WiderFace[];
}

export interface Prediction {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly score: number;
}

/** Predictions per image, in labels order. */
export type Predictions = readonly (readonly Prediction[])[];

export const CATEGORIES = {
  clean: (f: WiderFace) => !f.blur && !f.occlusion && !f.pose,
  occluded: (f: WiderFace) => f.occlusion > 0,
  pose: (f: WiderFace) => f.pose > 0,
  blurred: (f: WiderFace) => f.blur > 1,
  all: () => true,
} as const;
export type Category = keyof typeof CATEGORIES;

/** Size bands of counted faces, sqrt(w*h) px: [from, to). */
export const SIZE_BANDS = [
  [20, 40],
  [40, 80],
  [80, 160],
  [160, Number.POSITIVE_INFINITY],
] as const;

/** Smallest counted face side, and smallest prediction side counted for precision. */
export const MIN_SIDE = 20;

const side = (w: number, h: number) => Math.sqrt(Math.max(w, 0) * Math.max(h, 0));
const asBox = (f: WiderFace) => ({ x: f.x, y: f.y, width: f.w, height: f.h, score: 1 });
/** A face the figures count: labelled valid, side at least MIN_SIDE. */
export const counted = (f: WiderFace): boolean => !f.invalid && side(f.w, f.h) >= MIN_SIDE;

export interface OperatingFigures {
  readonly threshold: number;
  /** Per category: found / counted. */
  readonly recall: Record<Category, number>;
  readonly bands: { readonly from: number; readonly to: number; readonly faces: number; readonly recall: number }[];
  readonly precision: number;
  /** Predictions of side >= 20 px at or above the threshold. */
  readonly predictions: number;
}

/** What one photo adds to the figures at a threshold: counted and found faces per category and size band, and predictions >= 20 px, faces among them. */
export interface PhotoCounts {
  readonly categories: Record<Category, { readonly found: number; readonly faces: number }>;
  readonly bands: readonly { readonly found: number; readonly faces: number }[];
  readonly tp: number;
  readonly n: number;
}

/** One photo's counts, of its predictions scoring at least `threshold` (as operatingFigures counts them). */
export function photoCounts(image: WiderImage, predictions: readonly Prediction[], threshold: number): PhotoCounts {
  const categories = Object.fromEntries(Object.keys(CATEGORIES).map((c) => [c, { found: 0, faces: 0 }])) as Record<Category, { found: number; faces: number }>;
  const bands = SIZE_BANDS.map(() => ({ found: 0, faces: 0 }));
  const kept = predictions.filter((p) => p.score >= threshold);
  for (const f of image.faces) {
    if (!counted(f)) continue;
    const found = kept.some((p) => iou(asBox(f), p) >= 0.5);
    for (const [name, inCategory] of Object.entries(CATEGORIES) as [Category, (f: WiderFace) => boolean][]) {
      if (!inCategory(f)) continue;
      categories[name].faces++;
      if (found) categories[name].found++;
    }
    const band = bands[SIZE_BANDS.findIndex(([from, to]) => side(f.w, f.h) >= from && side(f.w, f.h) < to)];
    band.faces++;
    if (found) band.found++;
  }
  let tp = 0;
  let n = 0;
  for (const p of kept) {
    if (side(p.width, p.height) < MIN_SIDE) continue;
    n++;
    if (isFace(image, p)) tp++;
  }
  return { categories, bands, tp, n };
}

/** The figures of photos' counts summed (`threshold` is only reported). */
export function figuresOf(photos: readonly PhotoCounts[], threshold: number): OperatingFigures {
  const sum = (pick: (c: PhotoCounts) => { found: number; faces: number }) => photos.reduce((t, c) => ({ found: t.found + pick(c).found, faces: t.faces + pick(c).faces }), { found: 0, faces: 0 });
  const rate = (a: number, b: number) => (b > 0 ? a / b : 0);
  const tp = photos.reduce((t, c) => t + c.tp, 0);
  const n = photos.reduce((t, c) => t + c.n, 0);
  return {
    threshold,
    recall: Object.fromEntries(Object.keys(CATEGORIES).map((c) => [c, ((h) => rate(h.found, h.faces))(sum((p) => p.categories[c as Category]))])) as Record<Category, number>,
    bands: SIZE_BANDS.map(([from, to], k) => ((b) => ({ from, to, faces: b.faces, recall: rate(b.found, b.faces) }))(sum((p) => p.bands[k]))),
    precision: rate(tp, n),
    predictions: n,
  };
}

/** Recall per category and size band, and precision, of the predictions scoring at least `threshold`. */
export function operatingFigures(labels: readonly WiderImage[], predictions: Predictions, threshold: number): OperatingFigures {
  return figuresOf(labels.map((image, i) => photoCounts(image, predictions[i], threshold)), threshold);
}

/**
 * The lowest min score at which at least `target` of the predictions >= 20 px are faces (as
 * operatingFigures counts precision): the operating point with the most recall at that precision.
 * Undefined when no min score reaches it.
 */
export function thresholdForPrecision(labels: readonly WiderImage[], predictions: Predictions, target: number): number | undefined {
  const scored = labels.flatMap((image, i) =>
    predictions[i].filter((p) => side(p.width, p.height) >= MIN_SIDE).map((p) => ({ score: p.score, face: isFace(image, p) })),
  );
  scored.sort((a, b) => b.score - a.score);
  let faces = 0;
  let best: number | undefined;
  scored.forEach((p, k) => {
    if (p.face) faces++;
    // A min score keeps every prediction scoring as much: judge only after the last of a tie.
    const lastOfTie = k + 1 === scored.length || scored[k + 1].score < p.score;
    if (lastOfTie && faces / (k + 1) >= target) best = p.score;
  });
  return best;
}

/** Whether each prediction overlaps (IoU >= 0.5) some labelled face of its image, any size: the calibration's "is a face". */
export function isFace(image: WiderImage, p: Prediction): boolean {
  return image.faces.some((f) => iou(asBox(f), p) >= 0.5);
}

export type WiderSetting = 'easy' | 'medium' | 'hard';
const MEMBER: Record<WiderSetting, 'inEasy' | 'inMedium' | 'inHard'> = { easy: 'inEasy', medium: 'inMedium', hard: 'inHard' };

/**
 * WIDER FACE's official average precision for easy, medium and hard (WiderFace-Evaluation's
 * evaluation.py, as YuNet's authors and OpenCV report): overlap with the +1 pixel convention,
 * predictions on faces outside the setting neither count nor miss.
 */
export function widerAp(labels: readonly WiderImage[], predictions: Predictions, iouThreshold = 0.5): Record<WiderSetting, number> {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const list of predictions) {
    for (const p of list) {
      lo = Math.min(lo, p.score);
      hi = Math.max(hi, p.score);
    }
  }
  const span = hi - lo;
  const sorted = predictions.map((list) =>
    list
      .map((p, i) => ({ x1: p.x, y1: p.y, x2: p.x + p.width, y2: p.y + p.height, s: (p.score - lo) / span, i }))
      .sort((a, b) => b.s - a.s || a.i - b.i),
  );
  const STEPS = 1000;
  const out = {} as Record<WiderSetting, number>;
  for (const setting of ['easy', 'medium', 'hard'] as const) {
    const curve = Array.from({ length: STEPS }, () => [0, 0]);
    let faceCount = 0;
    labels.forEach((image, n) => {
      const keep = image.faces.map((f) => f[MEMBER[setting]]);
      faceCount += keep.filter(Boolean).length;
      const pred = sorted[n];
      if (image.faces.length === 0 || pred.length === 0) return;
      const gt = image.faces.map((f) => ({ x1: f.x, y1: f.y, x2: f.x + f.w, y2: f.y + f.h }));
      const recalledBy = new Array<number>(gt.length).fill(0);
      const proposal = new Array<number>(pred.length).fill(1);
      const recalledSoFar = new Array<number>(pred.length).fill(0);
      let recalled = 0;
      pred.forEach((p, h) => {
        let best = Number.NEGATIVE_INFINITY;
        let at = 0;
        gt.forEach((q, g) => {
          const iw = Math.min(p.x2, q.x2) - Math.max(p.x1, q.x1);
          const ih = Math.min(p.y2, q.y2) - Math.max(p.y1, q.y1);
          const inter = iw > 0 && ih > 0 ? (iw + 1) * (ih + 1) : 0;
          const overlap = inter / ((p.x2 - p.x1 + 1) * (p.y2 - p.y1 + 1) + (q.x2 - q.x1 + 1) * (q.y2 - q.y1 + 1) - inter);
          if (overlap > best) {
            best = overlap;
            at = g;
          }
        });
        if (best >= iouThreshold) {
          if (!keep[at]) {
            if (recalledBy[at] === 1) recalled--;
            recalledBy[at] = -1;
            proposal[h] = -1;
          } else if (recalledBy[at] === 0) {
            recalledBy[at] = 1;
            recalled++;
          }
        }
        recalledSoFar[h] = recalled;
      });
      let above = 0;
      let proposals = 0;
      for (let t = 0; t < STEPS; t++) {
        const threshold = 1 - (t + 1) / STEPS;
        while (above < pred.length && pred[above].s >= threshold) {
          if (proposal[above] === 1) proposals++;
          above++;
        }
        if (above === 0) continue;
        curve[t][0] += proposals;
        curve[t][1] += recalledSoFar[above - 1];
      }
    });
    const precision = curve.map(([p, r]) => r / p);
    const recall = curve.map(([, r]) => r / faceCount);
    const mrec = [0, ...recall, 1];
    const mpre = [0, ...precision, 0];
    // numpy's maximum: NaN (0 / 0, no proposal yet) wins.
    for (let i = mpre.length - 1; i > 0; i--) mpre[i - 1] = Number.isNaN(mpre[i - 1]) || Number.isNaN(mpre[i]) ? Number.NaN : Math.max(mpre[i - 1], mpre[i]);
    let ap = 0;
    for (let i = 0; i + 1 < mrec.length; i++) if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
    out[setting] = ap;
  }
  return out;
}
