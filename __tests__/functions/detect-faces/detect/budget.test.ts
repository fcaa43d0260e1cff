/** Time budget -> detector input pixels. */
import { lambdaCpuShare, networkPixelsForBudget, YUNET_PIXELS_PER_MS } from '../../../../functions/detect-faces/detect/budget';
import { planDetection } from '../../../../functions/detect-faces/detect/plan';

test('pixels are milliseconds times the measured throughput times the CPU share', () => {
  expect(networkPixelsForBudget(100)).toBe(100 * YUNET_PIXELS_PER_MS);
  expect(networkPixelsForBudget(100, 0.5)).toBe(50 * YUNET_PIXELS_PER_MS);
  expect(networkPixelsForBudget(100, 1, 1000)).toBe(100_000);
  expect(networkPixelsForBudget(-5)).toBe(0);
});

test('Lambda: a full vCPU from 1769 MB, in proportion below', () => {
  expect(lambdaCpuShare(1769)).toBe(1);
  expect(lambdaCpuShare(3008)).toBe(1);
  expect(lambdaCpuShare(512)).toBeCloseTo(0.289, 3);
  expect(lambdaCpuShare(1)).toBe(0.05);
});

test('a 12 MP photo at the default smallest face fits a second at 512 MB', () => {
  expect(planDetection(4000, 3000).networkPixels).toBeLessThanOrEqual(networkPixelsForBudget(1000, lambdaCpuShare(512)));
});
