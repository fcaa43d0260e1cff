/**
 * YuNet 2023mar (or YuNet_n, the larger YuNet, for `cascade-n`) through cv.dnn (the addon has no
 * FaceDetectorYN): one look at an input whose sides are multiples of 32, an optional second look
 * fused with the first (flip.ts): at the mirrored input, or YuNet 2022mar's on crops around the
 * first look's faces (cascade.ts),
 * scores calibrated (score.ts), and the detector over a plan of scales and tiles (plan.ts).
 * Decoding is yunet-decode.ts.
 */
import { reportedScore, type Box } from './boxes';
import { LOOKS_COST } from './budget';
import { CALIBRATION } from './calibration';
import { fuseLooks, LOOK_AGREEMENTS, unmirror, type Agreement } from './flip';
import { mergeFaces, tileFacesToImage } from './merge';
import { finestLevel, planDetection, YUNET_PLAN, type DetectionPlan, type PlanParams } from './plan';
import { runPlan } from './run-plan';
import { calibratedScore, RAW_SCORE_FLOOR, rawThresholdFor, tableFor, type LookCalibration } from './score';
import { cascadeLook } from './cascade';
import { decodeYunet, YUNET_OUTPUT_NAMES, type FaceCandidate } from './yunet-decode';
import { floats, padBottomRight, yunetBlob } from './dnn';
import type { DetectOptions, DetectorOptions, FaceDetector } from './detectors';
import { LOOKS, operatingPointFor, type Looks } from '../contract';
import type { Mat, Net, OpenCv } from '../opencv';

/**
 * One look of the network at `input` (BGR, sides multiples of 32): faces with a raw score of at
 * least `rawThreshold`, in input pixels, after YuNet's own NMS. `cells`, when given, receives
 * every candidate before the NMS.
 */
