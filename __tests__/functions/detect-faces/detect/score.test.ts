/** Small faces' YuNet scores raised to a power under 1 before the threshold. */
import { calibratedScore, FULL_STRETCH_EXPONENT, RAW_SCORE_FLOOR, rawThresholdFor } from '../../../../functions/detect-faces/detect/score';

test('faces 48+ px wide at the input keep their score; at 28 px and under a raw 0.6 reports as 0.8', () => {
  expect(calibratedScore(0.71, 48)).toBeCloseTo(0.71);
  expect(calibratedScore(0.71, 400)).toBeCloseTo(0.71);
  expect(calibratedScore(0.6, 28)).toBeCloseTo(0.8);
  expect(calibratedScore(0.6, 12)).toBeCloseTo(0.8);
  // Halfway, the exponent is halfway.
  expect(calibratedScore(0.6, 38)).toBeCloseTo(0.6 ** ((FULL_STRETCH_EXPONENT + 1) / 2));
});

test('weak raw scores stay weak: texture at raw 0.05 reports under 0.3 even at full stretch', () => {
  expect(calibratedScore(0.05, 12)).toBeLessThan(0.3);
  expect(calibratedScore(0.05, 48)).toBeCloseTo(0.05);
  expect(calibratedScore(0, 12)).toBe(0);
});

test('calibration keeps scores in [0, 1] and their order at one size', () => {
  expect(calibratedScore(1.3, 20)).toBe(1);
  expect(calibratedScore(-0.2, 20)).toBe(0);
  for (const width of [10, 30, 40, 60]) expect(calibratedScore(0.7, width)).toBeGreaterThan(calibratedScore(0.65, width));
  // A face never loses score by being smaller.
  expect(calibratedScore(0.5, 20)).toBeGreaterThan(calibratedScore(0.5, 40));
});

test('decoding goes down to the lowest raw score that can reach minScore at any size', () => {
  expect(rawThresholdFor(0.8)).toBeCloseTo(0.6);
  expect(rawThresholdFor(1)).toBe(1);
  // Never under the floor, however low a caller asks (the contract stops requests at 0.5).
  expect(rawThresholdFor(0.05)).toBe(RAW_SCORE_FLOOR);
  for (const min of [0.5, 0.7, 0.8, 0.95]) {
    const raw = rawThresholdFor(min);
    // Exactly reaches it at full stretch; a hair less reaches it nowhere.
    expect(calibratedScore(raw, 1)).toBeCloseTo(min);
    for (const width of [1, 30, 40, 48, 400]) expect(calibratedScore(raw - 1e-9, width)).toBeLessThan(min);
  }
});
