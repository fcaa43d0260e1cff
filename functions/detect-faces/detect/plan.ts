/**
 * Where and at what scales a detector looks, from the smallest face wanted: pure arithmetic, no
 * OpenCV, so it is unit-tested and the cost of a request is known before any pixel is touched.
 *
 * A detector finds faces of a limited size range at its input (YuNet: about `minNetFace` to
 * `maxNetFace` pixels). The finest scale maps the smallest wanted face to `minNetFace`; each coarser
 * scale takes over where the previous one stops, until the whole image fits one tile whose range
 * reaches the largest face the image can hold. A scale too large for one tile is cut into
 * overlapping tiles whose overlap holds the largest face that scale is responsible for (plus a
 * margin on both sides), so every such face lies whole, away from inner borders, in some tile.
 *
 * Tiles are read from a 2x pyramid (level j is the image halved j times, each time a 2x2 average)
 * and resized from there by a factor in (0.5, 1] (or up, for small images), so no full-size copy
 * per scale is made and the shrink stays cheap and alias-free enough (area average, then linear). Tile sides are multiples
 * of 32 (YuNet 2023mar through cv.dnn needs that), so there is no padding.
 */

export interface PlanParams {
  /** Face side (pixels at the detector's input) from which the detector finds faces reliably. */
  readonly minNetFace: number;
  /** Largest face side at the detector's input it still finds; bounds a single-tile scale. */
  readonly maxNetFace: number;
  /** Ratio between the face ranges of consecutive tiled scales (largest / smallest face). */
  readonly tiledRatio: number;
  /** Pixels at the detector's input kept clear of an inner tile border (boxes there are dropped). */
  readonly margin: number;
  /** Largest tile, in input pixels: bounds the detector's memory whatever the image. */
  readonly maxTilePixels: number;
  /** Tile sides are multiples of this. */
  readonly align: number;
}

/** YuNet 2023mar through cv.dnn; see docs/detection.md, "Detection at real sizes", for the measurements. */
export const YUNET_PLAN: PlanParams = {
  minNetFace: 24,
  maxNetFace: 288,
  tiledRatio: 4,
  margin: 8,
  maxTilePixels: 1_200_000,
  align: 32,
};

/**
 * Haar frontal-face cascade: detectMultiScale builds its own pyramid upwards from its minimum size
 * over the whole input, so one tile of the scaled image, any size (memory: that grey copy). Its
 * window is 20x20, but faces mapped to 28 px are found more often (bench: recall on the 12 MP
 * groups mosaic 0.58 at 20 px, 0.69 at 28, 0.71 at 36, at 1.5x the time).
 */
export const HAAR_PLAN: PlanParams = {
  minNetFace: 28,
  maxNetFace: Number.POSITIVE_INFINITY,
  tiledRatio: 4,
  margin: 0,
  maxTilePixels: Number.POSITIVE_INFINITY,
  align: 1,
};

/** The request-level floor on `minFaceSize`. */
export const MIN_FACE_SIZE_FLOOR = 10;

/**
 * Default smallest face side, in original pixels: 2% of the longer side (Rekognition's floor is
 * about 2.1%), never under 20 px; a photo more elongated than 16:9 (a tall phone photo, a
 * panorama) counts as 16:9 around its shorter side, since its faces are no larger for its length.
 * On WIDER FACE's development subset that frame found 2 more of 653 clean faces at the redaction
 * default, all in photos taller than 16:9 (1.005x one look's time on 55 of them); 1080p and 4:3 photos are as
 * before (docs/detection.md).
 */
