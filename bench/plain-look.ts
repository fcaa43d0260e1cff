/**
 * YuNet as the literature runs it, for comparisons: one look at the photo's own size (padded at the
 * bottom and right to multiples of 32, as OpenCV's FaceDetectorYN pads), and the project's first
 * detection (one look at a copy at most 640 px on its longer side). Bench and test code only: the
 * service plans its scales and tiles (detect/plan.ts).
 */
import * as path from 'node:path';
import { downscaleFactor, mapToOriginal, type Box } from '../functions/detect-faces/detect/boxes';
import { MODEL_FILES } from '../functions/detect-faces/detect/detectors';
import { padBottomRight } from '../functions/detect-faces/detect/dnn';
import { yunetLook } from '../functions/detect-faces/detect/yunet';
import type { FaceCandidate } from '../functions/detect-faces/detect/yunet-decode';
import type { Mat, Net, OpenCv } from '../functions/detect-faces/opencv';

/** Smallest multiple of 32 that holds `n` (YuNet 2023mar through cv.dnn needs such input sizes). */
export function padTo32(n: number): number {
  return Math.ceil(n / 32) * 32;
}

/** Copy of `image` whose longer side is at most maxSide (INTER_AREA), and the scale used. */
export function shrink(cv: OpenCv, image: Mat, maxSide: number): { small: Mat; scale: number } {
  const scale = downscaleFactor(image.cols, image.rows, maxSide);
  if (scale === 1) return { small: image, scale };
  const rows = Math.max(1, Math.round(image.rows * scale));
  const cols = Math.max(1, Math.round(image.cols * scale));
  return { small: image.resize(rows, cols, 0, 0, cv.INTER_AREA), scale: cols / image.cols };
}

/** The network, loaded from the models folder. */
export function loadYunet(cv: OpenCv, modelsDir: string): Net {
  return cv.readNetFromONNX(path.join(modelsDir, MODEL_FILES.yunet));
}

/** One look at `image`'s own size, raw scores from `rawThreshold`; boxes in image pixels, unrounded. */
export function plainLook(cv: OpenCv, net: Net, image: Mat, rawThreshold: number): FaceCandidate[] {
  const width = padTo32(image.cols);
  const height = padTo32(image.rows);
  const padded = padBottomRight(cv, image, width, height);
  try {
    return yunetLook(cv, net, padded, rawThreshold);
  } finally {
    if (padded !== image) padded.release();
  }
}

/** The old detection's raw score threshold: a fixed point of comparison. */
export const LEGACY_RAW_SCORE = 0.8;
/** The longer side of the copy the old detection looked at. */
export const LEGACY_MAX_SIDE = 640;

/** The old detection: one look at a copy at most 640 px on its longer side (INTER_AREA), raw score LEGACY_RAW_SCORE. */
export function legacy640(cv: OpenCv, modelsDir: string): (image: Mat) => Box[] {
  const net = loadYunet(cv, modelsDir);
  return (image) => {
    const { small, scale } = shrink(cv, image, LEGACY_MAX_SIDE);
    return mapToOriginal(plainLook(cv, net, small, LEGACY_RAW_SCORE), scale, image.cols, image.rows);
  };
}
