/** Small faces' YuNet scores stretched towards 1 before the threshold. */
import { calibratedScore, rawThresholdFor } from '../../../../functions/detect-faces/detect/score';

test('faces 48+ px wide at the input keep their score; 28 px and under get half their distance to 1', () => {
  expect(calibratedScore(0.71, 48)).toBeCloseTo(0.71);
  expect(calibratedScore(0.71, 400)).toBeCloseTo(0.71);
  expect(calibratedScore(0.6, 28)).toBeCloseTo(0.8);
  expect(calibratedScore(0.6, 12)).toBeCloseTo(0.8);
  expect(calibratedScore(0.6, 38)).toBeCloseTo(1 - 0.4 * 0.75);
});

test('calibration keeps scores in [0, 1] and their order at one size', () => {
  expect(calibratedScore(1.3, 20)).toBe(1);
  expect(calibratedScore(-0.2, 20)).toBeCloseTo(0.5);
  expect(calibratedScore(0.7, 30)).toBeGreaterThan(calibratedScore(0.65, 30));
});

test('decoding goes down to the lowest raw score that can reach minScore, never under the floor', () => {
  expect(rawThresholdFor(0.8)).toBeCloseTo(0.6);
  expect(rawThresholdFor(0.9)).toBeCloseTo(0.8);
  expect(rawThresholdFor(0.5)).toBeCloseTo(0.05);
  expect(rawThresholdFor(0)).toBe(0.05);
  // Above the floor, whatever would pass once calibrated was decoded.
  for (const min of [0.7, 0.8, 0.95]) expect(calibratedScore(rawThresholdFor(min) - 1e-9, 1)).toBeLessThan(min);
});
