/** Scales and tiles from the smallest face wanted: coverage, overlap, budget. Pure, no OpenCV. */
import { networkPixelsForBudget } from '../../../../functions/detect-faces/detect/budget';
import {
  defaultMinFaceSize,
  finestLevel,
  HAAR_PLAN,
  levelSize,
  planDetection,
  pyramidLevel,
  tilePointToImage,
  tileRectInImage,
  YUNET_PLAN,
  type DetectionPlan,
} from '../../../../functions/detect-faces/detect/plan';

const SIZES: [string, number, number][] = [
  ['500 px', 500, 375],
  ['1080p', 1920, 1080],
  ['12 MP', 4000, 3000],
  ['12 MP portrait', 3000, 4000],
  ['40 MP', 7300, 5475],
  ['panorama', 12000, 2000],
];

describe('default smallest face', () => {
  test('2% of the longer side, never under 20 px', () => {
    expect(defaultMinFaceSize(500, 375)).toBe(20);
    expect(defaultMinFaceSize(1000, 1000)).toBe(20);
    expect(defaultMinFaceSize(1920, 1080)).toBe(39);
    expect(defaultMinFaceSize(3000, 4000)).toBe(80);
    expect(defaultMinFaceSize(7300, 5475)).toBe(146);
  });

  test('a photo more elongated than 16:9 counts as 16:9 around its shorter side', () => {
    // 1080 x 16/9 = 1920: 16:9 itself is as before, in either orientation.
    expect(defaultMinFaceSize(1080, 1920)).toBe(39);
    expect(defaultMinFaceSize(1024, 2449)).toBe(37); // 2% of 1820, not of 2449 (49)
    expect(defaultMinFaceSize(12000, 2000)).toBe(72); // 2% of 3556, not of 12000 (240)
    expect(defaultMinFaceSize(4000, 600)).toBe(22);
    expect(defaultMinFaceSize(4000, 100)).toBe(20);
  });
});

/** Checks every structural promise of a plan. */
function checkPlan(plan: DetectionPlan, params = YUNET_PLAN): void {
  const { width, height } = plan;
  expect(plan.passes.length).toBeGreaterThan(0);
  // Finest first, face ranges contiguous, the last one reaching the largest face the image holds.
  expect(plan.passes[0].minFace).toBeCloseTo(plan.minFaceSize, 6);
  for (let k = 1; k < plan.passes.length; k++) {
    expect(plan.passes[k].scale).toBeLessThan(plan.passes[k - 1].scale);
    expect(plan.passes[k].minFace).toBeLessThanOrEqual(plan.passes[k - 1].maxFace * (1 + 1e-9));
  }
  const last = plan.passes[plan.passes.length - 1];
  expect(last.tiles).toHaveLength(1);
  expect(last.maxFace).toBeGreaterThanOrEqual(Math.min(width, height));
  let pixels = 0;
  for (const pass of plan.passes) {
    for (const t of pass.tiles) {
      pixels += t.input.width * t.input.height;
      expect(t.input.width % params.align).toBe(0);
      expect(t.input.height % params.align).toBe(0);
      expect(t.input.width * t.input.height).toBeLessThanOrEqual(params.maxTilePixels);
      expect(t.level).toBe(pyramidLevel(pass.scale));
      // Inside its pyramid level, read at about the pass's scale (at most 3% coarser: rounding to 32).
      expect(t.source.x).toBeGreaterThanOrEqual(0);
      expect(t.source.y).toBeGreaterThanOrEqual(0);
      expect(t.source.x + t.source.width).toBeLessThanOrEqual(levelSize(width, t.level));
      expect(t.source.y + t.source.height).toBeLessThanOrEqual(levelSize(height, t.level));
      const factor = t.input.width / (t.source.width * 2 ** t.level);
      expect(factor / pass.scale).toBeGreaterThanOrEqual(0.97);
      expect(factor / pass.scale).toBeLessThan(pass.tiles.length === 1 ? 1 + 64 / t.input.width : 1.1);
    }
    if (pass.tiles.length > 1) checkTiling(plan, pass.tiles, pass.maxFace + (2 * params.margin) / pass.scale);
  }
  expect(plan.networkPixels).toBe(pixels);
}

