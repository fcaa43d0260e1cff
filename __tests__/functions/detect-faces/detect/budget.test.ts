/** Time budget -> detector input pixels. */
import { lambdaCpuShare, LOOKS_COST, networkPixelsForBudget, YUNET_PIXELS_PER_MS } from '../../../../functions/detect-faces/detect/budget';
import { createYunetDetector } from '../../../../functions/detect-faces/detect/yunet';
import { fakeOpenCv } from '../../../helpers/fake-opencv';
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

test('a second look halves the plan a budget buys: the detector plans the flip and the cascade as one look at half the pixels', () => {
  const detector = createYunetDetector(fakeOpenCv().cv, { yunet: 'yunet.onnx', yunet2022: 'yunet-2022.onnx', yunetN: 'yunet-n.onnx' });
  // 12 MP at a 20 px smallest face, under budgets that force coarser plans: each level the plan reads.
  for (const pixels of [1e6, 3e6, 8e6]) {
    const one = detector.finestLevel(4000, 3000, { minFaceSize: 20, looks: 'single', maxNetworkPixels: pixels / LOOKS_COST.cascade });
    expect(detector.finestLevel(4000, 3000, { minFaceSize: 20, looks: 'cascade', maxNetworkPixels: pixels })).toBe(one);
    expect(detector.finestLevel(4000, 3000, { minFaceSize: 20, looks: 'flip', maxNetworkPixels: pixels })).toBe(detector.finestLevel(4000, 3000, { minFaceSize: 20, looks: 'single', maxNetworkPixels: pixels / LOOKS_COST.flip }));
  }
  // Not every budget gives one look the same plan as two looks: the cost is counted.
  const levels = [1e6, 3e6, 8e6].map((p) => [detector.finestLevel(4000, 3000, { minFaceSize: 20, looks: 'single', maxNetworkPixels: p }), detector.finestLevel(4000, 3000, { minFaceSize: 20, looks: 'cascade', maxNetworkPixels: p })]);
  expect(levels.some(([single, cascade]) => cascade > single)).toBe(true);
});
