/**
 * One detector interface, two implementations: YuNet (ONNX through cv.dnn, the default) and the
 * Haar frontal-face cascade. Both look at the image at the scales a plan derives from the
 * smallest face wanted (plan.ts), read tiles from a 2x pyramid (half-size 2x2 averages) so that no
 * full-size copy per scale is made, and return boxes in the original image's pixels. Models load
 * once, when the detector is created.
 */
import { downscaleFactor, type Box } from './boxes';
import { facesFromTile, mergeFaces } from './merge';
import { HAAR_PLAN, planDetection, YUNET_PLAN, type DetectionPlan, type PlanParams, type Tile } from './plan';
import type { Mat, OpenCv } from '../opencv';
import { calibratedScore, rawThresholdFor } from './score';
import { decodeYunet, YUNET_OUTPUT_NAMES } from './yunet-decode';

export { defaultMinFaceSize } from './plan';
export { networkPixelsForBudget, lambdaCpuShare, YUNET_PIXELS_PER_MS } from './budget';

// The detector kinds are the contract's (DETECTOR setting): one list for both.
import { YUNET_DEFAULT_MIN_SCORE, type DetectorKind } from '../contract';
export type { DetectorKind };

export interface DetectOptions {
  /** Smallest face side wanted, original-image pixels, already validated (>= 10); undefined: the default rule. */
  readonly minFaceSize?: number;
  /** @default the detector's own default (YuNet: contract YUNET_DEFAULT_MIN_SCORE) */
  readonly minScore?: number;
  /** Keep the N largest faces. @default the request's default (contract DETECT_REQUEST.maxFaces) */
  readonly maxFaces?: number;
  /** Upper bound on the network-input pixels this call may feed the detector (from the time budget). @default unbounded */
  readonly maxNetworkPixels?: number;
}

export interface Detection {
  readonly boxes: Box[];
  /** the min face size actually served (>= the one asked) */
  readonly minFaceSize: number;
}

export interface FaceDetector {
  readonly kind: DetectorKind;
  /** Faces in `image` (BGR, 3 channels), in its own pixel coordinates. */
  detect(image: Mat, options?: DetectOptions): Detection;
}

export interface DetectorOptions {
  /** Default minimum confidence of a reported face (YuNet: YUNET_DEFAULT_MIN_SCORE; Haar 0: every cascade hit). */
  readonly scoreThreshold?: number;
  /** Scale and tile parameters (tests and the bench). */
  readonly plan?: PlanParams;
}

export const MODEL_FILES = {
  yunet: 'face_detection_yunet_2023mar.onnx',
  haar: 'haarcascade_frontalface_alt2.xml',
} as const;


/** The longer side of the copy the detectors looked at before real-size detection (bench comparison). */
export const DETECT_MAX_SIDE = 640;

/** Copy of `image` whose longer side is at most maxSide (INTER_AREA), and the scale used. */
export function shrink(cv: OpenCv, image: Mat, maxSide: number = DETECT_MAX_SIDE): { small: Mat; scale: number } {
  const scale = downscaleFactor(image.cols, image.rows, maxSide);
  if (scale === 1) return { small: image, scale };
  const rows = Math.max(1, Math.round(image.rows * scale));
  const cols = Math.max(1, Math.round(image.cols * scale));
  return { small: image.resize(rows, cols, 0, 0, cv.INTER_AREA), scale: cols / image.cols };
}

/** Float data of a network output, whatever its dimensions (getData refuses > 2-D Mats). */
export function floats(mat: Mat): Float32Array {
  const total = mat.sizes.reduce((a, b) => a * b, 1);
  const flat = mat.sizes.length > 2 ? mat.flattenFloat(total, 1) : mat;
  // getData copies the pixels: the flattened Mat made here is released at once, not left to the GC.
  const data = flat.getData();
  if (flat !== mat) flat.release();
  // A Float32Array view needs 4-byte alignment; copy in the rare case the buffer is not aligned.
  if (data.byteOffset % 4 !== 0) return new Float32Array(new Uint8Array(data).buffer);
  return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
}

/**
 * Runs `plan` over `image`: each tile is cut from its pyramid level and resized (linear, a factor
 * in (0.5, 1] or an upscale) to the tile's input size, then handed to `detectTile`, which returns
 * boxes in input pixels. Pyramid levels are made on first use and freed at the end, tiles at once:
 * memory is the image, a third of it for the pyramid, and one tile.
 */