export function defaultMinFaceSize(width: number, height: number): number {
  const framed = Math.min(Math.max(width, height), (16 * Math.min(width, height)) / 9);
  return Math.max(20, Math.ceil(0.02 * framed));
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Tile {
  /** Pyramid level the tile is read from: the image halved `level` times. */
  readonly level: number;
  /** Source rectangle, in the pixels of that pyramid level (inside it). */
  readonly source: Rect;
  /** Size fed to the detector (multiples of `align`). */
  readonly input: { readonly width: number; readonly height: number };
  /** Which sides of the tile are image borders (a box may touch those). */
  readonly imageEdge: { readonly left: boolean; readonly top: boolean; readonly right: boolean; readonly bottom: boolean };
}

export interface ScalePass {
  /** Detector input pixels per original pixel. */
  readonly scale: number;
  /** Face sides, original pixels, this pass is responsible for: [minFace, maxFace). */
  readonly minFace: number;
  readonly maxFace: number;
  readonly tiles: readonly Tile[];
}

export interface DetectionPlan {
  readonly width: number;
  readonly height: number;
  /** Smallest face side served, original pixels (>= the one asked; larger when the budget says so). */
  readonly minFaceSize: number;
  /** Finest first. */
  readonly passes: readonly ScalePass[];
  /** Sum of the tiles' input pixels: what the detector's time is proportional to. */
  readonly networkPixels: number;
  /** True when even the cheapest plan exceeds `maxNetworkPixels` (a budget below one small pass). */
  readonly overBudget: boolean;
}

export interface PlanRequest {
  /** Smallest face side wanted, original pixels; default `defaultMinFaceSize`. */
  readonly minFaceSize?: number;
  /** Upper bound on `networkPixels`. */
  readonly maxNetworkPixels?: number;
}

/**
 * The finest pyramid level any tile of `plan` reads: the image decoded at 1/2^that of its size
 * (libjpeg's DCT scaling) is all the plan needs. 0 when a pass reads full resolution.
 */
export function finestLevel(plan: DetectionPlan): number {
  return Math.min(...plan.passes.flatMap((p) => p.tiles.map((t) => t.level)));
}

/** Size of pyramid level `level` of a `size`-pixel side: ceil(n / 2) each time (as pyrDown). */
export function levelSize(size: number, level: number): number {
  let n = size;
  for (let i = 0; i < level; i++) n = Math.ceil(n / 2);
  return n;
}

/** The plan for a `width` x `height` image; the finest scale that fits the budget. */
export function planDetection(width: number, height: number, request: PlanRequest = {}, params: PlanParams = YUNET_PLAN): DetectionPlan {
  if (!(width >= 1 && height >= 1)) throw new Error(`image size must be positive, got ${width}x${height}`);
  const wanted = Math.max(MIN_FACE_SIZE_FLOOR, Math.ceil(request.minFaceSize ?? defaultMinFaceSize(width, height)));
  const budget = request.maxNetworkPixels ?? Number.POSITIVE_INFINITY;
  const first = planFor(width, height, wanted, params);
  if (first.networkPixels <= budget) return first;
  // Cost falls as the smallest face grows: find the smallest face size that fits (binary search,
  // then a check, since tile rounding makes the cost only roughly monotonic).
  const largest = Math.max(wanted, Math.min(width, height));
  let lo = wanted;
  let hi = largest;
  if (planFor(width, height, hi, params).networkPixels > budget) return { ...planFor(width, height, hi, params), overBudget: true };
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (planFor(width, height, mid, params).networkPixels <= budget) hi = mid;
    else lo = mid;
  }
  return planFor(width, height, hi, params);
}

function planFor(width: number, height: number, minFaceSize: number, p: PlanParams): DetectionPlan {
  const passes: ScalePass[] = [];
  let scale = p.minNetFace / minFaceSize;
  const shorter = Math.min(width, height);
  // A face is at most as large as the image's shorter side; stop once a pass covers that.
  for (;;) {
    const single = singleTile(width, height, scale, p);
    if (single) {
      const maxFace = p.maxNetFace / scale;
      passes.push({ scale, minFace: p.minNetFace / scale, maxFace, tiles: [single] });
      if (shorter <= maxFace) break;
      scale *= p.minNetFace / p.maxNetFace;
    } else {
      const maxNet = p.minNetFace * p.tiledRatio;
      const tiles = tiledPass(width, height, scale, maxNet + 2 * p.margin, p);
      passes.push({ scale, minFace: p.minNetFace / scale, maxFace: maxNet / scale, tiles });
      scale /= p.tiledRatio;
    }
  }
  const networkPixels = passes.reduce((n, s) => n + s.tiles.reduce((m, t) => m + t.input.width * t.input.height, 0), 0);
  return { width, height, minFaceSize, passes, networkPixels, overBudget: false };
}

const ceilTo = (n: number, step: number) => Math.max(step, Math.ceil(n / step) * step);

/** Pyramid level to read a pass at `scale` from: the smallest image still at least that large. */
export function pyramidLevel(scale: number): number {
  return scale >= 1 ? 0 : Math.floor(Math.log2(1 / scale) + 1e-9);
}

