/**
 * Why a labelled face is missed at an operating point: the first stage of the detector at which
 * no box of it (IoU >= 0.5 with the label, the figures' match) is left. Pure; the stages come from
 * the detector's own trace (yunet.ts `LookOptions.trace`) and its answer.
 *
 *   never proposed          no candidate cell of any look, at the raw floor (RAW_SCORE_FLOOR)
 *   suppressed by NMS       a look had a cell on it, YuNet's NMS (IoU 0.3) kept a stronger box
 *                           that does not match it: another labelled face's (a crowd), or a box
 *                           matching no label (its own face's, misplaced)
 *   lost in the fusion      a look kept a box on it, the fused box (flip.ts) no longer matches
 *   at a tile border        the fused box was dropped by the tiles' inner-border rule (merge.ts)
 *   below the threshold     a box on it was left, its calibrated score under the threshold
 *                           (split at half the threshold)
 *   suppressed in the merge a box on it reached the threshold, the merge across tiles and scales
 *                           (NMS 0.3, maxFaces) kept a stronger one that does not match it
 */
import { iou, type Box, type Rect } from '../../functions/detect-faces/detect/boxes';
import { MERGE_IOU } from '../../functions/detect-faces/detect/merge';
import type { TileTrace } from '../../functions/detect-faces/detect/yunet';
import { YUNET_NMS_THRESHOLD } from '../../functions/detect-faces/detect/yunet-decode';
import { CATEGORIES, MIN_SIDE, SIZE_BANDS, type Category, type WiderFace, type WiderImage } from './score';

/** One image's run: each tile's trace, the candidates after the border filter with calibrated scores, the answer (every score). */
export interface ImageRun {
  readonly tiles: readonly TileTrace[];
  readonly calibrated: readonly Box[];
  readonly answer: readonly Box[];
  /** Network-input pixels per original pixel of the plan's finest pass. */
  readonly scale: number;
}

export const CAUSES = [
  'found',
  'never proposed',
  'suppressed by NMS, under another face',
  'suppressed by NMS, under a box matching no face',
  'lost in the fusion of the looks',
  'dropped at a tile border',
  'below the threshold, under half of it',
  'below the threshold, at least half of it',
  'suppressed in the merge, under another face',
  'suppressed in the merge, under a box matching no face',
] as const;
export type Cause = (typeof CAUSES)[number];

const asRect = (f: WiderFace): Rect => ({ x: f.x, y: f.y, width: f.w, height: f.h });
const side = (f: WiderFace) => Math.sqrt(f.w * f.h);
const counted = (f: WiderFace) => !f.invalid && side(f) >= MIN_SIDE;

/** The stage at which `face` of `image` is lost at `threshold` (or 'found'). */
export function missCause(image: WiderImage, face: WiderFace, run: ImageRun, threshold: number): Cause {
  const label = asRect(face);
  const on = (b: Rect) => iou(label, b) >= 0.5;
  if (run.answer.some((b) => b.score >= threshold && on(b))) return 'found';
  const looks = run.tiles.flatMap((t) => t.looks);
  if (!looks.some((l) => l.cells.some(on))) return 'never proposed';
  // Another labelled face's box, or one matching none: a crowd, or the face's own box misplaced.
  const under = (stronger: readonly Box[]) => (stronger.some((b) => image.faces.some((g) => g !== face && iou(asRect(g), b) >= 0.5)) ? 'under another face' : 'under a box matching no face');
  if (!looks.some((l) => l.kept.some(on))) {
    // Per look, the kept boxes that suppressed its best cell on the face.
    const suppressors = looks.flatMap((l) => {
      const cells = l.cells.filter(on);
      if (cells.length === 0) return [];
      const top = cells.reduce((a, b) => (b.score > a.score ? b : a));
      return l.kept.filter((k) => k.score >= top.score && iou(k, top) > YUNET_NMS_THRESHOLD);
    });
    return `suppressed by NMS, ${under(suppressors)}`;
  }
  if (!run.tiles.some((t) => t.fused.some(on))) return 'lost in the fusion of the looks';
  const mine = run.calibrated.filter(on);
  if (mine.length === 0) return 'dropped at a tile border';
  const top = mine.reduce((a, b) => (b.score > a.score ? b : a));
  if (top.score < threshold) return top.score < threshold / 2 ? 'below the threshold, under half of it' : 'below the threshold, at least half of it';
  // The answer's scores are rounded to 4 decimals.
  const suppressors = run.answer.filter((b) => b.score >= top.score - 1e-4 && iou(b, top) > MERGE_IOU);
  return `suppressed in the merge, ${under(suppressors)}`;
}

/** Columns of the miss table: every counted face, per category, per size band, per size at the network's input (finest pass). */
export const INPUT_BANDS = [
  [0, 24],
  [24, 32],
  [32, 48],
  [48, 96],
  [96, Number.POSITIVE_INFINITY],
] as const;

/** A missed face WIDER's attributes call clean: listed one by one, to be looked at (its labels can be wrong). */
export interface CleanMiss {
  readonly file: string;
  readonly face: Rect;
  readonly cause: Cause;
  /** The face's side at the network's input (finest pass). */
  readonly atInput: number;
}

export interface MissTable {
  readonly columns: readonly string[];
  /** Per cause: faces per column. */
  readonly rows: ReadonlyMap<Cause, number[]>;
  readonly cleanMisses: CleanMiss[];
}

/** An empty miss table (every cause, every column at 0). */
export function emptyMissTable(): MissTable {
  const band = (lo: number, hi: number, unit = '') => (Number.isFinite(hi) ? `${lo}-${hi}${unit}` : `${lo}+${unit}`);
  const columns = [...Object.keys(CATEGORIES), ...SIZE_BANDS.map(([lo, hi]) => band(lo, hi, ' px')), ...INPUT_BANDS.map(([lo, hi]) => `${band(lo, hi)} at input`)];
  return { columns, rows: new Map(CAUSES.map((c) => [c, new Array<number>(columns.length).fill(0)])), cleanMisses: [] };
}

/** Adds the counted faces (side >= 20 px, annotator-invalid left out) of one image to `table`, by cause. */
export function countMisses(table: MissTable, image: WiderImage, run: ImageRun, threshold: number): void {
  const categories = Object.keys(CATEGORIES) as Category[];
  for (const face of image.faces) {
    if (!counted(face)) continue;
    const cause = missCause(image, face, run, threshold);
    const row = table.rows.get(cause)!;
    categories.forEach((c, k) => {
      if (CATEGORIES[c](face)) row[k]++;
    });
    const s = side(face);
    row[categories.length + SIZE_BANDS.findIndex(([lo, hi]) => s >= lo && s < hi)]++;
    const atInput = s * run.scale;
    if (cause !== 'found' && CATEGORIES.clean(face)) table.cleanMisses.push({ file: image.file, face: asRect(face), cause, atInput });
    row[categories.length + SIZE_BANDS.length + INPUT_BANDS.findIndex(([lo, hi]) => atInput >= lo && atInput < hi)]++;
  }
}

/** The miss table of whole runs. */
export function missTable(labels: readonly WiderImage[], runs: readonly ImageRun[], threshold: number): MissTable {
  const table = emptyMissTable();
  labels.forEach((image, i) => countMisses(table, image, runs[i], threshold));
  return table;
}
