/** Redaction geometry and strengths: padded regions clipped to the image, strengths that scale with the face. */
import { blurPlan, paddedRegion, pixelCell, PIXELATE_CELLS_ACROSS, redactionShape } from '../../../../functions/detect-faces/output/redact-plan';

describe('padded region', () => {
  test('grows by the fraction on each side', () => {
    expect(paddedRegion({ x: 100, y: 100, width: 40, height: 60 }, 0.25, 1000, 1000)).toEqual({ x: 90, y: 85, width: 60, height: 90 });
    expect(paddedRegion({ x: 100, y: 100, width: 40, height: 60 }, 0, 1000, 1000)).toEqual({ x: 100, y: 100, width: 40, height: 60 });
  });
  test('clipped at the image edges, never outside', () => {
    expect(paddedRegion({ x: 2, y: 3, width: 40, height: 40 }, 0.5, 50, 45)).toEqual({ x: 0, y: 0, width: 50, height: 45 });
  });
  test('a box outside the image leaves nothing', () => {
    expect(paddedRegion({ x: 60, y: 10, width: 10, height: 10 }, 0, 50, 50)).toBeUndefined();
  });
  test('fractional boxes cover every pixel they touch', () => {
    expect(paddedRegion({ x: 10.4, y: 10.6, width: 9.2, height: 9.1 }, 0, 100, 100)).toEqual({ x: 10, y: 10, width: 10, height: 10 });
  });
});

test('an ellipse is drawn only where the padded region is whole; one cut by the image edge is redacted as its rectangle (an ellipse in the cut rectangle narrows where the face is)', () => {
  const ellipse = { shape: 'ellipse', padding: 0.4 } as const;
  expect(redactionShape({ x: 100, y: 100, width: 50, height: 50 }, ellipse, 400, 300)).toBe('ellipse');
  // Padding 0.4 of 50 = 20: the region reaches x 80-170, y 80-170.
  expect(redactionShape({ x: 19, y: 100, width: 50, height: 50 }, ellipse, 400, 300)).toBe('rect');
  expect(redactionShape({ x: 20, y: 20, width: 50, height: 50 }, ellipse, 90, 90)).toBe('ellipse');
  expect(redactionShape({ x: 20, y: 20, width: 50, height: 50 }, ellipse, 89, 90)).toBe('rect');
  expect(redactionShape({ x: 100, y: 231, width: 50, height: 50 }, ellipse, 400, 300)).toBe('rect');
  expect(redactionShape({ x: 100, y: 100, width: 50, height: 50 }, { shape: 'rect', padding: 0.4 }, 400, 300)).toBe('rect');
});

test('pixel cells: about the same number across every face size, at least 2 px', () => {
  for (const side of [12, 37, 120, 600, 3000]) {
    const cell = pixelCell({ x: 0, y: 0, width: side, height: side });
    expect(cell).toBeGreaterThanOrEqual(2);
    expect(Math.ceil(side / cell)).toBeLessThanOrEqual(PIXELATE_CELLS_ACROSS);
  }
});

test('blur: sigma proportional to the face, run shrunk so the kernel stays small whatever the face', () => {
  const small = blurPlan({ x: 0, y: 0, width: 40, height: 50 });
  const big = blurPlan({ x: 0, y: 0, width: 400, height: 500 });
  expect(big.sigma / small.sigma).toBeCloseTo(10, 5);
  for (const p of [small, big]) {
    expect(p.size % 2).toBe(1);
    expect(p.size).toBeGreaterThanOrEqual(6 * p.smallSigma);
    expect(p.size).toBeLessThanOrEqual(15);
    expect(p.smallSigma * p.factor).toBeCloseTo(p.sigma, 5);
  }
  // A tiny face is blurred at full size.
  expect(blurPlan({ x: 0, y: 0, width: 8, height: 8 }).factor).toBe(1);
});
