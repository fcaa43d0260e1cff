/**
 * YuNet scores small faces lower than the same faces larger: on the labelled set (bench
 * real-size), true faces 48+ px wide at the network's input score 0.8 or more almost always
 * (p10 0.87), while those under 36 px score 0.6-0.8 a quarter of the time (p10 0.68), with
 * few false positives there. One threshold on the raw score either drops those small faces or
 * lets in large false ones (dog faces at 0.71). So a small face's score is stretched towards 1
 * before the threshold: by half its distance to 1 at 28 px and under, by nothing from 48 px, linear
 * between. The reported score is this calibrated one, so `minScore` means the same at every size.
 */

/** Width at the network's input (px) up to which a score gets the full stretch. */
export const FULL_STRETCH_WIDTH = 28;
/** Width from which a score is left as it is. */
export const NO_STRETCH_WIDTH = 48;
/** Raw scores under this are never decoded, whatever `minScore`. */
export const RAW_SCORE_FLOOR = 0.05;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** The score reported for a raw YuNet score of a face `width` px wide at the network's input. */
export function calibratedScore(raw: number, width: number): number {
  const keep = 0.5 + 0.5 * clamp01((width - FULL_STRETCH_WIDTH) / (NO_STRETCH_WIDTH - FULL_STRETCH_WIDTH));
  return 1 - (1 - clamp01(raw)) * keep;
}

/** The lowest raw score that can reach `minScore` once calibrated: what to decode down to. */
export function rawThresholdFor(minScore: number): number {
  return Math.max(RAW_SCORE_FLOOR, 1 - 2 * (1 - minScore));
}
