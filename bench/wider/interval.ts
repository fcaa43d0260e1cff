/**
 * How far a subset's figures may move on another subset of the same size: the percentile bootstrap
 * over photos (faces in one photo share its light, crowd and camera, so the photo is what is drawn,
 * not the face). Each resample draws as many photos as the folder has, with replacement, and sums
 * their counts (score.ts photoCounts). Also the share of resamples in which an operating point meets
 * issue 22's targets. Both are optimistic for a fresh subset: the resamples centre on this subset's
 * figures, and the operating points were chosen on it. Pure; seeded, so a run prints the same
 * figures each time.
 */
import { rng } from '../../local/rng';
import type { OperatingPointName } from '../../functions/detect-faces/contract';
import { CATEGORIES, figuresOf, type Category, type OperatingFigures, type PhotoCounts } from './score';

/** Resamples per interval. @default 2000 */
export const BOOTSTRAP_ROUNDS = 2000;
/** The generator's seed. */
export const BOOTSTRAP_SEED = 22;

/** Issue 22's targets, per operating point (contract/operating-points.ts), on faces >= 20 px at IoU 0.5. */
export interface Target {
  readonly recall: Readonly<Partial<Record<Category, number>>>;
  readonly precision: number;
}
export const TARGETS: Readonly<Record<OperatingPointName, Target>> = {
  precision: { recall: { all: 0.8 }, precision: 0.95 },
  recall: { recall: { clean: 0.99, occluded: 0.7, pose: 0.7, all: 0.89 }, precision: 0.7 },
};

/** Whether the figures meet every part of a target. */
export function meets(f: OperatingFigures, target: Target): boolean {
  return f.precision >= target.precision && (Object.entries(target.recall) as [Category, number][]).every(([c, least]) => f.recall[c] >= least);
}

export interface Intervals {
  /** 2.5th and 97.5th percentiles of each category's recall over the resamples. */
  readonly recall: Record<Category, readonly [number, number]>;
  readonly precision: readonly [number, number];
  /** Share of the resamples that meet the target, when one is given. */
  readonly meeting?: number;
}

/** The 95% percentile intervals of the figures of `photos`, resampled `rounds` times. */
export function bootstrapIntervals(photos: readonly PhotoCounts[], options: { rounds?: number; seed?: number; target?: Target } = {}): Intervals {
  const rounds = options.rounds ?? BOOTSTRAP_ROUNDS;
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new RangeError(`bootstrapIntervals: rounds must be a positive whole number, got ${rounds}`);
  if (photos.length === 0) throw new RangeError('bootstrapIntervals: no photos to resample');
  const random = rng(options.seed ?? BOOTSTRAP_SEED);
  const figures: OperatingFigures[] = [];
  for (let r = 0; r < rounds; r++) {
    const drawn = Array.from({ length: photos.length }, () => photos[Math.floor(random() * photos.length)]);
    figures.push(figuresOf(drawn, 0));
  }
  const interval = (values: number[]): [number, number] => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
    return [at(0.025), at(0.975)];
  };
  const target = options.target;
  return {
    recall: Object.fromEntries(Object.keys(CATEGORIES).map((c) => [c, interval(figures.map((f) => f.recall[c as Category]))])) as Record<Category, [number, number]>,
    precision: interval(figures.map((f) => f.precision)),
    ...(target ? { meeting: figures.filter((f) => meets(f, target)).length / rounds } : {}),
  };
}
