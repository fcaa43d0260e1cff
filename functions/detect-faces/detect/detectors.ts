/**
 * The detector port and its two implementations: YuNet (yunet.ts, ONNX through cv.dnn, the default)
 * and the Haar frontal-face cascade (haar.ts). Both look at the image at the scales a plan derives
 * from the smallest face wanted (plan.ts, run-plan.ts) and return boxes in the original image's
 * pixels. Models load once, when the detector is created.
 */
import type { Box } from './boxes';
import { createHaarDetector } from './haar';
import type { PlanParams } from './plan';
import { createYunetDetector } from './yunet';
import type { OpenCv, Mat } from '../opencv';
// The detector kinds are the contract's (DETECTOR setting): one list for both.
import type { DetectorKind, Looks, MarkMode } from '../contract';
export type { DetectorKind };

export { defaultMinFaceSize } from './plan';
export { networkPixelsForBudget, lambdaCpuShare, YUNET_PIXELS_PER_MS } from './budget';

export interface DetectOptions {
  /** Smallest face side wanted, original-image pixels, already validated (>= 10); undefined: the default rule. */
  readonly minFaceSize?: number;
  /** What the faces are for: picks YuNet's operating point (operating-points.ts). @default 'box' */
  readonly mark?: MarkMode;
  /** Lowest calibrated score reported. @default the operating point's (Haar: 0, every cascade hit) */
  readonly minScore?: number;
  /** How YuNet looks at each input (contract LOOKS). @default the operating point's */
  readonly looks?: Looks;
  /** Keep the N largest faces. @default the request's default (contract DETECT_REQUEST.maxFaces) */
  readonly maxFaces?: number;
  /** Upper bound on the network-input pixels this call may feed the detector (from the time budget). @default unbounded */
  readonly maxNetworkPixels?: number;
  /**
   * The image is the photo decoded at 1/2^level of its size (sides ceil(n / 2^level), as the
   * pyramid's): `width` x `height` is the photo's own size, which the plan, the boxes and the
   * face sizes are in. `level` at most `finestLevel` of the same photo and options. @default the image is the photo
   */
  readonly reduced?: { readonly level: number; readonly width: number; readonly height: number };
}

export interface Detection {
  readonly boxes: Box[];
  /** the min face size actually served (>= the one asked) */
  readonly minFaceSize: number;
  /** True when even the cheapest plan needed more than `maxNetworkPixels` (it ran anyway); absent otherwise. */
  readonly overBudget?: boolean;
}

export interface FaceDetector {
  readonly kind: DetectorKind;
  /** Faces in `image` (BGR, 3 channels), in its own pixel coordinates (the photo's, when `options.reduced`). */
  detect(image: Mat, options?: DetectOptions): Detection;
  /** The coarsest decode a detection of a `width` x `height` photo with `options` can start from: 1/2^level of its size (finestLevel of its plan). */
  finestLevel(width: number, height: number, options?: DetectOptions): number;
}

export interface DetectorOptions {
  /** Scale and tile parameters (tests and the bench). */
  readonly plan?: PlanParams;
}

export const MODEL_FILES = {
  yunet: 'face_detection_yunet_2023mar.onnx',
  yunet2022: 'face_detection_yunet_2022mar.onnx',
  yunetN: 'yunet_n_640_640.onnx',
  haar: 'haarcascade_frontalface_alt2.xml',
} as const;

export function createDetector(cv: OpenCv, kind: DetectorKind, modelsDir: string, options: DetectorOptions = {}): FaceDetector {
  const file = (name: keyof typeof MODEL_FILES) => `${modelsDir.replace(/\/+$/, '')}/${MODEL_FILES[name]}`;
  return kind === 'yunet' ? createYunetDetector(cv, { yunet: file('yunet'), yunet2022: file('yunet2022'), yunetN: file('yunetN') }, options) : createHaarDetector(cv, file('haar'), options);
}
