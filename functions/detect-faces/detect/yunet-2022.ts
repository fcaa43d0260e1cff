/**
 * YuNet 2022mar through cv.dnn: opencv_zoo's previous YuNet (MIT), a different network from the
 * service's 2023mar (prior boxes at strides 8-64, trained apart), which finds turned and occluded
 * faces the 2023mar one misses. One look at an input padded to multiples of 64, its outputs
 * decoded over the network's prior boxes (as OpenCV 4.5.4-4.7's FaceDetectorYN does, but for the
 * width: see YUNET_2022_VARIANCE), then YuNet's NMS. The cascade (cascade.ts) runs it on crops
 * around the first look's faces (crops.ts); docs/detection.md has its measurements.
 */
import { clamp, nonMaxSuppression } from './boxes';
import { floats, padBottomRight, yunetBlob } from './dnn';
import { YUNET_NMS_THRESHOLD, YUNET_TOP_K, type FaceCandidate } from './yunet-decode';
import type { Mat, Net, OpenCv } from '../opencv';

/**
 * The prior boxes, per level of the network's feature pyramid: the level's stride (input pixels
 * per grid cell) and the sides of the square priors centred on each of its cells, in input pixels.
 * The values opencv_zoo's 2022mar demo (models/face_detection_yunet/yunet.py, `PriorBox`) and OpenCV
 * 4.5.4-4.7's FaceDetectorYN (objdetect/src/face_detect.cpp, `generatePriors`) give this network;
 * they are the model's, not a choice.
 */
export const YUNET_2022_PRIORS = [
  { stride: 8, sides: [10, 16, 24] },
  { stride: 16, sides: [32, 48] },
  { stride: 32, sides: [64, 96] },
  { stride: 64, sides: [128, 192, 256] },
] as const;

/**
 * The priors' variance: centre and landmark offsets are x 0.1 of the prior's side, log-width and
 * log-height x 0.2, as the network was trained (libfacedetection.train, src/utils.py: `encode`
 * divides both log-sizes by 0.2). OpenCV 4.5.4-4.7's FaceDetectorYN and opencv_zoo's demo multiply
 * the log-width by 0.1; against WIDER FACE's labels (80 validation photos, 625 faces >= 20 px, at
 * the photo's own size) 0.2 fits better: box / label width x1.015 against x1.067, mean IoU 0.798
 * against 0.777, 559 faces matched at IoU 0.5 against 556.
 */
export const YUNET_2022_VARIANCE = [0.1, 0.2] as const;

/** Per prior: `loc` 14 values (box centre dx, dy, log-width, log-height, then 5 landmarks x, y), `conf` 2 (background, face), `iou` 1. */
export const YUNET_2022_OUTPUT_NAMES = ['loc', 'conf', 'iou'] as const;
export const YUNET_2022_VALUES_PER_PRIOR = { loc: 14, conf: 2, iou: 1 } as const;

/** Input sides are padded to multiples of this: the coarsest stride, so every level's grid covers the input exactly. */
export const YUNET_2022_ALIGN = 64;

/** The network's outputs, flattened, by name. */
export type Yunet2022Outputs = Readonly<Record<(typeof YUNET_2022_OUTPUT_NAMES)[number], ArrayLike<number>>>;

export interface Yunet2022DecodeOptions {
  /** Padded network input size (multiples of YUNET_2022_ALIGN). */
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Lowest score kept. */
  readonly scoreThreshold: number;
}

/**
 * The outputs do not fit the input size given: an input not padded to multiples of 64, or the
 * outputs of another network. A caller's bug, not the request's.
 */
export class Yunet2022ShapeError extends Error {
  override readonly name = 'Yunet2022ShapeError';
}

/** The padded size the network looks at for an input `width` x `height`: the cost of a look is proportional to its area. */
export function yunet2022InputSize(width: number, height: number): { width: number; height: number } {
  return { width: Math.ceil(width / YUNET_2022_ALIGN) * YUNET_2022_ALIGN, height: Math.ceil(height / YUNET_2022_ALIGN) * YUNET_2022_ALIGN };
}

/** How many priors the network has for a padded input `width` x `height`. */
export function yunet2022PriorCount(width: number, height: number): number {
  return YUNET_2022_PRIORS.reduce((n, { stride, sides }) => n + (width / stride) * (height / stride) * sides.length, 0);
}

/**
 * Every prior whose score reaches `scoreThreshold`, decoded, before NMS (in prior order: level,
 * row, column, side). Score: sqrt(face probability x the predicted IoU), both clamped to [0, 1].
 * Box: the prior's centre moved by (dx, dy) x 0.1 x its side; width and height its side x
 * exp(0.2 x the log-size). Landmark k: the prior's centre plus loc[4 + 2k], loc[5 + 2k] x 0.1 x
 * its side, in the order Box.landmarks says. Pure.
 */
