/**
 * The Haar frontal-face cascade (OpenCV's alt2), the selectable older detector. It works on the
 * grey image (the cascade was trained on luminance: colour plays no part), at the scales of
 * HAAR_PLAN, and has no probability: its score is the neighbours found per face.
 */
import { mergeFaces } from './merge';
import { finestLevel, HAAR_PLAN, planDetection } from './plan';
import { runPlan } from './run-plan';
import type { DetectOptions, DetectorOptions, FaceDetector } from './detectors';
import type { OpenCv } from '../opencv';

/**
 * Time per input pixel of the Haar cascade (detectMultiScale, scale step 1.1, from 28 px up) over
 * YuNet's, one thread: bench real-size, nearly idle machine, 1.47 Mpx in 640-650 ms against
 * YuNet's 1.10 Mpx in 85-94 ms (5.2x).
 */
export const HAAR_PIXEL_COST = 5;

/** OpenCV's own default (3 neighbours): a hit seen 3 times scores 0.5, and more reach towards 1. */
const MIN_NEIGHBORS = 3;

export function createHaarDetector(cv: OpenCv, cascadePath: string, options: DetectorOptions = {}): FaceDetector {
  const cascade = new cv.CascadeClassifier(cascadePath);
  const params = options.plan ?? HAAR_PLAN;
  const planFor = (width: number, height: number, opts: DetectOptions) => {
    // The budget is in YuNet input pixels; the cascade costs more per pixel of its input.
    const budget = opts.maxNetworkPixels === undefined ? undefined : opts.maxNetworkPixels / HAAR_PIXEL_COST;
    return planDetection(width, height, { minFaceSize: opts.minFaceSize, maxNetworkPixels: budget }, params);
  };
  return {
    kind: 'haar',
    finestLevel: (width, height, opts = {}) => finestLevel(planFor(width, height, opts)),
    detect(image, opts = {}) {
      const { width, height, level } = opts.reduced ?? { width: image.cols, height: image.rows, level: 0 };
      const plan = planFor(width, height, opts);
      // Every cascade hit unless asked otherwise: the operating points are YuNet's.
      const minScore = opts.minScore ?? 0;
      // Scale step 1.1, on the plain grey image; the plan's smallest face is the cascade's minimum
      // size, and detectMultiScale scans every size above it.
      const found = runPlan(cv, image, plan, params.margin, (input) => {
        const gray = input.bgrToGray();
        try {
          const { objects, numDetections } = cascade.detectMultiScale(gray, {
            scaleFactor: 1.1,
            minNeighbors: MIN_NEIGHBORS,
            minSize: new cv.Size(params.minNetFace, params.minNetFace),
          });
          return objects
            .map((r, i) => ({ x: r.x, y: r.y, width: r.width, height: r.height, score: numDetections[i] / (numDetections[i] + MIN_NEIGHBORS) }))
            .filter((b) => b.score >= minScore);
        } finally {
          gray.release();
        }
      }, level);
      const boxes = mergeFaces(found, { width, height, maxFaces: opts.maxFaces });
      return { boxes, minFaceSize: plan.minFaceSize, ...(plan.overBudget ? { overBudget: true } : {}) };
    },
  };
}