/** Tiles cover the image, and neighbours overlap by at least `overlap` original pixels. */
function checkTiling(plan: DetectionPlan, tiles: DetectionPlan['passes'][number]['tiles'], overlap: number): void {
  const rects = tiles.map((t) => tileRectInImage(t, plan.width, plan.height));
  const xs = [...new Set(rects.map((r) => r.x))].sort((a, b) => a - b);
  const ys = [...new Set(rects.map((r) => r.y))].sort((a, b) => a - b);
  const col = (x: number) => rects.find((r) => r.x === x)!;
  const row = (y: number) => rects.find((r) => r.y === y)!;
  expect(xs[0]).toBe(0);
  expect(ys[0]).toBe(0);
  expect(col(xs[xs.length - 1]).x + col(xs[xs.length - 1]).width).toBe(plan.width);
  expect(row(ys[ys.length - 1]).y + row(ys[ys.length - 1]).height).toBe(plan.height);
  for (let i = 1; i < xs.length; i++) expect(col(xs[i - 1]).x + col(xs[i - 1]).width - xs[i]).toBeGreaterThanOrEqual(overlap);
  for (let i = 1; i < ys.length; i++) expect(row(ys[i - 1]).y + row(ys[i - 1]).height - ys[i]).toBeGreaterThanOrEqual(overlap);
  expect(tiles).toHaveLength(xs.length * ys.length);
}

describe('plans', () => {
  test.each(SIZES)('%s at the default smallest face: well-formed, and the cost does not grow with the image', (_name, w, h) => {
    const plan = planDetection(w, h);
    checkPlan(plan);
    expect(plan.minFaceSize).toBe(defaultMinFaceSize(w, h));
    expect(plan.overBudget).toBe(false);
    // 2% of the longer side (of at most 16:9) at the network's smallest face: about 1400 px on the
    // longer side of that frame, whatever the resolution, plus tile overlap and the coarse passes;
    // a photo longer than the frame, in proportion to its extra length.
    const elongation = Math.max(w, h) / Math.min(w, h) / (16 / 9);
    expect(plan.networkPixels).toBeLessThanOrEqual(2.2e6 * Math.max(1, elongation));
  });

  test('the same panorama at half and at twice the resolution costs the same', () => {
    const costs = [[6000, 1000], [12000, 2000], [24000, 4000]].map(([w, h]) => planDetection(w, h).networkPixels);
    for (const c of costs) expect(c / costs[1]).toBeCloseTo(1, 1);
  });

  test.each(SIZES)('%s with a budget and 10-px faces asked: within the budget, the smallest face that fits', (_name, w, h) => {
    const budget = networkPixelsForBudget(300);
    const plan = planDetection(w, h, { minFaceSize: 10, maxNetworkPixels: budget });
    checkPlan(plan);
    expect(plan.networkPixels).toBeLessThanOrEqual(budget);
    expect(plan.minFaceSize).toBeGreaterThanOrEqual(10);
    if (plan.minFaceSize > 10) {
      // Clamped: one pixel smaller would not have fitted.
      expect(planDetection(w, h, { minFaceSize: plan.minFaceSize - 1 }).networkPixels).toBeGreaterThan(budget);
    }
  });

  test('a small photo is looked at whole, enlarged so that 20-px faces reach the network', () => {
    const plan = planDetection(500, 375);
    expect(plan.passes[0].tiles).toHaveLength(1);
    expect(plan.passes[0].scale).toBeCloseTo(YUNET_PLAN.minNetFace / 20);
    expect(plan.passes[0].tiles[0].level).toBe(0);
  });

  test('12 MP at the default: one tile read from the half-size pyramid level, then a coarse pass', () => {
    const plan = planDetection(4000, 3000);
    expect(plan.passes.map((p) => p.tiles.length)).toEqual([1, 1]);
    expect(plan.passes[0].tiles[0].level).toBe(1);
  });

  test('12 MP for 32-px faces: the fine pass is tiled at full resolution, coarser ones less or not', () => {
    const plan = planDetection(4000, 3000, { minFaceSize: 32 });
    expect(plan.passes[0].tiles.length).toBeGreaterThan(4);
    expect(plan.passes[0].tiles[0].level).toBe(0);
    expect(plan.passes[plan.passes.length - 1].tiles).toHaveLength(1);
  });

  test('min face below what the budget allows is clamped, and the plan says what it serves', () => {
    const plan = planDetection(4000, 3000, { minFaceSize: 20, maxNetworkPixels: 2e6 });
    expect(plan.minFaceSize).toBeGreaterThan(20);
    expect(plan.networkPixels).toBeLessThanOrEqual(2e6);
    expect(planDetection(4000, 3000, { minFaceSize: 20 }).networkPixels).toBeGreaterThan(2e6);
    // A budget that fits: served as asked.
    expect(planDetection(4000, 3000, { minFaceSize: 200, maxNetworkPixels: 2e6 }).minFaceSize).toBe(200);
  });

  test('a budget below any plan: the cheapest plan, flagged', () => {
    const plan = planDetection(4000, 3000, { maxNetworkPixels: 100 });
    expect(plan.overBudget).toBe(true);
    expect(plan.passes).toHaveLength(1);
  });

  test('asked sizes under the floor of 10 px are raised to it; fractions round up', () => {
    expect(planDetection(500, 375, { minFaceSize: 4 }).minFaceSize).toBe(10);
    expect(planDetection(500, 375, { minFaceSize: 31.2 }).minFaceSize).toBe(32);
  });

  test('Haar: one tile of the image scaled so that the smallest face is 28 px at the cascade', () => {
    const plan = planDetection(4000, 3000, {}, HAAR_PLAN);
    expect(plan.passes).toHaveLength(1);
    expect(plan.passes[0].tiles).toHaveLength(1);
    expect(plan.passes[0].scale).toBeCloseTo(28 / 80);
    expect(plan.passes[0].tiles[0].input).toEqual({ width: 1400, height: 1050 });
    const small = planDetection(500, 375, {}, HAAR_PLAN);
    expect(small.passes[0].tiles[0].input).toEqual({ width: 700, height: 525 });
  });
});

