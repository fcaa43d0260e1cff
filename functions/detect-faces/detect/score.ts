/**
 * What a reported score means: the measured fraction of detections like it that are faces. YuNet's
 * raw score is not that: it runs lower for small faces than for large ones, and a second look
 * (flip.ts) shifts it again. So the reported score comes from a table fitted on labelled
 * photos (`npm run bench:wider -- DIR --fit` writes calibration.ts), one per kind of look and per
 * agreement of its looks (a face both looks found is more often a face than one with the same
 * fused score that one look found): rows by the face's width at
 * the network's input, columns by raw score, each cell the fraction of such detections that
 * matched a labelled face, non-decreasing along the raw score (isotonic). Between cells the table
 * is read linearly in raw score and in the logarithm of the width; beyond its ends it holds.
 */
import { clamp } from './boxes';
import type { Agreement } from './flip';

export interface CalibrationTable {
  /** Face widths at the network's input (px), ascending: one row each. */
  readonly widths: readonly number[];
  /** Raw scores, ascending: one column each. */
  readonly raws: readonly number[];
  /** scores[row][column]: the reported score there; non-decreasing along each row. */
  readonly scores: readonly (readonly number[])[];
}

/** A kind of look's calibration: a table for each agreement of its looks (flip.ts LOOK_AGREEMENTS). */
export type LookCalibration = Readonly<Partial<Record<Agreement, CalibrationTable>>>;

/** The table of `agreement`; a TypeError when the calibration has none (fitted for another kind of look). */
export function tableFor(calibration: LookCalibration, agreement: Agreement): CalibrationTable {
  const table = calibration[agreement];
  if (!table) throw new TypeError(`the calibration has no table for faces whose looks agreed as '${agreement}'`);
  return table;
}

/**
 * Raw scores under this are never decoded, whatever `minScore`: below it nearly every anchor is a
 * candidate and merging them costs minutes.
 */
export const RAW_SCORE_FLOOR = 0.05;

/** The reported score of a detection with raw score `raw`, `width` px wide at the network's input. */
export function calibratedScore(table: CalibrationTable, raw: number, width: number): number {
  const { widths } = table;
  const w = Math.log(Math.max(width, 1e-6));
  let r = 0;
  while (r < widths.length - 1 && Math.log(widths[r + 1]) <= w) r++;
  if (r === widths.length - 1 || w <= Math.log(widths[0])) return rowAt(table, r, raw);
  const t = (w - Math.log(widths[r])) / (Math.log(widths[r + 1]) - Math.log(widths[r]));
  return (1 - t) * rowAt(table, r, raw) + t * rowAt(table, r + 1, raw);
}

/** Row `r` at `raw`: linear between columns, towards 0 below the first, held above the last. */
function rowAt(table: CalibrationTable, r: number, raw: number): number {
  const { raws } = table;
  const row = table.scores[r];
  const x = clamp(raw, 0, 1);
  if (x <= raws[0]) return (row[0] * x) / raws[0];
  for (let c = 1; c < raws.length; c++) {
    if (x <= raws[c]) return row[c - 1] + ((row[c] - row[c - 1]) * (x - raws[c - 1])) / (raws[c] - raws[c - 1]);
  }
  return row[row.length - 1];
}

/**
 * The lowest raw score that can reach `minScore` at some width: what to decode down to (never under
 * RAW_SCORE_FLOOR; above 1 when no detection can reach it). Rows are monotone and widths between
 * rows mix two rows, so the lowest over the rows is the lowest anywhere.
 */
export function rawThresholdFor(table: CalibrationTable, minScore: number): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const row of table.scores) lowest = Math.min(lowest, rowReaches(table.raws, row, minScore));
  return Math.max(RAW_SCORE_FLOOR, lowest);
}

function rowReaches(raws: readonly number[], row: readonly number[], target: number): number {
  if (target <= 0) return 0;
  if (row[0] >= target) return (raws[0] * target) / row[0];
  for (let c = 1; c < raws.length; c++) {
    if (row[c] >= target) return raws[c - 1] + ((raws[c] - raws[c - 1]) * (target - row[c - 1])) / (row[c] - row[c - 1]);
  }
  return Number.POSITIVE_INFINITY;
}
