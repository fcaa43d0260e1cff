/** EXIF orientation as geometry: every viewer pixel maps to the stored pixel the viewer shows there. */
import type { Orientation } from '../../../../functions/detect-faces/output/metadata';
import { storedRect, swapsAxes } from '../../../../functions/detect-faces/output/orientation';

/** The photo as the viewer sees it, from the stored pixels, by TIFF's description of each orientation. */
function viewed(stored: number[][], orientation: Orientation): number[][] {
  const H = stored.length;
  const W = stored[0].length;
  const grid = (rows: number, cols: number, at: (r: number, c: number) => number) => Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => at(r, c)));
  switch (orientation) {
    case 1: return stored;
    case 2: return grid(H, W, (r, c) => stored[r][W - 1 - c]); // mirrored
    case 3: return grid(H, W, (r, c) => stored[H - 1 - r][W - 1 - c]); // turned a half
    case 4: return grid(H, W, (r, c) => stored[H - 1 - r][c]); // flipped
    case 5: return grid(W, H, (r, c) => stored[c][r]); // transposed
    case 6: return grid(W, H, (r, c) => stored[H - 1 - c][r]); // turned a quarter clockwise
    case 7: return grid(W, H, (r, c) => stored[H - 1 - c][W - 1 - r]); // transversed
    case 8: return grid(W, H, (r, c) => stored[c][W - 1 - r]); // turned a quarter counter-clockwise
  }
}

test.each([1, 2, 3, 4, 5, 6, 7, 8] as const)('orientation %i: each viewer pixel is the stored pixel storedRect names', (orientation) => {
  const W = 5;
  const H = 3;
  const stored = Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => y * W + x));
  const view = viewed(stored, orientation);
  expect([view[0].length, view.length]).toEqual(swapsAxes(orientation) ? [H, W] : [W, H]);
  view.forEach((row, v) =>
    row.forEach((id, u) => {
      const r = storedRect({ x: u, y: v, width: 1, height: 1 }, orientation, W, H);
      expect([r.width, r.height, stored[r.y][r.x]]).toEqual([1, 1, id]);
    }),
  );
});

test('a box keeps its pixels: a 2x1 viewer box on a photo stored turned (6, 8) is 1x2 stored', () => {
  expect(storedRect({ x: 1, y: 0, width: 2, height: 1 }, 6, 5, 3)).toEqual({ x: 0, y: 0, width: 1, height: 2 });
  expect(storedRect({ x: 1, y: 0, width: 2, height: 1 }, 8, 5, 3)).toEqual({ x: 4, y: 1, width: 1, height: 2 });
  expect(storedRect({ x: 10, y: 20, width: 30, height: 40 }, 1, 500, 400)).toEqual({ x: 10, y: 20, width: 30, height: 40 });
});
