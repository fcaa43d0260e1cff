/**
 * YuNet 2023mar through cv.dnn (the addon has no FaceDetectorYN): the network's input blob, one
 * look at an input whose sides are multiples of 32, an optional second look at the mirrored input
 * fused with the first (flip.ts), scores calibrated (score.ts), and the detector over a plan of
 * scales and tiles (plan.ts). Decoding is yunet-decode.ts.
 */
import type { Box } from './boxes';
import { CALIBRATION } from './calibration';
import { fuseLooks, unmirror } from './flip';
import { mergeFaces, tileFacesToImage } from './merge';
import { finestLevel, planDetection, YUNET_PLAN, type DetectionPlan, type PlanParams } from './plan';
import { runPlan } from './run-plan';
import { calibratedScore, RAW_SCORE_FLOOR, rawThresholdFor, type CalibrationTable } from './score';
import { decodeYunet, YUNET_OUTPUT_NAMES, type FaceCandidate } from './yunet-decode';
import type { DetectOptions, DetectorOptions, FaceDetector } from './detectors';
import { operatingPointFor } from '../contract';
import type { Mat, Net, OpenCv } from '../opencv';

/**
 * The network's input: the BGR pixels as they are, 0-255, no mean, no scaling, as OpenCV's
 * FaceDetectorYN feeds YuNet. Every argument is explicit: the addon's blobFromImage defaults to
 * swapRB = true (a BGR pixel (10, 20, 30) comes out as (30, 20, 10)), and YuNet fed RGB loses a
 * quarter of its AP on WIDER FACE's hard set.
 */
export function yunetBlob(cv: OpenCv, input: Mat): Mat {
  return cv.blobFromImage(input, 1, new cv.Size(0, 0), new cv.Vec3(0, 0, 0), false, false);
}

/** Float data of a network output, whatever its dimensions (getData refuses > 2-D Mats). */
export function floats(mat: Mat): Float32Array {
  const total = mat.sizes.reduce((a, b) => a * b, 1);
  const flat = mat.sizes.length > 2 ? mat.flattenFloat(total, 1) : mat;
  let data: Buffer;
  try {
    data = flat.getData();
  } finally {
    // getData copies the values: the flattened Mat made here is released at once, not left to the GC.
    if (flat !== mat) flat.release();
  }
  // A Float32Array view needs 4-byte alignment; copy in the rare case the buffer is not aligned.
  if (data.byteOffset % 4 !== 0) return new Float32Array(new Uint8Array(data).buffer);
  return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
}

/**
 * One look of the network at `input` (BGR, sides multiples of 32): faces with a raw score of at
 * least `rawThreshold`, in input pixels, after YuNet's own NMS. `cells`, when given, receives
 * every candidate before the NMS.
 */
export function yunetLook(cv: OpenCv, net: Net, input: Mat, rawThreshold: number, cells?: (all: FaceCandidate[]) => void): FaceCandidate[] {
  const blob = yunetBlob(cv, input);
  try {
    net.setInput(blob);
    const outputs = net.forward(YUNET_OUTPUT_NAMES);
    try {
      const data = Object.fromEntries(YUNET_OUTPUT_NAMES.map((name, i) => [name, floats(outputs[i])]));
      return decodeYunet(data, { inputWidth: input.cols, inputHeight: input.rows, scoreThreshold: rawThreshold, cells });
    } finally {
      for (const o of outputs) o.release();
    }
  } finally {
    blob.release();
  }
}

/** A face before calibration: `score` is the raw (or fused) network score; `inputWidth` its width at the network's input. */
export interface YunetCandidate extends Box {
  readonly inputWidth: number;
}

export interface LookOptions {
  /** Also look at the mirrored input and fuse the looks. */
  readonly flip: boolean;
  /** Lowest raw score decoded. */
  readonly rawThreshold: number;
  /** Called for each tile with what each stage of it gave (the bench's miss classification, bench/wider/misses.ts). */
  readonly trace?: (tile: TileTrace) => void;
}

/** One tile's stages, in original-image pixels, raw (or fused) scores, before the tile's border filter (merge.ts). */
export interface TileTrace {
  /** Per look (the plain one, then the mirrored one): every candidate cell, and what YuNet's NMS kept of them. */
  readonly looks: readonly { readonly cells: readonly Box[]; readonly kept: readonly Box[] }[];
  /** The looks fused (flip.ts), or the one look's kept faces. */
  readonly fused: readonly Box[];
}

