/**
 * One detector interface, two implementations: YuNet (ONNX through cv.dnn, the default) and the
 * Haar frontal-face cascade. Both detect on a downscaled copy of large images and return boxes in
 * the original image's pixels. Models load once, when the detector is created.
 */
import { downscaleFactor, mapToOriginal, type Box } from './boxes';
import type { Mat, OpenCv } from '../opencv';
import { decodeYunet, padTo32, YUNET_OUTPUT_NAMES } from './yunet-decode';

export type DetectorKind = 'yunet' | 'haar';

export interface FaceDetector {
  readonly kind: DetectorKind;
  /** Faces in `image` (BGR, 3 channels), in its own pixel coordinates. */
  detect(image: Mat): Box[];
}

export interface DetectorOptions {
  /** Longer side of the copy the detector looks at. @default 640 */
  readonly maxSide?: number;
  /** Minimum confidence of a reported face (YuNet). @default 0.8 */
  readonly scoreThreshold?: number;
}

export const MODEL_FILES = {
  yunet: 'face_detection_yunet_2023mar.onnx',
  haar: 'haarcascade_frontalface_alt2.xml',
} as const;

/** The longer side of the copy detectors look at, unless configured otherwise. */
export const DETECT_MAX_SIDE = 640;

/** Copy of `image` whose longer side is at most maxSide, and the scale used. */
export function shrink(cv: OpenCv, image: Mat, maxSide: number = DETECT_MAX_SIDE): { small: Mat; scale: number } {
  const scale = downscaleFactor(image.cols, image.rows, maxSide);
  if (scale === 1) return { small: image, scale };
  const rows = Math.max(1, Math.round(image.rows * scale));
  const cols = Math.max(1, Math.round(image.cols * scale));
  return { small: image.resize(rows, cols, 0, 0, cv.INTER_AREA), scale: cols / image.cols };
}

/** Float data of a network output, whatever its dimensions (getData refuses > 2-D Mats). */
function floats(mat: Mat): Float32Array {
  const total = mat.sizes.reduce((a, b) => a * b, 1);
  const flat = mat.sizes.length > 2 ? mat.flattenFloat(total, 1) : mat;
  const data = flat.getData();
  // A Float32Array view needs 4-byte alignment; copy in the rare case the buffer is not aligned.
  if (data.byteOffset % 4 !== 0) return new Float32Array(new Uint8Array(data).buffer);
  return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
}

export function createYunetDetector(cv: OpenCv, modelPath: string, options: DetectorOptions = {}): FaceDetector {
  const net = cv.readNetFromONNX(modelPath);
  const maxSide = options.maxSide ?? DETECT_MAX_SIDE;
  return {
    kind: 'yunet',
    detect(image) {
      const { small, scale } = shrink(cv, image, maxSide);
      const width = padTo32(small.cols);
      const height = padTo32(small.rows);
      // YuNet 2023mar through readNetFromONNX needs input sides that are multiples of 32.
      const padded = small.copyMakeBorder(0, height - small.rows, 0, width - small.cols, cv.BORDER_CONSTANT, new cv.Vec3(0, 0, 0));
      net.setInput(cv.blobFromImage(padded));
      const outputs = net.forward(YUNET_OUTPUT_NAMES);
      const data = Object.fromEntries(YUNET_OUTPUT_NAMES.map((name, i) => [name, floats(outputs[i])]));
      const faces = decodeYunet(data, { inputWidth: width, inputHeight: height, scoreThreshold: options.scoreThreshold ?? 0.8 });
      return mapToOriginal(faces, scale, image.cols, image.rows);
    },
  };
}

export function createHaarDetector(cv: OpenCv, cascadePath: string, options: DetectorOptions = {}): FaceDetector {
  const cascade = new cv.CascadeClassifier(cascadePath);
  const maxSide = options.maxSide ?? DETECT_MAX_SIDE;
  // OpenCV's own defaults (scale step 1.1, 3 neighbours), on the plain grey image.
  const minNeighbors = 3;
  return {
    kind: 'haar',
    detect(image) {
      const { small, scale } = shrink(cv, image, maxSide);
      const gray = small.bgrToGray();
      const { objects, numDetections } = cascade.detectMultiScale(gray, {
        scaleFactor: 1.1,
        minNeighbors,
        minSize: new cv.Size(20, 20),
      });
      // The cascade has no probability; neighbours found per face map to a score in (0, 1).
      const boxes: Box[] = objects.map((r, i) => ({
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
        score: numDetections[i] / (numDetections[i] + minNeighbors),
      }));
      return mapToOriginal(boxes, scale, image.cols, image.rows);
    },
  };
}

export function createDetector(cv: OpenCv, kind: DetectorKind, modelsDir: string, options: DetectorOptions = {}): FaceDetector {
  const file = `${modelsDir.replace(/\/+$/, '')}/${MODEL_FILES[kind]}`;
  return kind === 'yunet' ? createYunetDetector(cv, file, options) : createHaarDetector(cv, file, options);
}
