/** Face boxes and the pure geometry around them: overlap, non-maximum suppression, scaling. */

/** `v` within [lo, hi]; a comparison, not Math.min/max, as it runs per grid cell in YuNet's decoding. */
export const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** A rectangle in pixels: x, y the top-left corner. */
export type Rect = Pick<Box, 'x' | 'y' | 'width' | 'height'>;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Detector confidence in [0, 1]. */
  score: number;
  /**
   * YuNet's five points, [x, y] in the same pixels as the box, in the order the network emits them,
   * which is the contract's LANDMARK_NAMES order: right eye, left eye, nose tip, right mouth corner,
   * left mouth corner, right and left being the person's own, i.e. for a face towards the camera
   * eyeLeft (the image's left; measured: grace_hopper_512x512.jpg gives x 229 and 305 for the two
   * eyes), eyeRight, nose, mouthLeft, mouthRight. Absent for Haar.
   */
  landmarks?: [number, number][];
}

export function iou(a: Rect, b: Rect): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Rectangles kept in order of their left edge, to find those whose horizontal extent meets a
 * given one: only they can overlap it. Greedy NMS and the fusion of two looks compare a box with
 * these alone; a 12 MP crowd gives thousands of weak candidates, and comparing every pair cost as
 * much as a look of the network. Ours: a sorted array is all it needs.
 */
export class LeftEdgeIndex<T extends Rect> {
  private readonly items: T[] = [];
  private widest = 0;

  constructor(items: Iterable<T> = []) {
    for (const item of items) this.add(item);
  }

  add(item: T): void {
    this.items.splice(this.firstFrom(item.x), 0, item);
    if (item.width > this.widest) this.widest = item.width;
  }

  /** The items whose horizontal extent overlaps `r`'s (a positive width in common), by left edge. */
  *meeting(r: Rect): Generator<T> {
    for (let i = this.firstFrom(r.x - this.widest); i < this.items.length && this.items[i].x < r.x + r.width; i++) {
      const item = this.items[i];
      if (item.x + item.width > r.x) yield item;
    }
  }

  /** Index of the first item whose left edge is at least `x`. */
  private firstFrom(x: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].x < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Greedy NMS: keeps the best-scoring box of every group that overlaps more than `threshold` (>= 0). */
export function nonMaxSuppression<T extends Box>(boxes: readonly T[], threshold: number, topK = 5000): T[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score).slice(0, topK);
  const kept: T[] = [];
  const index = new LeftEdgeIndex<T>();
  for (const box of sorted) {
    let free = true;
    for (const k of index.meeting(box)) {
      if (iou(k, box) > threshold) {
        free = false;
        break;
      }
    }
    if (free) {
      kept.push(box);
      index.add(box);
    }
  }
  return kept;
}

/**
 * Maps boxes found on a downscaled copy back to the original image: divides by the scale,
 * rounds outwards to whole pixels and clips to the image, dropping boxes that vanish.
 */
export function mapToOriginal(boxes: readonly Box[], scale: number, width: number, height: number): Box[] {
  const out: Box[] = [];
  for (const b of boxes) {
    const x1 = Math.max(0, Math.floor(b.x / scale));
    const y1 = Math.max(0, Math.floor(b.y / scale));
    const x2 = Math.min(width, Math.ceil((b.x + b.width) / scale));
    const y2 = Math.min(height, Math.ceil((b.y + b.height) / scale));
    if (x2 - x1 >= 1 && y2 - y1 >= 1) {
      out.push({ x: x1, y: y1, width: x2 - x1, height: y2 - y1, score: reportedScore(b.score) });
    }
  }
  return out;
}

/** Scale that fits the image's longer side into `maxSide` (never enlarges). */
export function downscaleFactor(width: number, height: number, maxSide: number): number {
  const longer = Math.max(width, height);
  return longer > maxSide ? maxSide / longer : 1;
}

/** A score as a result reports it, to 4 decimals; a request's minScore is compared with this, so that a face reported at 0.9999 passes minScore 0.9999. */
export function reportedScore(score: number): number {
  return Math.round(score * 1e4) / 1e4;
}
