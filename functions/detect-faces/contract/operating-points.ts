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
 * faces (detect/cascade.ts; their pixels bounded by detect/crops.ts CROP_DEFAULTS), fused the same way.
 */
export const LOOKS = ['single', 'flip', 'cascade'] as const;
export type Looks = (typeof LOOKS)[number];

/** How each kind of look reads in the documentation ("box 0.6 with ..."). */
export const LOOKS_TEXT: Record<Looks, string> = {
  single: 'one look',
  flip: 'a mirrored second look',
  cascade: 'a second network (YuNet 2022mar) on crops around the faces found',
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
   * Precision first: what a person looking at the boxes wants. The cascade: its second network on
   * crops finds turned and occluded faces one look scores too low (80.8% against 78.8% at 95%
   * precision; the flip 79.5%), at 1.39x one look's time on WIDER's photos and 1.62-1.76x at 1080p
   * and 12 MP. 0.588 measured 80.8% at 95.0%, 0.6 80.5% at 95.1%, 0.65 79.9% at 95.9%.
   */
  precision: {
    minScore: 0.6,
    looks: 'cascade',
    measured: { recall: { clean: 96.5, occluded: 57.0, pose: 51.1, blurred: 62.7, all: 80.5 }, precision: 95.1 },
  },
  /**
   * Recall first: what a redaction needs. The cascade again: at 70% precision it finds 6.4 points
   * more of the turned faces than the flip (74.5% against 68.1%), 0.2-0.3 fewer of the clean ones
   * (98.3%) and of all (88.4%), at 1.39x one look's time on WIDER's photos against the flip's 2.06x
   * (1.64-1.78x at 1080p and 12 MP, within the 2x issue 22 allows); its full score curve reaches
   * the plain look's WIDER AP on easy, medium and hard. Under 0.1, fewer than 1 detection in 100
   * is a face (the floor, LOWEST_MIN_SCORE).
   */
  recall: {
    minScore: 0.1,
    looks: 'cascade',
    measured: { recall: { clean: 98.2, occluded: 71.0, pose: 73.9, blurred: 78.1, all: 88.3 }, precision: 70.7 },
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
