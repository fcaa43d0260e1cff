/**
 * From per-tile detections to the answer: drop boxes cut by an inner tile border (the overlap
 * guarantees a neighbour sees those faces whole, or a coarser pass does), map to original-image
 * pixels, suppress duplicates across tiles and scales, keep the largest N. Pure.
 */
import { DETECT_REQUEST } from '../contract';
import { clamp, nonMaxSuppression, type Box } from './boxes';
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
}

const EPS = 1e-6;

/**
 * One box per face, best score first: greedy NMS over every tile and scale, the `maxFaces`
 * largest kept, boxes rounded outwards to whole pixels and clipped to the image, landmarks
 * rounded to whole pixels and clamped to the image (a face cut by the border can have a point the
 * network places beyond it; like its box, the point stops at the last pixel), scores to 4 decimals.
 */
export function mergeFaces(faces: readonly Box[], options: MergeOptions): Box[] {
  const { width, height, iouThreshold = MERGE_IOU, maxFaces = DETECT_REQUEST.maxFaces.default } = options;
  const kept = nonMaxSuppression(faces, iouThreshold, Number.POSITIVE_INFINITY);
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
    const box: Box = { x: x1, y: y1, width: x2 - x1, height: y2 - y1, score: Math.round(f.score * 1e4) / 1e4 };
    if (f.landmarks) box.landmarks = f.landmarks.map(([x, y]) => [clamp(Math.round(x), 0, width - 1), clamp(Math.round(y), 0, height - 1)]);
    out.push(box);
  }
  return out;
}