export function decodeYunet2022(outputs: Yunet2022Outputs, options: Yunet2022DecodeOptions): FaceCandidate[] {
  const { inputWidth, inputHeight, scoreThreshold } = options;
  if (!(inputWidth > 0 && inputHeight > 0 && inputWidth % YUNET_2022_ALIGN === 0 && inputHeight % YUNET_2022_ALIGN === 0)) {
    throw new Yunet2022ShapeError(`YuNet 2022mar's input must be padded to multiples of ${YUNET_2022_ALIGN}, got ${inputWidth}x${inputHeight}`);
  }
  const priors = yunet2022PriorCount(inputWidth, inputHeight);
  for (const name of YUNET_2022_OUTPUT_NAMES) {
    const data = outputs[name];
    const expected = priors * YUNET_2022_VALUES_PER_PRIOR[name];
    if (data?.length !== expected) {
      throw new Yunet2022ShapeError(
        `YuNet 2022mar output ${name} has ${data?.length ?? 'no'} values, expected ${expected} (${YUNET_2022_VALUES_PER_PRIOR[name]} for each of the ${priors} priors of a ${inputWidth}x${inputHeight} input; sides must be multiples of ${YUNET_2022_ALIGN})`,
      );
    }
  }
  const { loc, conf, iou } = outputs;
  const [centreVariance, sizeVariance] = YUNET_2022_VARIANCE;
  // Compared squared: the square root only for the few priors that pass.
  const threshold2 = scoreThreshold * scoreThreshold;
  const candidates: FaceCandidate[] = [];
  let k = 0;
  for (const { stride, sides } of YUNET_2022_PRIORS) {
    const cols = inputWidth / stride;
    const rows = inputHeight / stride;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        for (const side of sides) {
          const i = k++;
          // conf is a softmax and in [0, 1] already; clamping it too keeps a stray value from giving NaN.
          const product = clamp(conf[2 * i + 1], 0, 1) * clamp(iou[i], 0, 1);
          if (product < threshold2) continue;
          const px = (c + 0.5) * stride;
          const py = (r + 0.5) * stride;
          const offset = centreVariance * side;
          const cx = px + loc[14 * i] * offset;
          const cy = py + loc[14 * i + 1] * offset;
          const w = side * Math.exp(loc[14 * i + 2] * sizeVariance);
          const h = side * Math.exp(loc[14 * i + 3] * sizeVariance);
          const landmarks: [number, number][] = [];
          for (let m = 0; m < 5; m++) landmarks.push([px + loc[14 * i + 4 + 2 * m] * offset, py + loc[14 * i + 5 + 2 * m] * offset]);
          candidates.push({ x: cx - w / 2, y: cy - h / 2, width: w, height: h, score: Math.sqrt(product), landmarks });
        }
      }
    }
  }
  return candidates;
}

/**
 * One look of YuNet 2022mar at `input` (BGR, any size; padded to multiples of 64 at the bottom and
 * right, by copyMakeBorder: with the pixels around it when `input` is a region of a larger image, as
 * the cascade's crops are, and zeros past that image's edge, as the cascade was measured): faces with a score of at least `rawThreshold`, in input pixels, after YuNet's
 * NMS (the same as 2023mar's, yunet-decode.ts). `cells`, when given, receives every candidate
 * before the NMS. Every Mat made here is released, also when OpenCV throws.
 */
export function yunet2022Look(cv: OpenCv, net: Net, input: Mat, rawThreshold: number, cells?: (all: FaceCandidate[]) => void): FaceCandidate[] {
  const { width, height } = yunet2022InputSize(input.cols, input.rows);
  const padded = padBottomRight(cv, input, width, height);
  try {
    const blob = yunetBlob(cv, padded);
    try {
      net.setInput(blob);
      const outputs = net.forward([...YUNET_2022_OUTPUT_NAMES]);
      try {
        const [loc, conf, iou] = outputs.map(floats);
        const all = decodeYunet2022({ loc, conf, iou }, { inputWidth: width, inputHeight: height, scoreThreshold: rawThreshold });
        cells?.(all);
        return nonMaxSuppression(all, YUNET_NMS_THRESHOLD, YUNET_TOP_K);
      } finally {
        for (const o of outputs) o.release();
      }
    } finally {
      blob.release();
    }
  } finally {
    if (padded !== input) padded.release();
  }
}
