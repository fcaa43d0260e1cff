/**
 * Runs a detection plan (plan.ts) over an OpenCV image: each tile is cut from its pyramid level and
 * resized to the tile's input size, handed to the detector's look, and its boxes mapped back to the
 * original image's pixels (merge.ts). No full-size copy per scale is made.
 */
import type { Box } from './boxes';
import { facesFromTile } from './merge';
import type { DetectionPlan, Tile } from './plan';
import type { Mat, OpenCv } from '../opencv';

/**
 * Runs `plan` over `image`: each tile is cut from its pyramid level and resized (linear, a factor
 * in (0.5, 1] or an upscale) to the tile's input size, then handed to `detectTile`, which returns
 * boxes in input pixels. Pyramid levels are made on first use and freed at the end, tiles at once:
 * memory is the image, a third of it for the pyramid, and one tile. `image` is pyramid level
 * `baseLevel` (a decode at 1/2^baseLevel of the photo's size); the plan must read no finer level.
 */
export function runPlan<T extends Box>(cv: OpenCv, image: Mat, plan: DetectionPlan, margin: number, detectTile: (input: Mat, tile: Tile) => T[], baseLevel = 0): T[] {
  const levels: Mat[] = [];
  levels[baseLevel] = image;
  const level = (j: number) => {
    if (j < baseLevel) throw new Error(`the plan reads pyramid level ${j}, finer than the image's ${baseLevel}`);
    while (levels.length <= j) {
      const up = levels[levels.length - 1];
      // Half size by a linear resize: at a factor of 2 that is the 2x2 average (area), and 3x
      // cheaper than pyrDown's 5x5 Gaussian (12 MP: 11 vs 33 ms). Sizes as pyrDown's: ceil(n / 2).
      levels.push(up.resize(Math.ceil(up.rows / 2), Math.ceil(up.cols / 2), 0, 0, cv.INTER_LINEAR));
    }
    return levels[j];
  };
  const found: T[] = [];
  try {
    for (const pass of plan.passes) {
      for (const tile of pass.tiles) {
        const { x, y, width, height } = tile.source;
        const src = level(tile.level);
        const region = x === 0 && y === 0 && width === src.cols && height === src.rows ? src : src.getRegion(new cv.Rect(x, y, width, height));
        const same = width === tile.input.width && height === tile.input.height;
        const input = same ? region : region.resize(tile.input.height, tile.input.width, 0, 0, cv.INTER_LINEAR);
        try {
          found.push(...facesFromTile(detectTile(input, tile), tile, margin));
        } finally {
          if (input !== src) input.release();
          if (region !== src && region !== input) region.release();
        }
      }
    }
  } finally {
    for (const m of levels.slice(baseLevel + 1)) m.release();
  }
  return found;
}
