/**
 * Where a second network looks in a cascade, and what it finds there: square crops of a look's
 * input around the look's strong faces (overlapping crops merged where that costs no more
 * pixels), and the second network's faces in a crop kept only when the crop holds them whole,
 * brought back to the input's pixels. Pure. The second network is YuNet 2022mar (yunet-2022.ts);
 * docs/detection.md, "What was tried", has the measurements.
 */
import type { Box, Rect } from './boxes';
import { awayFromInnerEdges, facesFromTile, tileFacesToImage } from './merge';
import type { Tile } from './plan';
import { YUNET_2022_ALIGN } from './yunet-2022';

/** The size of the input the crops are cut from (a tile's network input, plan.ts). */
export interface InputSize {
  readonly inputWidth: number;
  readonly inputHeight: number;
}

export interface CropOptions {
  /** Lowest (raw) score of a face that gets a crop. @default 0.2 */
  readonly minScore?: number;
  /** A crop's side, as a multiple of its face's larger side (clipped to the input). @default 3 */
  readonly sideFactor?: number;
  /** Smallest crop side, input pixels: YuNet 2022mar pads its input to multiples of 64 anyway. @default 64 */
  readonly minSide?: number;
  /**
   * Most of the input's area the crops may add up to, each counted padded to multiples of `align`
   * (a fraction: the pixels the second network is fed, its cost). Faces are taken strongest first;
   * a face whose crop would pass the limit gets none (weaker ones may, when theirs fits or is
   * already covered): the fusion then calls it `unseen`, calibrated apart (heldByCrops;
   * CROP_DEFAULTS has the figures). @default 0.6
   */
  readonly maxArea?: number;
  /** The second network pads each crop to multiples of this (yunet-2022.ts). @default YUNET_2022_ALIGN (64) */
  readonly align?: number;
}

/**
 * CropOptions' defaults: the cascade both operating points run (contract/operating-points.ts).
 * On the WIDER FACE development subset (docs/detection.md; faces >= 20 px, IoU 0.5, a calibration
 * table per agreement re-fitted), YuNet 2022mar on these crops, fused with the first look, finds
 * 89.3% of the faces at 70% precision (one look: 87.8%; turned faces 76.1%, one look 67.6%) and
 * 81.0% at 95% (one look 78.7%). Crops from 0.2 rather than 0.5: +0.5 point at 70%, the second
 * network fed 0.30 of the first look's pixels rather than 0.24; from 0.1, no more faces for 0.37.
 * With no area limit (crops from 0.5) it found 80.7% at 95% with its crops covering 0.91 of the
 * input once padded (1.84-2.19x one look's time); the cap bounds the second network's pixels
 * wherever the faces are many. A first-look face no crop holds is calibrated apart (`unseen`,
 * heldByCrops): taken as if the second network had looked and not found it, the box's recall fell
 * to 76.0%.
 */
export const CROP_DEFAULTS: Required<CropOptions> = { minScore: 0.2, sideFactor: 3, minSide: 64, maxArea: 0.6, align: YUNET_2022_ALIGN };

/**
 * Crops of the input (`candidates` in its pixels), whole pixels, inside it: for each face scoring
 * at least `minScore`, strongest first, a square of `sideFactor` x its larger side (at least
 * `minSide`) centred on it, shifted inside the input and clipped to it; a crop overlapping
 * another is merged with it into their bounding box when that box's area is at most the two
 * areas summed (repeated while any pair merges); the crops' areas add up to at most `maxArea` of
 * the input's, each counted padded to multiples of `align`. Each crop in the place of the strongest
 * face it holds: strongest first.
 */
export function cropsAround(candidates: readonly Box[], input: InputSize, options: CropOptions = {}): Rect[] {
  const { inputWidth: width, inputHeight: height } = input;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`cropsAround: the input must be whole pixels wide and high, got ${width}x${height}`);
  }
  const minScore = options.minScore ?? CROP_DEFAULTS.minScore;
  const sideFactor = options.sideFactor ?? CROP_DEFAULTS.sideFactor;
  const minSide = options.minSide ?? CROP_DEFAULTS.minSide;
  const maxArea = options.maxArea ?? CROP_DEFAULTS.maxArea;
  const align = options.align ?? CROP_DEFAULTS.align;
  if (!(sideFactor > 0)) throw new RangeError(`cropsAround: sideFactor must be positive, got ${sideFactor}`);
  if (!(minSide >= 1)) throw new RangeError(`cropsAround: minSide must be at least 1 pixel, got ${minSide}`);
  if (!(maxArea > 0)) throw new RangeError(`cropsAround: maxArea must be positive, got ${maxArea}`);
  if (!(Number.isInteger(align) && align >= 1)) throw new RangeError(`cropsAround: align must be a whole number of pixels, got ${align}`);
  const padded = (r: Rect) => Math.ceil(r.width / align) * align * Math.ceil(r.height / align) * align;
  const budget = maxArea * width * height;
  const strongest = candidates
    .filter((f) => f.score >= minScore && [f.x, f.y, f.width, f.height].every(Number.isFinite))
    // Array.prototype.sort is stable: equal scores keep the candidates' order.
    .sort((a, b) => b.score - a.score);
  let crops: Rect[] = [];
  for (const face of strongest) {
    const side = Math.max(minSide, Math.ceil(sideFactor * Math.max(face.width, face.height)));
    const next = withCrop(crops, squareAround(face, side, width, height));
    // The crops with this face's merged in; over the budget, this face gets none.
    if (next.reduce((sum, r) => sum + padded(r), 0) <= budget) crops = next;
  }
  return crops;
}

