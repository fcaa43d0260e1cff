/**
 * OpenCV.js (@techstark/opencv-js, a devDependency of the project) with YuNet loaded into OpenCV's
 * own FaceDetectorYN: the reference the guard test and the bench compare the project's YuNet path
 * with. WASM, single-threaded; loads in a few seconds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Box } from '../functions/detect-faces/detect/boxes';
import { MODEL_FILES } from '../functions/detect-faces/detect/detectors';

/* eslint-disable @typescript-eslint/no-explicit-any -- OpenCV.js ships no types for its Emscripten module */
export type OpenCvJs = any;

let loading: Promise<{ cv: OpenCvJs }> | undefined;
/** Files written into OpenCV.js's in-memory file system (once each). */
const written = new Set<string>();

/**
 * The OpenCV.js module, initialised once per process. Wrapped in an object: the module has a
 * `then` of its own, so a promise resolved with it would wait on that and never settle.
 */
export function loadOpenCvJs(): Promise<{ cv: OpenCvJs }> {
  loading ??= new Promise((resolve) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cv = require('@techstark/opencv-js');
    if (cv.Mat) resolve({ cv });
    else cv.onRuntimeInitialized = () => resolve({ cv });
  });
  return loading;
}

export interface FaceDetectorYn {
  /** Faces in a BGR image (`bgr` as the addon's Mat.getData gives it), scores from `scoreThreshold`. */
  detect(bgr: Buffer, width: number, height: number): Box[];
}

/**
 * FaceDetectorYN over the models folder's YuNet, with OpenCV's defaults for everything but the
 * score threshold: NMS 0.3, top 5000, input size set per image (it pads to multiples of 32).
 */
export async function faceDetectorYn(modelsDir: string, scoreThreshold: number): Promise<FaceDetectorYn> {
  const { cv } = await loadOpenCvJs();
  const file = `/${MODEL_FILES.yunet}`;
  if (!written.has(file)) {
    cv.FS_createDataFile('/', MODEL_FILES.yunet, fs.readFileSync(path.join(modelsDir, MODEL_FILES.yunet)), true, false, false);
    written.add(file);
  }
  const detector = new cv.FaceDetectorYN(file, '', new cv.Size(320, 320), scoreThreshold, 0.3, 5000);
  return {
    detect(bgr, width, height) {
      const mat = cv.matFromArray(height, width, cv.CV_8UC3, bgr);
      const faces = new cv.Mat();
      try {
        detector.setInputSize(new cv.Size(width, height));
        detector.detect(mat, faces);
        const out: Box[] = [];
        // One row per face: x, y, w, h, five landmarks (x, y), score.
        for (let i = 0; i < faces.rows; i++) {
          const r = faces.data32F.subarray(i * faces.cols, (i + 1) * faces.cols);
          const landmarks: [number, number][] = [0, 1, 2, 3, 4].map((k) => [r[4 + 2 * k], r[5 + 2 * k]]);
          out.push({ x: r[0], y: r[1], width: r[2], height: r[3], score: r[14], landmarks });
        }
        return out;
      } finally {
        mat.delete();
        faces.delete();
      }
    },
  };
}

