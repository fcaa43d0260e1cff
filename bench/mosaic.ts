/**
 * Labelled photos at real sizes, built from the labelled training photos: each photo scaled by a
 * seeded random factor and packed in rows on a grey canvas, its faces' labels scaled and moved
 * with it. Same seed, same image and labels. Used by the real-size bench and its integration test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Box } from '../functions/detect-faces/detect/boxes';
import type { Mat, OpenCv } from '../functions/detect-faces/opencv';
import { decodeImage } from '../functions/detect-faces/output/image';
import { FACES_DIR, readLabels, type LabelledImage } from './labelled-photos';
import { rng } from '../local/rng';

export type Truth = Omit<Box, 'score'>;

export interface MosaicSpec {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** Each photo is scaled by a factor drawn uniformly from [lo, hi]. */
  readonly scale: readonly [number, number];
  readonly seed: number;
  /** Gap between photos, drawn from [lo, hi] px. @default [8, 32] */
  readonly gap?: readonly [number, number];
}

export interface Placement {
  readonly file: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The mosaics of the real-size bench. Label sizes are the training labels' 37-91 px times the
 * photo's scale; YuNet's boxes are about 0.87 of a label's side (measured), so a label of
 * 1.15 x the smallest face is a face of the smallest size as the service reports it.
 */
export const MOSAICS = {
  /** Labels 46-218 px: the default smallest face (2% of 2000 = 40 px) and up. */
  groups2000: { name: 'groups 2000x1500', width: 2000, height: 1500, scale: [1.25, 2.4], seed: 1 },
  /** Labels 93-273 px: the default smallest face (80 px) and up. */
  groups4000: { name: 'groups 4000x3000', width: 4000, height: 3000, scale: [2.5, 3], seed: 2 },
  /** Labels 74-218 px: from 0.8 of the default smallest face, i.e. some faces below it. */
  groups4000small: { name: 'groups 4000x3000, faces from 0.8x the min', width: 4000, height: 3000, scale: [2, 2.4], seed: 2 },
  /** Labels 37-109 px (faces from 32 px as reported), about 200 of them: far below the default smallest face. */
  crowd4000: { name: 'crowd 4000x3000', width: 4000, height: 3000, scale: [1, 1.2], seed: 3, gap: [4, 16] },
  /** Labels 46-109 px in a 1080p frame (default smallest face 39 px). */
  hd1080: { name: '1080p', width: 1920, height: 1080, scale: [1.25, 1.5], seed: 4 },
} as const satisfies Record<string, MosaicSpec>;

/** Rows of photos, left to right, top to bottom, with random gaps; stops at the bottom edge. */
export function layoutMosaic(spec: MosaicSpec, photos: readonly { file: string; width: number; height: number }[]): Placement[] {
  const random = rng(spec.seed);
  const out: Placement[] = [];
  const [g0, g1] = spec.gap ?? [8, 32];
  const gap = () => g0 + Math.floor(random() * (g1 - g0));
  let x = gap();
  let y = gap();
  let rowHeight = 0;
  for (let attempts = 0; attempts < 10_000; attempts++) {
    const photo = photos[Math.floor(random() * photos.length)];
    const f = spec.scale[0] + random() * (spec.scale[1] - spec.scale[0]);
    const width = Math.round(photo.width * f);
    const height = Math.round(photo.height * f);
    if (x + width > spec.width) {
      x = gap();
      y += rowHeight + gap();
      rowHeight = 0;
    }
    if (y + height > spec.height) {
      if (rowHeight === 0) break; // a fresh row and still no room: the canvas is full
      continue; // too tall for what is left of this row: try another photo
    }
    if (x + width > spec.width) break; // wider than the canvas
    out.push({ file: photo.file, x, y, width, height });
    x += width + gap();
    rowHeight = Math.max(rowHeight, height);
  }
  return out;
}

/** Labels of the placed photos, in mosaic pixels. */
export function mosaicTruth(placements: readonly Placement[], labels: readonly LabelledImage[], sizes: Record<string, { width: number; height: number }>): Truth[] {
  return placements.flatMap((p) => {
    const label = labels.find((l) => l.file === p.file)!;
    const fx = p.width / sizes[p.file].width;
    const fy = p.height / sizes[p.file].height;
    return label.boxes.map((b) => ({ x: p.x + b.x * fx, y: p.y + b.y * fy, width: b.width * fx, height: b.height * fy }));
  });
}

export interface Mosaic {
  readonly name: string;
  readonly image: Mat;
  readonly truth: Truth[];
}

/** The labelled training photos, decoded once. */
export function trainingPhotos(cv: OpenCv): { labels: LabelledImage[]; mats: Record<string, Mat> } {
  const labels = readLabels();
  const mats = Object.fromEntries(labels.map((l) => [l.file, decodeImage(cv, fs.readFileSync(path.join(FACES_DIR, l.file)))]));
  return { labels, mats };
}

/**
 * The part of each training photo that holds its labelled faces, with a margin of half the largest
 * face around them (clipped to the photo): less background, more faces per mosaic.
 */
export function faceCrops(photos: { labels: LabelledImage[]; mats: Record<string, Mat> }): Record<string, { x: number; y: number; width: number; height: number }> {
  return Object.fromEntries(
    photos.labels.map((l) => {
      const m = photos.mats[l.file];
      const margin = Math.max(...l.boxes.map((b) => Math.max(b.width, b.height))) / 2;
      const x = Math.max(0, Math.floor(Math.min(...l.boxes.map((b) => b.x)) - margin));
      const y = Math.max(0, Math.floor(Math.min(...l.boxes.map((b) => b.y)) - margin));
      const x2 = Math.min(m.cols, Math.ceil(Math.max(...l.boxes.map((b) => b.x + b.width)) + margin));
      const y2 = Math.min(m.rows, Math.ceil(Math.max(...l.boxes.map((b) => b.y + b.height)) + margin));
      return [l.file, { x, y, width: x2 - x, height: y2 - y }];
    }),
  );
}

export function buildMosaic(cv: OpenCv, spec: MosaicSpec, photos = trainingPhotos(cv)): Mosaic {
  const crops = faceCrops(photos);
  // Labels relative to the crops, so the layout and truth work on cropped photos.
  const labels = photos.labels.map((l) => ({ file: l.file, boxes: l.boxes.map((b) => ({ ...b, x: b.x - crops[l.file].x, y: b.y - crops[l.file].y })) }));
  const sizes = Object.fromEntries(Object.entries(crops).map(([f, c]) => [f, { width: c.width, height: c.height }]));
  const placements = layoutMosaic(spec, labels.map((l) => ({ file: l.file, ...sizes[l.file] })));
  const image = new cv.Mat(spec.height, spec.width, cv.CV_8UC3, [96, 96, 96]);
  for (const p of placements) {
    const c = crops[p.file];
    const scaled = photos.mats[p.file].getRegion(new cv.Rect(c.x, c.y, c.width, c.height)).resize(p.height, p.width);
    scaled.copyTo(image.getRegion(new cv.Rect(p.x, p.y, p.width, p.height)));
  }
  return { name: spec.name, image, truth: mosaicTruth(placements, labels, sizes) };
}

/**
 * One large face filling most of a 4000x3000 frame (Grace Hopper's 512-px portrait enlarged until
 * her face is `bigFace` px, cropped around it), beside a column of group photos on the right
 * quarter whose labelled faces are about `smallLabel` px. The large face's truth is
 * `referenceBox` (YuNet's box on the 512-px original) enlarged with it.
 */
export function bigAndSmall(cv: OpenCv, referenceBox: Truth, smallLabel = 35, bigFace = 2200, photos = trainingPhotos(cv)): Mosaic {
  const width = 4000;
  const height = 3000;
  const hopper = decodeImage(cv, fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')));
  const f = bigFace / referenceBox.height;
  const side = Math.round(hopper.cols * f);
  // Face centre at (1500, 1500) of the frame: crop the enlarged portrait so.
  const cx = Math.round((referenceBox.x + referenceBox.width / 2) * f);
  const cy = Math.round((referenceBox.y + referenceBox.height / 2) * f);
  const x0 = Math.max(0, Math.min(side - 3000, cx - 1500));
  const y0 = Math.max(0, Math.min(side - 3000, cy - 1500));
  const image = new cv.Mat(height, width, cv.CV_8UC3, [96, 96, 96]);
  hopper.resize(side, side).getRegion(new cv.Rect(x0, y0, 3000, 3000)).copyTo(image.getRegion(new cv.Rect(0, 0, 3000, 3000)));
  const truth: Truth[] = [{ x: referenceBox.x * f - x0, y: referenceBox.y * f - y0, width: referenceBox.width * f, height: referenceBox.height * f }];
  const k = smallLabel / 37;
  const column: MosaicSpec = { name: 'column', width: 1000 - 16, height, scale: [k, k], seed: 5, gap: [4, 16] };
  const sizes = Object.fromEntries(Object.entries(photos.mats).map(([n, m]) => [n, { width: m.cols, height: m.rows }]));
  const placements = layoutMosaic(column, photos.labels.map((l) => ({ file: l.file, ...sizes[l.file] }))).map((p) => ({ ...p, x: p.x + 3016 }));
  for (const p of placements) photos.mats[p.file].resize(p.height, p.width).copyTo(image.getRegion(new cv.Rect(p.x, p.y, p.width, p.height)));
  truth.push(...mosaicTruth(placements, photos.labels, sizes));
  return { name: `one ${Math.round(truth[0].height)}-px face + ${truth.length - 1} faces of ${smallLabel}+ px`, image, truth };
}
