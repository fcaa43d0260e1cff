/**
 * YuNet's operating points: which faces a request reports when it names no `minScore`, chosen for
 * what the mark is for. `box` shows faces: precision first. `fill`, `pixelate` and `blur` hide
 * them: recall first, since a face a redaction misses is a leak and an extra patch costs little.
 * The figures beside each value are what `npm run bench:wider -- DIR` measured with it on the
 * development subset of WIDER FACE (500 validation photos, faces >= 20 px, annotator-invalid left
 * out; precision over detections >= 20 px); the README prints this table (`npm run docs`).
 * Dependency-free, like the rest of the contract.
 */
import type { MarkMode } from './request';

/**
 * How the detector looks at each input (detect/yunet.ts): `single`, YuNet 2023mar once; `flip`,
 * also at the mirrored input, the two looks fused (detect/flip.ts), about twice the time;
 * `cascade`, also YuNet 2022mar, a second network trained apart, on crops around the first look's
 * faces (detect/cascade.ts; their pixels bounded by detect/crops.ts CROP_DEFAULTS), fused the same
 * way; `cascade-n`, the cascade with YuNet_n, the larger YuNet, as the first network (about 1.3x
 * its time per pixel).
 */
export const LOOKS = ['single', 'flip', 'cascade', 'cascade-n'] as const;
export type Looks = (typeof LOOKS)[number];

/** How each kind of look reads in the documentation ("box 0.65 with ..."). */
export const LOOKS_TEXT: Record<Looks, string> = {
  single: 'one look',
  flip: 'a mirrored second look',
  cascade: 'YuNet 2023mar, then YuNet 2022mar on crops around its faces',
  'cascade-n': 'YuNet_n (the larger YuNet), then YuNet 2022mar on crops around its faces',
};

export interface OperatingPoint {
  /** Lowest calibrated score reported (detect/score.ts: the measured fraction of such detections that are faces). */
  readonly minScore: number;
  /** How the detector looks (LOOKS). */
  readonly looks: Looks;
  /** Whether the merge drops a box inside a sure, much larger face (detect/merge.ts dropFacesInsideFaces). */
  readonly dropInside: boolean;
  /** What the development subset measured at this point, percent. */
  readonly measured: {
    readonly recall: { readonly clean: number; readonly occluded: number; readonly pose: number; readonly blurred: number; readonly all: number };
    readonly precision: number;
  };
}

export const OPERATING_POINTS = {
  /**
   * Precision first: what a person looking at the boxes wants. The cascade over YuNet_n, the larger
   * YuNet: its second network on crops finds turned and occluded faces one look scores too low, and
   * YuNet_n finds more at every precision than 2023mar (82.4% at 95% precision against 81.0% for
   * 2023mar's cascade and 78.6% for one look of 2023mar; turned faces 58.5% against 52.7%). It costs
   * 1.93-2.21x one look of 2023mar at 1080p and 12 MP (YuNet_n's one look 1.25-1.30x; issue 22 sets
   * `box` no cost limit). 0.65 keeps precision at 95.5% on both halves and is where the most
   * resamples of the subset meet the target (72.7%; 0.617 50.7%, 0.683 69.6%).
   */
  precision: {
    minScore: 0.65,
    looks: 'cascade-n',
    // A false box on a large face's shoulder is a visible box; for redaction it is a harmless patch.
    dropInside: true,
    measured: { recall: { clean: 96.9, occluded: 57.4, pose: 53.7, blurred: 63.9, all: 81.3 }, precision: 95.5 },
  },
  /**
   * Recall first: what a redaction needs. The cascade again, calibrated per agreement of its two
   * networks: at 70% precision it finds 89.2% of all faces (one look 87.8%, the flip 88.9%) and
   * 75.5% of the turned ones (one look 68.1%, the flip 69.1%). 0.09 keeps precision at 70% or more
   * on both halves (71.8% and 70.1%) for 0.1 point of recall: 0.085 measured 89.2% at 70.0% (69.1%
   * on the odd half), 0.1 89.0% at 72.3%. 1.61-2.07x one look's time at 1080p and 12 MP (twelve
   * runs over two days): at the 2x issue 22 allows on the 12 MP crowd (1.69-2.07x, 2.0x or more in
   * five of the second day's six), where the crops' area limit binds (docs/detection.md, real
   * sizes). Its full score curve passes the plain look's
   * WIDER AP on easy, medium and hard. Under 0.09, fewer than 1 detection in 100
   * is a face (the floor, LOWEST_MIN_SCORE).
   */
  recall: {
    minScore: 0.09,
    looks: 'cascade',
    dropInside: false,
    measured: { recall: { clean: 98.8, occluded: 72.2, pose: 75.5, blurred: 78.9, all: 89.1 }, precision: 71.0 },
  },
} as const satisfies Record<string, OperatingPoint>;

export type OperatingPointName = keyof typeof OPERATING_POINTS;

/** The operating point of each mark. */
export const MARK_OPERATING_POINT = {
  box: 'precision',
  fill: 'recall',
  pixelate: 'recall',
  blur: 'recall',
} as const satisfies Record<MarkMode, OperatingPointName>;

export function operatingPointFor(mark: MarkMode): OperatingPoint {
  return OPERATING_POINTS[MARK_OPERATING_POINT[mark]];
}

/** The default `minScore` of each mark, as the request's and the settings' documentation say it. */
export function defaultScoresText(): string {
  const marks = (name: OperatingPointName) => (Object.keys(MARK_OPERATING_POINT) as MarkMode[]).filter((m) => MARK_OPERATING_POINT[m] === name).join('/');
  const points = (Object.keys(OPERATING_POINTS) as OperatingPointName[]).map((name) => ({ name, point: OPERATING_POINTS[name] as OperatingPoint }));
  const withLooks = (looks: Looks) => (looks === 'single' ? '' : ` with ${LOOKS_TEXT[looks]}`);
  const shared = new Set(points.map(({ point }) => point.looks));
  // The same looks for every mark: said once.
  if (shared.size === 1) {
    const looks = points[0].point.looks;
    return `${points.map(({ name, point }) => `${marks(name)} ${point.minScore}`).join(', ')}${looks === 'single' ? '' : `, each${withLooks(looks)}`}`;
  }
  return points.map(({ name, point }) => `${marks(name)} ${point.minScore}${withLooks(point.looks)}`).join(', ');
}
