/**
 * From per-tile detections to the answer: drop boxes cut by an inner tile border (the overlap
 * guarantees a neighbour sees those faces whole, or a coarser pass does), map to original-image
 * pixels, suppress duplicates across tiles and scales, keep the largest N. Pure.
 */
import { DETECT_REQUEST } from '../contract';
import { clamp, nonMaxSuppression, reportedScore, type Box } from './boxes';
import { tilePointToImage, type Tile } from './plan';

/**
 * Faces (in `tile`'s input pixels) not within `margin` of a side the tile shares with another
 * tile. Image borders do not count: nothing lies beyond them.
 */
export function awayFromInnerEdges<T extends Box>(faces: readonly T[], tile: Tile, margin: number): T[] {
  const { width, height } = tile.input;
  const e = tile.imageEdge;
  return faces.filter(
    (f) =>
      (e.left || f.x >= margin) &&
      (e.top || f.y >= margin) &&
      (e.right || f.x + f.width <= width - margin) &&
      (e.bottom || f.y + f.height <= height - margin),
  );
}

/**
 * Boxes (and landmarks) at `tile`'s input mapped to original-image pixels, unrounded, unclipped;
 * any other fields carried as they are.
 */
export function tileFacesToImage<T extends Box>(faces: readonly T[], tile: Tile): T[] {
  return faces.map((f) => {
    const [x1, y1] = tilePointToImage(tile, f.x, f.y);
    const [x2, y2] = tilePointToImage(tile, f.x + f.width, f.y + f.height);
    const out: T = { ...f, x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
    if (f.landmarks) out.landmarks = f.landmarks.map(([u, v]) => tilePointToImage(tile, u, v));
    return out;
  });
}

/** A tile's detections that count, in original-image pixels. */
export function facesFromTile<T extends Box>(faces: readonly T[], tile: Tile, margin: number): T[] {
  return tileFacesToImage(awayFromInnerEdges(faces, tile, margin), tile);
}

/** Boxes from different tiles and scales overlapping more than this (IoU) are one face, as in YuNet's own NMS. */
export const MERGE_IOU = 0.3;

export interface MergeOptions {
  readonly width: number;
  readonly height: number;
  /** Boxes overlapping more than this (IoU) are one face. @default MERGE_IOU */
  readonly iouThreshold?: number;
  /** Keep the N largest. @default the request's default (contract DETECT_REQUEST.maxFaces) */
  readonly maxFaces?: number;
  /** Drop boxes inside a sure, much larger face (dropFacesInsideFaces), as the operating point says (OperatingPoint.dropInside: `box`). @default false */
  readonly dropInside?: boolean;
}

const EPS = 1e-6;

/**
 * For `box` marks (MergeOptions.dropInside): a box at least this much of whose area lies inside a
 * sure face's box (calibrated INSIDE_SURE or more) of at least INSIDE_AREA_RATIO times its area is
 * part of that face or of the person, not a face: YuNet_n's finer passes fire on a large face's
 * chin or shoulder (a 675x641 box at 0.78, 70% inside a 2200-px face found at 1.00). Redaction
 * keeps such boxes: an extra patch costs little, and a real face half over another one must not
 * lose its own mark. On WIDER's development subset this takes no face from the box default and one
 * false box from its full curve; half inside instead of 0.65 took a 20-40 px face, and weaker
 * large boxes suppressing too (false ones among them) took real faces (for redaction, at 0.8
 * inside: all faces 89.1% to 89.0%).
 */
export const INSIDE_SHARE = 0.65;
export const INSIDE_AREA_RATIO = 4;
export const INSIDE_SURE = 0.9;

/** `faces` (best score first) without those inside a sure, much larger one (INSIDE_SURE, INSIDE_SHARE, INSIDE_AREA_RATIO). */
export function dropFacesInsideFaces<T extends Box>(faces: readonly T[]): T[] {
  const kept: T[] = [];
  // The kept sure faces: only they suppress.
  const sure: T[] = [];
  for (const f of faces) {
    const area = f.width * f.height;
    const inside = sure.some((g) => {
      if (g.width * g.height < INSIDE_AREA_RATIO * area) return false;
      const w = Math.min(f.x + f.width, g.x + g.width) - Math.max(f.x, g.x);
      const h = Math.min(f.y + f.height, g.y + g.height) - Math.max(f.y, g.y);
      return w > 0 && h > 0 && w * h >= INSIDE_SHARE * area;
    });
    if (inside) continue;
    kept.push(f);
    if (f.score >= INSIDE_SURE) sure.push(f);
  }
  return kept;
}

/**
 * One box per face, best score first: greedy NMS over every tile and scale, boxes inside a
 * sure, much larger one dropped when asked (`dropInside`), the `maxFaces`
 * largest kept, boxes rounded outwards to whole pixels and clipped to the image, landmarks
 * rounded to whole pixels and clamped to the image (a face cut by the border can have a point the
 * network places beyond it; like its box, the point stops at the last pixel), scores to 4 decimals.
 */
export function mergeFaces(faces: readonly Box[], options: MergeOptions): Box[] {
  const { width, height, iouThreshold = MERGE_IOU, maxFaces = DETECT_REQUEST.maxFaces.default, dropInside = false } = options;
  // A box that is not all numbers (a network's NaN) is no face, whatever its score.
  const finite = faces.filter((f) => [f.x, f.y, f.width, f.height, f.score].every(Number.isFinite));
  const suppressed = nonMaxSuppression(finite, iouThreshold, Number.POSITIVE_INFINITY);
  const kept = dropInside ? dropFacesInsideFaces(suppressed) : suppressed;
  const largest = kept
    .map((f, rank) => ({ f, rank }))
    .sort((a, b) => b.f.width * b.f.height - a.f.width * a.f.height || a.rank - b.rank)
    .slice(0, Math.max(0, maxFaces))
    .sort((a, b) => a.rank - b.rank);
  const out: Box[] = [];
  for (const { f } of largest) {
    // Outwards, but a float hair past a whole pixel (from the tile mapping) is that pixel.
    const x1 = Math.max(0, Math.floor(f.x + EPS));
    const y1 = Math.max(0, Math.floor(f.y + EPS));
    const x2 = Math.min(width, Math.ceil(f.x + f.width - EPS));
    const y2 = Math.min(height, Math.ceil(f.y + f.height - EPS));
    if (x2 - x1 < 1 || y2 - y1 < 1) continue;
    const box: Box = { x: x1, y: y1, width: x2 - x1, height: y2 - y1, score: reportedScore(f.score) };
    if (f.landmarks) box.landmarks = f.landmarks.map(([x, y]) => [clamp(Math.round(x), 0, width - 1), clamp(Math.round(y), 0, height - 1)]);
    out.push(box);
  }
  return out;
}