describe('tile mapping', () => {
  test('input pixels map back to original pixels exactly, through the pyramid level', () => {
    const tile = {
      level: 2,
      source: { x: 100, y: 50, width: 400, height: 300 },
      input: { width: 320, height: 256 },
      imageEdge: { left: false, top: false, right: false, bottom: false },
    };
    expect(tilePointToImage(tile, 0, 0)).toEqual([400, 200]);
    expect(tilePointToImage(tile, 320, 256)).toEqual([2000, 1400]);
    expect(tilePointToImage(tile, 160, 128)).toEqual([1200, 800]);
    expect(tileRectInImage(tile, 1800, 5000)).toEqual({ x: 400, y: 200, width: 1400, height: 1200 });
  });

  test('pyramid levels: pyrDown sizes, and the level read for a scale', () => {
    expect([0, 1, 2, 3].map((l) => levelSize(4001, l))).toEqual([4001, 2001, 1001, 501]);
    expect([2, 1, 0.75, 0.5, 0.35, 0.25, 0.1].map(pyramidLevel)).toEqual([0, 0, 0, 1, 1, 2, 3]);
  });
});

describe('the finest level a plan reads: what a reduced decode must keep', () => {
  test.each(SIZES)('%s: the smallest level of any tile, and the default reads no full-size pixel from 12 MP up', (_name, width, height) => {
    const plan = planDetection(width, height);
    expect(finestLevel(plan)).toBe(Math.min(...plan.passes.flatMap((p) => p.tiles.map((t) => t.level))));
    if (width * height >= 12e6) expect(finestLevel(plan)).toBeGreaterThanOrEqual(1);
  });
  test('a small face on a large photo, or a small photo, needs full resolution', () => {
    expect(finestLevel(planDetection(4000, 3000, { minFaceSize: 20 }))).toBe(0);
    expect(finestLevel(planDetection(500, 375))).toBe(0);
  });
  test('the coarser the smallest face, the coarser the decode: 12 MP at 80, 160 and 400 px', () => {
    expect([80, 160, 400].map((minFaceSize) => finestLevel(planDetection(4000, 3000, { minFaceSize })))).toEqual([1, 2, 4]);
  });
});
