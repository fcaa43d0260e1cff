/**
 * Decodes YuNet 2023mar's (and YuNet_n's: the same 12 outputs) raw outputs into face boxes, as OpenCV 4.8's FaceDetectorYN::postProcess
 * does (the addon has no FaceDetectorYN, so the network runs through cv.dnn and this decodes it).
 * Outputs per stride s in 8/16/32, one row per grid cell: cls_s, obj_s (scores), bbox_s (4 values),
 * kps_s (5 landmarks x 2).
 */
import { clamp, nonMaxSuppression, type Box } from './boxes';

export const YUNET_STRIDES = [8, 16, 32] as const;
export const YUNET_OUTPUT_NAMES = YUNET_STRIDES.flatMap((s) => [`cls_${s}`, `obj_${s}`, `bbox_${s}`, `kps_${s}`]);

export interface YunetOutputs {
  /** Flattened float data of each named output. */
  [name: string]: Float32Array | number[];
}

/** OpenCV FaceDetectorYN's NMS: boxes overlapping more than this (IoU) are one face, at most `YUNET_TOP_K` kept. */
export const YUNET_NMS_THRESHOLD = 0.3;
export const YUNET_TOP_K = 5000;

export interface YunetDecodeOptions {
  /** Padded network input size (multiples of 32). */
  inputWidth: number;
  inputHeight: number;
  /** Lowest raw score kept; the caller's (detectors.ts derives it from the calibrated minScore). */
  scoreThreshold: number;
  /** @default YUNET_NMS_THRESHOLD */
  nmsThreshold?: number;
  /** @default YUNET_TOP_K */
  topK?: number;
  /** Receives every cell at or above the threshold, before the NMS (the bench's miss tracing). */
  cells?: (all: FaceCandidate[]) => void;
}

export interface FaceCandidate extends Box {
  /** In input pixels, in the order Box.landmarks says. */
  landmarks: [number, number][];
}

/** YuNet's faces: every cell at or above the threshold (yunetCells), then NMS, as FaceDetectorYN. */
export function decodeYunet(outputs: YunetOutputs, options: YunetDecodeOptions): FaceCandidate[] {
  const { nmsThreshold = YUNET_NMS_THRESHOLD, topK = YUNET_TOP_K } = options;
  const all = yunetCells(outputs, options);
  options.cells?.(all);
  return nonMaxSuppression(all, nmsThreshold, topK);
}

/** Every grid cell whose score reaches `scoreThreshold`, decoded, before NMS (in grid order). */
function yunetCells(outputs: YunetOutputs, options: Pick<YunetDecodeOptions, 'inputWidth' | 'inputHeight' | 'scoreThreshold'>): FaceCandidate[] {
  const { inputWidth, inputHeight, scoreThreshold } = options;
  if (inputWidth % 32 !== 0 || inputHeight % 32 !== 0) {
    throw new Error(`YuNet input must be padded to multiples of 32, got ${inputWidth}x${inputHeight}`);
  }
  const candidates: FaceCandidate[] = [];
  for (const stride of YUNET_STRIDES) {
    const cols = inputWidth / stride;
    const rows = inputHeight / stride;
    const cls = need(outputs, `cls_${stride}`, rows * cols);
    const obj = need(outputs, `obj_${stride}`, rows * cols);
    const bbox = need(outputs, `bbox_${stride}`, rows * cols * 4);
    const kps = need(outputs, `kps_${stride}`, rows * cols * 10);
    // Compared squared: the square root only for the few cells that pass.
    const threshold2 = scoreThreshold * scoreThreshold;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const product = clamp(cls[i], 0, 1) * clamp(obj[i], 0, 1);
        // Written so that NaN fails it: a network output that is not a number is no face.
        if (!(product >= threshold2)) continue;
        const score = Math.sqrt(product);
        const cx = (c + bbox[i * 4]) * stride;
        const cy = (r + bbox[i * 4 + 1]) * stride;
        const w = Math.exp(bbox[i * 4 + 2]) * stride;
        const h = Math.exp(bbox[i * 4 + 3]) * stride;
        if (![cx, cy, w, h].every(Number.isFinite)) continue;
        const landmarks: [number, number][] = [];
        for (let k = 0; k < 5; k++) {
          landmarks.push([(kps[i * 10 + 2 * k] + c) * stride, (kps[i * 10 + 2 * k + 1] + r) * stride]);
        }
        candidates.push({ x: cx - w / 2, y: cy - h / 2, width: w, height: h, score, landmarks });
      }
    }
  }
  return candidates;
}

function need(outputs: YunetOutputs, name: string, length: number): Float32Array | number[] {
  const data = outputs[name];
  if (!data) throw new Error(`YuNet output ${name} is missing`);
  if (data.length !== length) throw new Error(`YuNet output ${name} has ${data.length} values, expected ${length}`);
  return data;
}
