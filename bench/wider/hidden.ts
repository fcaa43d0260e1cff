/**
 * What a redaction hides, rather than what a detector's box matches: for each counted face, the
 * fraction of its labelled box that lies under the marks the service would paint (each box padded
 * as redact-plan.ts pads it, then the inscribed ellipse or the whole rectangle). Recall at IoU 0.5
 * (score.ts) calls a face found only when a box is close to the label's; a redaction leaks a face
 * when the face is not covered. The two differ both ways: a box at IoU 0.45 inside a larger label
 * still hides most of it, and a box at IoU 0.5 without padding leaves the label's corners. Pure.
 */
import type { RedactShape } from '../../functions/detect-faces/contract';
import { paddedRegion, redactionShape, type Region } from '../../functions/detect-faces/output/redact-plan';
import { CATEGORIES, counted, type Category, type Predictions, type WiderFace, type WiderImage } from './score';

/** Sample points across a face box's longer side: the covered fraction is exact to about 1 / SAMPLES^2 of the box. */
const SAMPLES = 24;

/** Whether the pixel centre (px, py) is inside `region`'s mark of `shape` (the ellipse as ellipseMask draws it: inscribed, centred on the region's pixel grid). */
function underMark(px: number, py: number, region: Region, shape: RedactShape): boolean {
  if (px < region.x || py < region.y || px >= region.x + region.width || py >= region.y + region.height) return false;
  if (shape === 'rect') return true;
  const u = (px - region.x - (region.width - 1) / 2) / (region.width / 2);
  const v = (py - region.y - (region.height - 1) / 2) / (region.height / 2);
  return u * u + v * v <= 1;
}

/**
 * The fraction (0-1) of `face`'s box (its pixels inside the image) under the marks of `boxes`, each
 * padded by `padding` and painted as `shape`: sampled on a grid of pixel centres, at most
 * SAMPLES along the longer side.
 */
export function hiddenFraction(face: Pick<WiderFace, 'x' | 'y' | 'w' | 'h'>, boxes: readonly Region[], image: { width: number; height: number }, padding: number, shape: RedactShape): number {
  const x0 = Math.max(0, face.x);
  const y0 = Math.max(0, face.y);
  const x1 = Math.min(image.width, face.x + face.w);
  const y1 = Math.min(image.height, face.y + face.h);
  if (!(x1 > x0 && y1 > y0)) return 0;
  // Each region with the shape the service draws it in (redactionShape: a region cut by the edge is its rectangle).
  const regions = boxes
    .flatMap((b) => {
      const r = paddedRegion(b, padding, image.width, image.height);
      return r ? [{ r, shape: redactionShape(b, { shape, padding }, image.width, image.height) }] : [];
    })
    .filter(({ r }) => r.x < x1 && r.y < y1 && r.x + r.width > x0 && r.y + r.height > y0);
  if (regions.length === 0) return 0;
  const step = Math.max(x1 - x0, y1 - y0) / SAMPLES;
  const nx = Math.max(1, Math.round((x1 - x0) / step));
  const ny = Math.max(1, Math.round((y1 - y0) / step));
  let under = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const px = x0 + ((i + 0.5) * (x1 - x0)) / nx;
      const py = y0 + ((j + 0.5) * (y1 - y0)) / ny;
      if (regions.some(({ r, shape: drawn }) => underMark(px, py, r, drawn))) under++;
    }
  }
  return under / (nx * ny);
}

/**
 * Per category, the fraction of counted faces of which at least `least` of the box is hidden by the
 * marks of the predictions scoring at least `threshold`.
 */
export function hiddenShare(labels: readonly WiderImage[], predictions: Predictions, threshold: number, padding: number, shape: RedactShape, least: number): Record<Category, number> {
  const hit = Object.fromEntries(Object.keys(CATEGORIES).map((c) => [c, 0])) as Record<Category, number>;
  const n = { ...hit };
  labels.forEach((image, i) => {
    const marked = predictions[i].filter((p) => p.score >= threshold);
    for (const face of image.faces) {
      if (!counted(face)) continue;
      const hidden = hiddenFraction(face, marked, image, padding, shape) >= least;
      for (const [c, is] of Object.entries(CATEGORIES) as [Category, (f: WiderFace) => boolean][]) {
        if (!is(face)) continue;
        n[c]++;
        if (hidden) hit[c]++;
      }
    }
  });
  return Object.fromEntries(Object.keys(CATEGORIES).map((c) => [c, hit[c as Category] / Math.max(1, n[c as Category])])) as Record<Category, number>;
}