export function runPlan(cv: OpenCv, image: Mat, plan: DetectionPlan, margin: number, detectTile: (input: Mat, tile: Tile) => Box[]): Box[] {
  const levels: Mat[] = [image];
  const level = (j: number) => {
    while (levels.length <= j) {
      const up = levels[levels.length - 1];
      // Half size by a linear resize: at a factor of 2 that is the 2x2 average (area), and 3x
      // cheaper than pyrDown's 5x5 Gaussian (12 MP: 11 vs 33 ms). Sizes as pyrDown's: ceil(n / 2).
      levels.push(up.resize(Math.ceil(up.rows / 2), Math.ceil(up.cols / 2), 0, 0, cv.INTER_LINEAR));
    }
    return levels[j];
  };
  const found: Box[] = [];
  try {
    for (const pass of plan.passes) {
      for (const tile of pass.tiles) {
        const { x, y, width, height } = tile.source;
        const src = level(tile.level);
        const region = x === 0 && y === 0 && width === src.cols && height === src.rows ? src : src.getRegion(new cv.Rect(x, y, width, height));
        const same = width === tile.input.width && height === tile.input.height;
        const input = same ? region : region.resize(tile.input.height, tile.input.width, 0, 0, cv.INTER_LINEAR);
        try {
          found.push(...facesFromTile(detectTile(input, tile), tile, margin));
        } finally {
          if (input !== src) input.release();
          if (region !== src && region !== input) region.release();
        }
      }
    }
  } finally {
    for (const m of levels.slice(1)) m.release();
  }
  return found;
}

export function createYunetDetector(cv: OpenCv, modelPath: string, options: DetectorOptions = {}): FaceDetector {
  const net = cv.readNetFromONNX(modelPath);
  const params = options.plan ?? YUNET_PLAN;
  const defaultScore = options.scoreThreshold ?? YUNET_DEFAULT_MIN_SCORE;
  return {
    kind: 'yunet',
    detect(image, opts = {}) {
      const plan = planDetection(image.cols, image.rows, opts, params);
      const scoreThreshold = opts.minScore ?? defaultScore;
      const found = runPlan(cv, image, plan, params.margin, (input, tile) => {
        const blob = cv.blobFromImage(input);
        net.setInput(blob);
        const outputs = net.forward(YUNET_OUTPUT_NAMES);
        try {
          const data = Object.fromEntries(YUNET_OUTPUT_NAMES.map((name, i) => [name, floats(outputs[i])]));
          return decodeYunet(data, { inputWidth: tile.input.width, inputHeight: tile.input.height, scoreThreshold: rawThresholdFor(scoreThreshold) })
            .map((f) => ({ ...f, score: calibratedScore(f.score, f.width) }))
            .filter((f) => f.score >= scoreThreshold);
        } finally {
          blob.release();
          for (const o of outputs) o.release();
        }
      });
      const boxes = mergeFaces(found, { width: image.cols, height: image.rows, maxFaces: opts.maxFaces });
      return { boxes, minFaceSize: plan.minFaceSize };
    },
  };
}

/**
 * Time per input pixel of the Haar cascade (detectMultiScale, scale step 1.1, from 28 px up) over
 * YuNet's, one thread: bench real-size, nearly idle machine, 1.47 Mpx in 640-650 ms against
 * YuNet's 1.10 Mpx in 85-94 ms (5.2x).
 */
export const HAAR_PIXEL_COST = 5;

export function createHaarDetector(cv: OpenCv, cascadePath: string, options: DetectorOptions = {}): FaceDetector {
  const cascade = new cv.CascadeClassifier(cascadePath);
  const params = options.plan ?? HAAR_PLAN;
  const defaultScore = options.scoreThreshold ?? 0;
  // OpenCV's own defaults (scale step 1.1, 3 neighbours), on the plain grey image; the cascade's
  // 20x20 window is the plan's smallest face, and detectMultiScale scans every size above it.
  const minNeighbors = 3;
  return {
    kind: 'haar',
    detect(image, opts = {}) {
      // The budget is in YuNet input pixels; the cascade costs more per pixel of its input.
      const budget = opts.maxNetworkPixels === undefined ? undefined : opts.maxNetworkPixels / HAAR_PIXEL_COST;
      const plan = planDetection(image.cols, image.rows, { ...opts, maxNetworkPixels: budget }, params);
      const minScore = opts.minScore ?? defaultScore;
      const found = runPlan(cv, image, plan, params.margin, (input) => {
        const gray = input.bgrToGray();
        try {
          const { objects, numDetections } = cascade.detectMultiScale(gray, {
            scaleFactor: 1.1,
            minNeighbors,
            minSize: new cv.Size(params.minNetFace, params.minNetFace),
          });
          // The cascade has no probability; neighbours found per face map to a score in (0, 1).
          return objects
            .map((r, i) => ({ x: r.x, y: r.y, width: r.width, height: r.height, score: numDetections[i] / (numDetections[i] + minNeighbors) }))
            .filter((b) => b.score >= minScore);
        } finally {
          gray.release();
        }
      });
      const boxes = mergeFaces(found, { width: image.cols, height: image.rows, maxFaces: opts.maxFaces });
      return { boxes, minFaceSize: plan.minFaceSize };
    },
  };
}

export function createDetector(cv: OpenCv, kind: DetectorKind, modelsDir: string, options: DetectorOptions = {}): FaceDetector {
  const file = `${modelsDir.replace(/\/+$/, '')}/${MODEL_FILES[kind]}`;
  return kind === 'yunet' ? createYunetDetector(cv, file, options) : createHaarDetector(cv, file, options);
}