/**
 * Every face each tile of `plan` holds, in original-image pixels, scored before calibration: what
 * the detector calibrates, thresholds and merges, and what the calibration is fitted on.
 */
export function yunetCandidates(cv: OpenCv, net: Net, image: Mat, plan: DetectionPlan, params: PlanParams, look: LookOptions, baseLevel = 0): YunetCandidate[] {
  return runPlan(cv, image, plan, params.margin, (input, tile) => {
    const traced: TileTrace['looks'][number][] = [];
    // One look, its faces in `input`'s pixels (`back` undoes a mirror), traced when asked.
    const lookAt = (m: Mat, back: (faces: FaceCandidate[]) => FaceCandidate[]) => {
      let cells: FaceCandidate[] = [];
      const kept = back(yunetLook(cv, net, m, look.rawThreshold, look.trace && ((all) => (cells = all))));
      if (look.trace) traced.push({ cells: tileFacesToImage(back(cells), tile), kept: tileFacesToImage(kept, tile) });
      return kept;
    };
    let faces: Box[] = lookAt(input, (f) => f);
    if (look.flip) {
      const mirrored = input.flip(1);
      try {
        faces = fuseLooks(faces, lookAt(mirrored, (f) => unmirror(f, input.cols)));
      } finally {
        mirrored.release();
      }
    }
    look.trace?.({ looks: traced, fused: tileFacesToImage(faces, tile) });
    return faces.map((f) => ({ ...f, inputWidth: f.width }));
  }, baseLevel);
}

/**
 * Candidates with their calibrated score, those reaching `minScore`. The table saturates (many
 * faces calibrate to 1), so a thousandth of the raw score breaks its ties: merging keeps the
 * stronger of two overlapping boxes (a whole face over a cut one), as with raw scores.
 */
export function calibrated(candidates: readonly YunetCandidate[], table: CalibrationTable, minScore: number): YunetCandidate[] {
  return candidates.map((f) => ({ ...f, score: 0.999 * calibratedScore(table, f.score, f.inputWidth) + 0.001 * f.score })).filter((f) => f.score >= minScore);
}

export interface YunetOptions extends DetectorOptions {
  /** Score calibration of one look and of two fused looks. @default the fitted tables (calibration.ts) */
  readonly calibration?: { readonly single: CalibrationTable; readonly flip: CalibrationTable };
}

export function createYunetDetector(cv: OpenCv, modelPath: string, options: YunetOptions = {}): FaceDetector {
  const net = cv.readNetFromONNX(modelPath);
  const params = options.plan ?? YUNET_PLAN;
  const calibration = options.calibration ?? CALIBRATION;
  const planFor = (width: number, height: number, opts: DetectOptions) => {
    const flip = opts.flip ?? operatingPointFor(opts.mark ?? 'box').flip;
    // A second look costs what the first does: the budget buys half the pixels.
    const budget = opts.maxNetworkPixels === undefined ? undefined : opts.maxNetworkPixels / (flip ? 2 : 1);
    return planDetection(width, height, { minFaceSize: opts.minFaceSize, maxNetworkPixels: budget }, params);
  };
  return {
    kind: 'yunet',
    finestLevel: (width, height, opts = {}) => finestLevel(planFor(width, height, opts)),
    detect(image, opts = {}) {
      const point = operatingPointFor(opts.mark ?? 'box');
      const flip = opts.flip ?? point.flip;
      const minScore = opts.minScore ?? point.minScore;
      const table = flip ? calibration.flip : calibration.single;
      const { width, height, level } = opts.reduced ?? { width: image.cols, height: image.rows, level: 0 };
      const plan = planFor(width, height, opts);
      // Fusing needs each look's weak faces too (a face one look scores low still confirms the other's).
      const rawThreshold = flip ? RAW_SCORE_FLOOR : rawThresholdFor(table, minScore);
      const found = calibrated(yunetCandidates(cv, net, image, plan, params, { flip, rawThreshold }, level), table, minScore);
      const boxes = mergeFaces(found, { width, height, maxFaces: opts.maxFaces });
      return { boxes, minFaceSize: plan.minFaceSize, ...(plan.overBudget ? { overBudget: true } : {}) };
    },
  };
}
