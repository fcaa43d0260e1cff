/**
 * YuNet scores small faces lower than the same faces larger: on the labelled set (bench
 * real-size), true faces 48+ px wide at the network's input score 0.8 or more almost always
 * (p10 0.87), while those under 36 px score 0.6-0.8 a quarter of the time (p10 0.68), with
 * few false positives there. One threshold on the raw score either drops those small faces or
 * lets in large false ones (dog faces at 0.71). So a small face's score is raised to a power under
 * 1 before the threshold: log 0.8 / log 0.6 at 28 px and under (a raw 0.6 reports as 0.8, as a raw
 * 0.8 does from 48 px), 1 from 48 px, the exponent linear between. A power, not a shift towards 1:
 * it keeps weak raw scores weak (raw 0.05 reports as 0.27, not 0.53), so a low `minScore` still
 * separates faces from texture. The reported score is this calibrated one, so `minScore` means the
 * same at every size.
 */
import { clamp } from './boxes';

/** Width at the network's input (px) up to which a score gets the full stretch. */
export const FULL_STRETCH_WIDTH = 28;
/** Width from which a score is left as it is. */
export const NO_STRETCH_WIDTH = 48;

/**
 * Raw scores under this are never decoded, whatever `minScore` (the contract's lowest, 0.5, decodes
 * from 0.205): below it nearly every anchor is a candidate and merging them costs minutes.
 */
export const RAW_SCORE_FLOOR = 0.05;

/** Exponent at full stretch: a raw 0.6 there reports as 0.8, as a raw 0.8 does from 48 px. */
export const FULL_STRETCH_EXPONENT = Math.log(0.8) / Math.log(0.6);


/** The score reported for a raw YuNet score of a face `width` px wide at the network's input. */
export function calibratedScore(raw: number, width: number): number {
  const t = clamp((width - FULL_STRETCH_WIDTH) / (NO_STRETCH_WIDTH - FULL_STRETCH_WIDTH), 0, 1);
  return clamp(raw, 0, 1) ** (FULL_STRETCH_EXPONENT + (1 - FULL_STRETCH_EXPONENT) * t);
}

/** The lowest raw score that can reach `minScore` once calibrated: what to decode down to. */
export function rawThresholdFor(minScore: number): number {
  return Math.max(RAW_SCORE_FLOOR, clamp(minScore, 0, 1) ** (1 / FULL_STRETCH_EXPONENT));
}
