/**
 * YuNet's operating points: which faces a request reports when it names no `minScore`, chosen for
 * what the mark is for. `box` shows faces: precision first. `fill`, `pixelate` and `blur` hide
 * them: recall first, since a face a redaction misses is a leak and an extra patch costs little.
 * The figures beside each value are what `npm run bench:wider -- DIR` measured with it on the
 * development subset of WIDER FACE (500 validation photos, faces >= 20 px, annotator-invalid left
 * out; precision over detections >= 20 px); docs/detection.md prints this table (`npm run docs`).
 * Dependency-free, like the rest of the contract.
 */
import type { MarkMode } from './request';

/**
 * How the detector looks at each input (detect/yunet.ts): `single`, YuNet 2023mar once; `flip`,
 * also at the mirrored input, the two looks fused (detect/flip.ts), about twice the time;
 * `cascade`, also YuNet 2022mar, a second network trained apart, on crops around the first look's
 * faces (detect/crops.ts), fused the same way, at most 1.6 times the input's pixels before padding.
 */
export const LOOKS = ['single', 'flip', 'cascade'] as const;
export type Looks = (typeof LOOKS)[number];

/** How each kind of look reads in the documentation ("box 0.6 with ..."). */
export const LOOKS_TEXT: Record<Looks, string> = {
  single: 'one look',
  flip: 'a mirrored second look',
  cascade: 'a second network on crops around its faces',
};

export interface OperatingPoint {
  /** Lowest calibrated score reported (detect/score.ts: the measured fraction of such detections that are faces). */
  readonly minScore: number;
  /** How the detector looks (LOOKS). */
  readonly looks: Looks;
  /** What the development subset measured at this point, percent. */
  readonly measured: {
    readonly recall: { readonly clean: number; readonly occluded: number; readonly pose: number; readonly blurred: number; readonly all: number };
    readonly precision: number;
  };
}

export const OPERATING_POINTS = {
  /**
   * Precision first: what a person looking at the boxes wants. One look (the flip would buy 0.7
   * points of recall here at twice the time). 0.65 measured 78.7% at 95.0%; 0.7 keeps a margin on
   * precision for photos that are not these.
   */
  precision: {
    minScore: 0.7,
    looks: 'single',
    measured: { recall: { clean: 95.6, occluded: 51.3, pose: 36.7, blurred: 60.2, all: 77.3 }, precision: 95.9 },
  },
  /**
   * Recall first: what a redaction needs. Two looks fused (flip.ts): at 70% precision they find
   * 1.4 points more of all faces than one look (88.6% against 87.2% at the same 0.1), and their
   * full score curve reaches the plain look's WIDER AP on easy, medium and hard (one look falls
   * 0.004 short on hard). Under 0.1, fewer than 1 detection in 100 is a face (the floor,
   * LOWEST_MIN_SCORE).
   */
  recall: {
    minScore: 0.1,
    looks: 'flip',
    measured: { recall: { clean: 98.5, occluded: 72.2, pose: 67.6, blurred: 79.5, all: 88.6 }, precision: 71.7 },
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
  return (Object.keys(OPERATING_POINTS) as OperatingPointName[]).map((name) => `${marks(name)} ${OPERATING_POINTS[name].minScore}${OPERATING_POINTS[name].looks === 'single' ? '' : ` with ${LOOKS_TEXT[OPERATING_POINTS[name].looks]}`}`).join(', ');
}