/** The multiple of `step` nearest to `n` when that loses under 3% of it, else the next one up. */
function nearTo(n: number, step: number): number {
  const near = Math.max(step, Math.round(n / step) * step);
  return near >= 0.97 * n ? near : ceilTo(n, step);
}

function singleTile(width: number, height: number, scale: number, p: PlanParams): Tile | undefined {
  // Nearest rather than up: a 12 MP image at the default is 1200x900 at the input, 1184x896
  // costs 6% less than 1216x928 for a scale 1.3% smaller.
  const iw = nearTo(width * scale, p.align);
  const ih = nearTo(height * scale, p.align);
  if (iw * ih > p.maxTilePixels) return undefined;
  const level = pyramidLevel(scale);
  const source = { x: 0, y: 0, width: levelSize(width, level), height: levelSize(height, level) };
  return { level, source, input: { width: iw, height: ih }, imageEdge: { left: true, top: true, right: true, bottom: true } };
}

/**
 * Tiles of one pass, overlapping by at least `overlap` input pixels: the tile counts whose
 * tiles fit `maxTilePixels` with the fewest input pixels in all, spread evenly from edge to edge.
 */
function tiledPass(width: number, height: number, scale: number, overlap: number, p: PlanParams): Tile[] {
  const level = pyramidLevel(scale);
  const lw = levelSize(width, level);
  const lh = levelSize(height, level);
  // Input pixels per level pixel.
  const factor = scale * 2 ** level;
  const fullW = lw * factor;
  const fullH = lh * factor;
  // One level pixel of slack: tile starts are rounded to whole level pixels.
  const need = overlap + 2 * factor;
  // Tiles narrower than twice the overlap would spend more than half their pixels on it.
  const maxN = (full: number) => Math.max(1, Math.ceil(full / need) + 1);
  let best: { nx: number; ny: number; tw: number; th: number; cost: number } | undefined;
  for (let nx = 1; nx <= maxN(fullW); nx++) {
    const tw = ceilTo((fullW + (nx - 1) * need) / nx, p.align);
    for (let ny = 1; ny <= maxN(fullH); ny++) {
      const th = ceilTo((fullH + (ny - 1) * need) / ny, p.align);
      if (tw * th > p.maxTilePixels) continue;
      const cost = nx * ny * tw * th;
      if (!best || cost < best.cost) best = { nx, ny, tw, th, cost };
      break; // more rows only cost more once the tile fits
    }
  }
  if (!best) throw new Error(`no tiling of ${width}x${height} at scale ${scale} fits ${p.maxTilePixels} pixels with overlap ${overlap}`);
  const xs = spans(lw, best.nx, best.tw / factor);
  const ys = spans(lh, best.ny, best.th / factor);
  const tiles: Tile[] = [];
  for (let j = 0; j < ys.length; j++) {
    for (let i = 0; i < xs.length; i++) {
      tiles.push({
        level,
        source: { x: xs[i].start, y: ys[j].start, width: xs[i].length, height: ys[j].length },
        input: { width: best.tw, height: best.th },
        imageEdge: { left: i === 0, top: j === 0, right: i === xs.length - 1, bottom: j === ys.length - 1 },
      });
    }
  }
  return tiles;
}

/** `n` intervals of about `length` (rounded up, at most `size`) from 0 to `size`, evenly spread. */
function spans(size: number, n: number, length: number): { start: number; length: number }[] {
  if (n === 1) return [{ start: 0, length: size }];
  const len = Math.min(size, Math.ceil(length));
  // Starts rounded down: the overlap can only grow.
  return Array.from({ length: n }, (_, i) => ({ start: i === n - 1 ? size - len : Math.floor((i * (size - len)) / (n - 1)), length: len }));
}

/** A tile's source rectangle in original-image pixels (clipped to the image). */
export function tileRectInImage(tile: Tile, width: number, height: number): Rect {
  const f = 2 ** tile.level;
  const x = tile.source.x * f;
  const y = tile.source.y * f;
  return { x, y, width: Math.min(width, (tile.source.x + tile.source.width) * f) - x, height: Math.min(height, (tile.source.y + tile.source.height) * f) - y };
}

/** Maps a point at the detector's input of `tile` to original-image pixels (unclipped). */
export function tilePointToImage(tile: Tile, u: number, v: number): [number, number] {
  const f = 2 ** tile.level;
  return [(tile.source.x + (u * tile.source.width) / tile.input.width) * f, (tile.source.y + (v * tile.source.height) / tile.input.height) * f];
}
