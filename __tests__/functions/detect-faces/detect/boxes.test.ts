import { downscaleFactor, iou, mapToOriginal, nonMaxSuppression } from '../../../../functions/detect-faces/detect/boxes';

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