/**
 * The order to look at `crops` in: those of one padded shape (multiples of `align`, as the second
 * network is fed them) together, the shapes in the order they first appear. cv.dnn sets a network
 * up anew whenever its input's shape changes; on the 12 MP crowd of the real-size bench (28 crops
 * of 9 shapes, 21 changes in crop order) looking in this order took the second look from 112 to
 * 93 ms (medians of 9 interleaved runs, one thread). Indices into `crops`. Pure.
 */
export function lookOrder(crops: readonly Rect[], align: number = CROP_DEFAULTS.align): number[] {
  const shape = (r: Rect) => `${Math.ceil(r.width / align)}x${Math.ceil(r.height / align)}`;
  const groups = new Map<string, number[]>();
  crops.forEach((r, i) => {
    const key = shape(r);
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  return [...groups.values()].flat();
}

/** A `side` square centred on `face`, shifted inside the input and clipped to it. */
function squareAround(face: Box, side: number, width: number, height: number): Rect {
  const w = Math.min(side, width);
  const h = Math.min(side, height);
  const x = Math.min(Math.max(Math.round(face.x + face.width / 2 - w / 2), 0), width - w);
  const y = Math.min(Math.max(Math.round(face.y + face.height / 2 - h / 2), 0), height - h);
  return { x, y, width: w, height: h };
}

/**
 * `crops` (no two of which merge) with `added`: while the new crop overlaps one whose bounding box
 * with it is no larger than the two summed, the two become that box, in the earlier one's place.
 * Only the growing crop can merge: the others did not before.
 */
function withCrop(crops: readonly Rect[], added: Rect): Rect[] {
  const out = [...crops, added];
  let grown = out.length - 1;
  for (let i = 0; i < out.length; i++) {
    if (i === grown) continue;
    const union = boundingBox(out[grown], out[i]);
    if (overlaps(out[grown], out[i]) && area(union) <= area(out[grown]) + area(out[i])) {
      const [first, second] = i < grown ? [i, grown] : [grown, i];
      out[first] = union;
      out.splice(second, 1);
      grown = first;
      i = -1;
    }
  }
  return out;
}

const area = (r: Rect): number => r.width * r.height;

/** A positive area in common (touching edges is not overlapping). */
function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function boundingBox(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/** Pixels a face may reach past a crop's side inside the input and still count as whole (a network's boxes are not exact). */
export const CROP_EDGE_TOLERANCE = 1;

/**
 * The faces a network found in `crop` (boxes and landmarks in the crop's pixels) that the crop
 * holds whole, in the input's pixels: a face reaching more than CROP_EDGE_TOLERANCE past a side of
 * the crop inside the input is cut there and dropped; past a side on the input's border nothing is
 * cut. Other fields are carried as they are.
 */
export function keepInsideCrop<T extends Box>(faces: readonly T[], crop: Rect, input: InputSize): T[] {
  return facesFromTile(faces, cropTile(crop, input), -CROP_EDGE_TOLERANCE);
}

/** Every face a network found in `crop` (crop pixels), in the input's pixels, whole or cut (the bench's traces). */
export function fromCrop<T extends Box>(faces: readonly T[], crop: Rect, input: InputSize): T[] {
  return tileFacesToImage(faces, cropTile(crop, input));
}

/**
 * For each face (in the input's pixels, e.g. the first look's), whether some crop holds it whole,
 * as keepInsideCrop judges a face found in that crop: whether the second network looked at it.
 * A face no crop holds is one the second network never saw, not one it rejected.
 */
export function heldByCrops(faces: readonly Box[], crops: readonly Rect[], input: InputSize): boolean[] {
  const tiles = crops.map((crop) => cropTile(crop, input));
  return faces.map((f) => tiles.some((tile) => awayFromInnerEdges([{ ...f, x: f.x - tile.source.x, y: f.y - tile.source.y }], tile, -CROP_EDGE_TOLERANCE).length > 0));
}

/**
 * A crop as a tile of the input at scale 1, for the plan's tile border filter and mapping
 * (merge.ts), used with a margin of minus the tolerance: only the crop's sides inside the input cut.
 */
function cropTile(crop: Rect, input: InputSize): Tile {
  return {
    level: 0,
    source: crop,
    input: { width: crop.width, height: crop.height },
    imageEdge: { left: crop.x <= 0, top: crop.y <= 0, right: crop.x + crop.width >= input.inputWidth, bottom: crop.y + crop.height >= input.inputHeight },
  };
}
