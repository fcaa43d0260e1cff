/**
 * Where and how strongly a face is redacted, as pure arithmetic (OpenCV does the pixels in
 * output/image.ts). Strengths scale with the face, so a 30-px face and a 3000-px face are both
 * unrecognisable: measured against our own detector at its most sensitive (docs/redaction.md).
 */
import type { MarkMode, RedactShape } from '../contract';

export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface MarkSpec {
  readonly mode: MarkMode;
  readonly shape: RedactShape;
  readonly padding: number;
}

/** The box grown by `padding` of its width and height on each side, to whole pixels, before the image's edges clip it. */
function grownBox(box: Region, padding: number): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: Math.floor(box.x - box.width * padding),
    y0: Math.floor(box.y - box.height * padding),
    x1: Math.ceil(box.x + box.width * (1 + padding)),
    y1: Math.ceil(box.y + box.height * (1 + padding)),
  };
}

/** The box grown by `padding` of its width and height on each side, clipped to the image; undefined when nothing is left. */
export function paddedRegion(box: Region, padding: number, imageWidth: number, imageHeight: number): Region | undefined {
  const g = grownBox(box, padding);
  const x0 = Math.max(0, g.x0);
  const y0 = Math.max(0, g.y0);
  const x1 = Math.min(imageWidth, g.x1);
  const y1 = Math.min(imageHeight, g.y1);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : undefined;
}

/**
 * The shape a redaction is drawn in: the requested one, but the whole rectangle where the padded
 * region is cut by the image's edge. An ellipse inscribed in the cut rectangle narrows to the
 * edge where the face is (a face in a corner kept an eye visible); the rectangle covers all that
 * either ellipse would, and more. Pure.
 */
export function redactionShape(box: Region, spec: Pick<MarkSpec, 'shape' | 'padding'>, imageWidth: number, imageHeight: number): 'ellipse' | 'rect' {
  if (spec.shape !== 'ellipse') return 'rect';
  // Cut: paddedRegion clips the grown box.
  const g = grownBox(box, spec.padding);
  const cut = g.x0 < 0 || g.y0 < 0 || g.x1 > imageWidth || g.y1 > imageHeight;
  return cut ? 'rect' : 'ellipse';
}

/**
 * Pixelation: at most this many cells across the padded face's longer side, whatever its size.
 * The stronger the detector, the fewer: on the 12 MP mosaic the cascade (both defaults) found a
 * face pixelated into 3 cells again at 0.74-0.75 (one look: 4 cells found again at 0.81, 3 none);
 * 2 cells leave nothing above 0.17.
 */
export const PIXELATE_CELLS_ACROSS = 2;
/** Blur: a Gaussian whose sigma is this fraction of the face's longer side (applied twice, on a shrunk copy: blurPlan). */
export const BLUR_SIGMA_FRACTION = 0.18;

/** Side of a pixelation cell, in pixels (at least 2, so a tiny face still loses detail). */
export function pixelCell(region: Region): number {
  return Math.max(2, Math.ceil(Math.max(region.width, region.height) / PIXELATE_CELLS_ACROSS));
}

/**
 * The blur: a Gaussian of `sigma` (proportional to the face), run on a copy shrunk by `factor` so
 * that its kernel is small (`size`, odd, ±3 sigma at the shrunk scale). A 300-px face's sigma of 54
 * px costs a 325-tap kernel per pixel at full size (28 s for 43 faces of a 12 MP photo); shrunk to
 * sigma 2 it costs microseconds, and after the linear upscale it looks the same: a smooth blob.
 */
export function blurPlan(region: Region): { sigma: number; factor: number; smallSigma: number; size: number } {
  const sigma = Math.max(1, Math.max(region.width, region.height) * BLUR_SIGMA_FRACTION);
  const factor = Math.max(1, sigma / 2);
  const smallSigma = sigma / factor;
  return { sigma, factor, smallSigma, size: 2 * Math.ceil(3 * smallSigma) + 1 };
}
