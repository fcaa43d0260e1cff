import { downscaleFactor, iou, LeftEdgeIndex, mapToOriginal, nonMaxSuppression, type Box } from '../../../../functions/detect-faces/detect/boxes';

describe('boxes', () => {
  const box = (x: number, y: number, w: number, h: number, score = 0.9) => ({ x, y, width: w, height: h, score });

  test('iou', () => {
    expect(iou(box(0, 0, 10, 10), box(0, 0, 10, 10))).toBe(1);
    expect(iou(box(0, 0, 10, 10), box(10, 10, 10, 10))).toBe(0);
    expect(iou(box(0, 0, 10, 10), box(5, 0, 10, 10))).toBeCloseTo(50 / 150);
  });

  test('NMS keeps the best of overlapping boxes and all separate ones', () => {
    const kept = nonMaxSuppression([box(0, 0, 10, 10, 0.8), box(1, 1, 10, 10, 0.95), box(50, 50, 10, 10, 0.7)], 0.3);
    expect(kept).toEqual([box(1, 1, 10, 10, 0.95), box(50, 50, 10, 10, 0.7)]);
  });

  test('downscale factor fits the longer side and never enlarges', () => {
    expect(downscaleFactor(4000, 3000, 640)).toBeCloseTo(0.16);
    expect(downscaleFactor(3000, 4000, 640)).toBeCloseTo(0.16);
    expect(downscaleFactor(500, 375, 640)).toBe(1);
  });

  test('boxes map back to the original size, rounded outwards and clipped', () => {
    const mapped = mapToOriginal([box(10.2, 20.7, 30, 40, 0.912345), box(630, 470, 20, 20)], 0.16, 4000, 3000);
    expect(mapped[0]).toEqual({ x: 63, y: 129, width: 189, height: 251, score: 0.9123 });
    expect(mapped[1].x + mapped[1].width).toBeLessThanOrEqual(4000);
    expect(mapped[1].y + mapped[1].height).toBeLessThanOrEqual(3000);
  });

  test('boxes entirely outside the image vanish', () => {
    expect(mapToOriginal([box(-50, -50, 10, 10)], 1, 100, 100)).toEqual([]);
  });
});

describe('NMS and the left-edge index give what comparing every pair gives', () => {
  /** Greedy NMS over every pair: the definition the index must reproduce. */
  const everyPair = (boxes: readonly Box[], threshold: number): Box[] => {
    const kept: Box[] = [];
    for (const b of [...boxes].sort((p, q) => p.score === q.score ? 0 : q.score - p.score)) if (kept.every((k) => iou(k, b) <= threshold)) kept.push(b);
    return kept;
  };
  // A seeded generator: crowds of boxes of mixed sizes, many overlapping, some sharing edges and scores.
  const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  test.each([1, 2, 3, 4, 5])('seed %i: 600 boxes, thresholds 0, 0.3, 0.45', (seed) => {
    const r = random(seed);
    const boxes: Box[] = Array.from({ length: 600 }, () => {
      const side = r() < 0.1 ? 200 + 800 * r() : 5 + 60 * r();
      return { x: Math.round(2000 * r()), y: Math.round(1500 * r()), width: side, height: side * (1 + 0.4 * r()), score: Math.round(r() * 20) / 20 };
    });
    for (const threshold of [0, 0.3, 0.45]) expect(nonMaxSuppression(boxes, threshold, Infinity)).toEqual(everyPair(boxes, threshold));
  });
  test('meeting: exactly the rectangles with a horizontal overlap, whatever their widths', () => {
    const index = new LeftEdgeIndex([{ x: 0, y: 0, width: 1000, height: 5 }, { x: 10, y: 0, width: 5, height: 5 }, { x: 20, y: 0, width: 5, height: 5 }, { x: 15, y: 9, width: 5, height: 5 }]);
    expect([...index.meeting({ x: 15, y: 0, width: 5, height: 5 })].map((b) => b.x)).toEqual([0, 15]);
    expect([...index.meeting({ x: 2000, y: 0, width: 5, height: 5 })]).toEqual([]);
  });
});