export function yunetLook(cv: OpenCv, net: Net, input: Mat, rawThreshold: number, cells?: (all: FaceCandidate[]) => void): FaceCandidate[] {
  // A side under YUNET_MIN_SIDE is padded with black to it (right and bottom), and only faces
  // centred in the input as given are kept.
  const width = Math.max(input.cols, YUNET_MIN_SIDE);
  const height = Math.max(input.rows, YUNET_MIN_SIDE);
  const padded = padBottomRight(cv, input, width, height);
  const inside = (f: FaceCandidate) => f.x + f.width / 2 < input.cols && f.y + f.height / 2 < input.rows;
  try {
    const blob = yunetBlob(cv, padded);
    try {
      net.setInput(blob);
      const outputs = net.forward(YUNET_OUTPUT_NAMES);
      try {
        const data = Object.fromEntries(YUNET_OUTPUT_NAMES.map((name, i) => [name, floats(outputs[i])]));
        const faces = decodeYunet(data, { inputWidth: width, inputHeight: height, scoreThreshold: rawThreshold, cells: cells && ((all) => cells(padded === input ? all : all.filter(inside))) });
        return padded === input ? faces : faces.filter(inside);
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

/**
 * The shortest side YuNet is fed. Through cv.dnn, YuNet (2023mar and YuNet_n) does not give the
 * same output twice for an input 32 px on a side: after an input of another shape it returns
 * other scores, NaN boxes among them (a 300x300 portrait's coarsest pass, 32x32, gave a box over
 * most of the photo at score 1 in a warm process; a 2000x20 banner, three). From 64 px on the
 * outputs were the same in 40 of 40 runs.
 */
export const YUNET_MIN_SIDE = 64;

/**
 * A face before calibration: `score` is the raw (or fused) network score; `inputWidth` its width
 * at the network's input; `agreement` how the looks agreed on it (one look: `first`).
 */
export interface YunetCandidate extends Box {
  readonly inputWidth: number;
  readonly agreement: Agreement;
}

export interface LookOptions {
  /** How to look at each input (contract LOOKS). */
  readonly looks: Looks;
  /** YuNet 2022mar, which the cascades run on crops. Required when `looks` is a cascade. */
  readonly second?: Net;
  /** Lowest raw score decoded. */
  readonly rawThreshold: number;
  /** Called for each tile with what each stage of it gave (the bench's miss classification, bench/wider/misses.ts). */
  readonly trace?: (tile: TileTrace) => void;
}

/** One tile's stages, in original-image pixels, raw (or fused) scores, before the tile's border filter (merge.ts). */
export interface TileTrace {
  /** Per look (the plain one, then the mirrored one or the cascade's crops): every candidate cell, and what YuNet's NMS kept of them. */
  readonly looks: readonly { readonly cells: readonly Box[]; readonly kept: readonly Box[] }[];
  /** The looks fused (flip.ts), or the one look's kept faces. */
  readonly fused: readonly Box[];
}

/**
 * Every face each tile of `plan` holds, in original-image pixels, scored before calibration: what
 * the detector calibrates, thresholds and merges, and what the calibration is fitted on.
 */
export function yunetCandidates(cv: OpenCv, net: Net, image: Mat, plan: DetectionPlan, params: PlanParams, look: LookOptions, baseLevel = 0): YunetCandidate[] {
  const second = look.second;
  const cascade = isCascade(look.looks);
  if (cascade && !second) throw new TypeError(`yunetCandidates: the '${look.looks}' look needs the second network (LookOptions.second)`);
  return runPlan(cv, image, plan, params.margin, (input, tile) => {
    const traced: TileTrace['looks'][number][] = [];
    // One look, its faces in `input`'s pixels (`back` undoes a mirror), traced when asked.
    const lookAt = (m: Mat, back: (faces: FaceCandidate[]) => FaceCandidate[]) => {
      let cells: FaceCandidate[] = [];
      const kept = back(yunetLook(cv, net, m, look.rawThreshold, look.trace && ((all) => (cells = all))));
      if (look.trace) traced.push({ cells: tileFacesToImage(back(cells), tile), kept: tileFacesToImage(kept, tile) });
      return kept;
    };
    const first: FaceCandidate[] = lookAt(input, (f) => f);
    let faces: (FaceCandidate & { agreement: Agreement })[] = first.map((f) => ({ ...f, agreement: 'first' }));
    if (look.looks === 'flip') {
      const mirrored = input.flip(1);
      try {
        faces = fuseLooks(first, lookAt(mirrored, (f) => unmirror(f, input.cols)));
      } finally {
        mirrored.release();
      }
    } else if (cascade && second) {
      let cells: FaceCandidate[] = [];
      const found = cascadeLook(cv, second, input, first, look.trace && ((all) => (cells = all)));
      if (look.trace) traced.push({ cells: tileFacesToImage(cells, tile), kept: tileFacesToImage(found.faces, tile) });
      faces = fuseLooks(first, found.faces, found.unseen);
    }
    look.trace?.({ looks: traced, fused: tileFacesToImage(faces, tile) });
    return faces.map((f) => ({ ...f, inputWidth: f.width }));
  }, baseLevel);
}

/**
 * Candidates with their calibrated score (the table of their agreement), those reaching
 * `minScore`. The tables saturate (many faces calibrate to 1), so a thousandth of the raw score
 * breaks their ties: merging keeps the stronger of two overlapping boxes (a whole face over a cut
 * one), as with raw scores.
 */
export function calibrated(candidates: readonly YunetCandidate[], calibration: LookCalibration, minScore: number): YunetCandidate[] {
  return candidates
    .map((f) => ({ ...f, score: 0.999 * calibratedScore(tableFor(calibration, f.agreement), f.score, f.inputWidth) + 0.001 * f.score }))
    .filter((f) => reportedScore(f.score) >= minScore);
}

export interface YunetOptions extends DetectorOptions {
  /** Score calibration of each kind of look, a table per agreement it gives (flip.ts LOOK_AGREEMENTS). @default the fitted tables (calibration.ts) */
  readonly calibration?: Readonly<Record<Looks, LookCalibration>>;
}

/** Each kind of look's first network (a YunetModels file): YuNet_n for `cascade-n`, else 2023mar. */
export const LOOK_FIRST_NETWORK: Readonly<Record<Looks, 'yunet' | 'yunetN'>> = { single: 'yunet', flip: 'yunet', cascade: 'yunet', 'cascade-n': 'yunetN' };

/** The cascades' looks: a first network over the plan, then YuNet 2022mar on crops around its faces. */
export function isCascade(looks: Looks): boolean {
  return looks === 'cascade' || looks === 'cascade-n';
}

/** The ONNX files of the detector's networks. */
export interface YunetModels {
  /** YuNet 2023mar (YuNet_s): the first network of every look but `cascade-n`. */
  readonly yunet: string;
  /** YuNet 2022mar: the cascades' crops. */
  readonly yunet2022: string;
  /** YuNet_n: the first network of `cascade-n`. */
  readonly yunetN: string;
}

export function createYunetDetector(cv: OpenCv, models: YunetModels, options: YunetOptions = {}): FaceDetector {
  const firsts = { yunet: cv.readNetFromONNX(models.yunet), yunetN: cv.readNetFromONNX(models.yunetN) };
  const second = cv.readNetFromONNX(models.yunet2022);
  const params = options.plan ?? YUNET_PLAN;
  const calibration = options.calibration ?? CALIBRATION;
  // Every table a look can need, checked once here rather than on some request's rare face.
  for (const looks of LOOKS) for (const agreement of LOOK_AGREEMENTS[looks]) tableFor(calibration[looks] ?? {}, agreement);
  const looksOf = (opts: DetectOptions): Looks => opts.looks ?? operatingPointFor(opts.mark ?? 'box').looks;
  const planFor = (width: number, height: number, opts: DetectOptions) => {
    // The plan's pixels times what the looks cost per pixel of it stay within the budget.
    const budget = opts.maxNetworkPixels === undefined ? undefined : opts.maxNetworkPixels / LOOKS_COST[looksOf(opts)];
    return planDetection(width, height, { minFaceSize: opts.minFaceSize, maxNetworkPixels: budget }, params);
  };
  return {
    kind: 'yunet',
    finestLevel: (width, height, opts = {}) => finestLevel(planFor(width, height, opts)),
    detect(image, opts = {}) {
      const point = operatingPointFor(opts.mark ?? 'box');
      const looks = looksOf(opts);
      const minScore = opts.minScore ?? point.minScore;
      const tables = calibration[looks];
      const { width, height, level } = opts.reduced ?? { width: image.cols, height: image.rows, level: 0 };
      const plan = planFor(width, height, opts);
      // Fusing needs each look's weak faces too (a face one look scores low still confirms the other's).
      const rawThreshold = looks === 'single' ? rawThresholdFor(tableFor(tables, 'first'), minScore) : RAW_SCORE_FLOOR;
      const found = calibrated(yunetCandidates(cv, firsts[LOOK_FIRST_NETWORK[looks]], image, plan, params, { looks, rawThreshold, second }, level), tables, minScore);
      const boxes = mergeFaces(found, { width, height, maxFaces: opts.maxFaces, dropInside: point.dropInside });
      return { boxes, minFaceSize: plan.minFaceSize, ...(plan.overBudget ? { overBudget: true } : {}) };
    },
  };
}
