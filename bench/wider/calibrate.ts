/**
 * Fitting the score calibration (functions/detect-faces/detect/score.ts) from labelled detections,
 * and checking it: the reliability curve. Pure.
 *
 * Each detection counts towards the table's cells around it with the weights the table is read
 * with (linear in raw score, linear in log width), so the fitted cell is the face fraction of the
 * detections it speaks for; along the raw score each row is then made non-decreasing by
 * pool-adjacent-violators (isotonic regression), so a higher raw score never reports lower.
 */
import type { CalibrationTable } from '../../functions/detect-faces/detect/score';

export interface LabelledDetection {
  /** The detector's score before calibration (raw, or fused across looks). */
  readonly raw: number;
  /** Width at the network's input, px. */
  readonly width: number;
  /** Whether it matched a labelled face (IoU >= 0.5). */
  readonly face: boolean;
}

/** Isotonic (non-decreasing) least-squares fit of `values` with `weights`: pool adjacent violators. */
export function isotonic(values: readonly number[], weights: readonly number[]): number[] {
  const blocks: { value: number; weight: number; count: number }[] = [];
  values.forEach((v, i) => {
    blocks.push({ value: v, weight: weights[i], count: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2].value > blocks[blocks.length - 1].value) {
      const b = blocks.pop()!;
      const a = blocks[blocks.length - 1];
      const weight = a.weight + b.weight;
      a.value = weight > 0 ? (a.value * a.weight + b.value * b.weight) / weight : (a.value + b.value) / 2;
      a.weight = weight;
      a.count += b.count;
    }
  });
  return blocks.flatMap((b) => Array.from({ length: b.count }, () => b.value));
}

/** Weights of `x` on the knots around it (a hat per knot; beyond the ends, all on the end knot). */
function hat(knots: readonly number[], x: number): [number, number][] {
  if (x <= knots[0]) return [[0, 1]];
  const last = knots.length - 1;
  if (x >= knots[last]) return [[last, 1]];
  let k = 0;
  while (knots[k + 1] < x) k++;
  const t = (x - knots[k]) / (knots[k + 1] - knots[k]);
  return [
    [k, 1 - t],
    [k + 1, t],
  ];
}

/**
 * What a cell holds before its own detections: `weight` detections at the value of `table`'s cell
 * (same grid). The fitted table then follows its own detections where they are many and the
 * prior's where they are few (bench:wider gives each agreement of the looks its own curve over all
 * widths: the widest rows hold a handful of one agreement, and a handful of misplaced boxes is no
 * measure).
 */
export interface CalibrationPrior {
  readonly table: CalibrationTable;
  readonly weight: number;
}

/** The table fitted to `detections` on the grid `widths` x `raws`, each cell starting from `prior` when given. */
export function fitCalibration(detections: readonly LabelledDetection[], widths: readonly number[], raws: readonly number[], prior?: CalibrationPrior): CalibrationTable {
  const logWidths = widths.map(Math.log);
  const faces = widths.map(() => raws.map(() => 0));
  const total = widths.map(() => raws.map(() => 0));
  if (prior) {
    const { table, weight } = prior;
    if (table.widths.join() !== widths.join() || table.raws.join() !== raws.join()) throw new RangeError('fitCalibration: the prior table must be on the same grid');
    widths.forEach((_, r) => raws.forEach((_, c) => {
      total[r][c] += weight;
      faces[r][c] += weight * table.scores[r][c];
    }));
  }
  for (const d of detections) {
    for (const [r, wr] of hat(logWidths, Math.log(Math.max(d.width, 1e-6)))) {
      for (const [c, wc] of hat(raws, d.raw)) {
        total[r][c] += wr * wc;
        if (d.face) faces[r][c] += wr * wc;
      }
    }
  }
  const rows = widths.map((_, r) => {
    const seen = raws.map((_, c) => total[r][c] > 0);
    if (!seen.some(Boolean)) return undefined;
    const fitted = isotonic(
      raws.map((_, c) => (seen[c] ? faces[r][c] / total[r][c] : 0)).filter((_, c) => seen[c]),
      total[r].filter((_, c) => seen[c]),
    );
    // Columns no detection spoke for: the fitted value of the nearest column below (or above).
    const known = raws.map((_, c) => c).filter((c) => seen[c]);
    return raws.map((_, c) => {
      const below = known.filter((k) => k <= c);
      const i = below.length ? known.indexOf(below[below.length - 1]) : 0;
      return round4(fitted[i]);
    });
  });
  // Rows no detection spoke for: the nearest fitted row.
  const filled = rows.map((row, r) => row ?? rows[nearest(rows, r)]!);
  return { widths: [...widths], raws: [...raws], scores: filled };
}

function nearest(rows: readonly (number[] | undefined)[], r: number): number {
  for (let d = 1; d < rows.length; d++) {
    if (rows[r - d]) return r - d;
    if (rows[r + d]) return r + d;
  }
  throw new Error('no detections to fit a calibration on');
}

const round4 = (n: number) => Math.round(n * 1e4) / 1e4;

export interface ReliabilityBin {
  /** Reported scores in [from, to). */
  readonly from: number;
  readonly to: number;
  readonly detections: number;
  /** Mean reported score of the bin's detections. */
  readonly meanScore: number;
  /** Fraction of them that are faces. */
  readonly faceFraction: number;
}

/** Reported score against the measured face fraction, in bins of `step`: a calibrated detector sits on the diagonal. */
export function reliability(detections: readonly { score: number; face: boolean }[], step = 0.1): ReliabilityBin[] {
  const n = Math.round(1 / step);
  const bins = Array.from({ length: n }, (_, i) => ({ from: round4(i * step), to: round4((i + 1) * step), detections: 0, sum: 0, faces: 0 }));
  for (const d of detections) {
    const b = bins[Math.min(n - 1, Math.max(0, Math.floor(d.score / step)))];
    b.detections++;
    b.sum += d.score;
    if (d.face) b.faces++;
  }
  return bins
    .filter((b) => b.detections > 0)
    .map((b) => ({ from: b.from, to: b.to, detections: b.detections, meanScore: b.sum / b.detections, faceFraction: b.faces / b.detections }));
}
