/** Fitting the calibration: isotonic, weighted like the table is read, and the reliability curve. */
import { fitCalibration, isotonic, reliability, type LabelledDetection } from '../../../bench/wider/calibrate';
import { calibratedScore } from '../../../functions/detect-faces/detect/score';

test('isotonic: pools adjacent violators into their weighted mean, keeps an ordered sequence', () => {
  expect(isotonic([0.1, 0.2, 0.3], [1, 1, 1])).toEqual([0.1, 0.2, 0.3]);
  expect(isotonic([0.1, 0.5, 0.3, 0.6], [1, 1, 3, 1])).toEqual([0.1, 0.35, 0.35, 0.6]);
  expect(isotonic([0.9, 0.1], [1, 1])).toEqual([0.5, 0.5]);
});

/** Detections whose chance of being a face is `p(raw, width)`, deterministic: k faces in every n. */
function detections(p: (raw: number, width: number) => number): LabelledDetection[] {
  const out: LabelledDetection[] = [];
  for (const width of [8, 16, 32, 64]) {
    for (let raw = 0.05; raw <= 1.0001; raw += 0.05) {
      const n = 40;
      const k = Math.round(p(raw, width) * n);
      for (let i = 0; i < n; i++) out.push({ raw, width, face: i < k });
    }
  }
  return out;
}

test('recovers a known face fraction on its grid, small faces lower than large ones', () => {
  const truth = (raw: number, width: number) => Math.min(1, raw * (width >= 32 ? 1 : 0.5));
  const table = fitCalibration(detections(truth), [8, 16, 32, 64], [0.1, 0.3, 0.5, 0.7, 0.9]);
  for (const width of [8, 64]) for (const raw of [0.3, 0.5, 0.7]) expect(calibratedScore(table, raw, width)).toBeCloseTo(truth(raw, width), 1);
});

test('noise that runs against the raw score is pooled: the fitted rows never decrease', () => {
  const bumpy = (raw: number) => (raw > 0.5 && raw < 0.7 ? 0.2 : raw);
  const table = fitCalibration(detections(bumpy), [16], [0.2, 0.4, 0.6, 0.8, 1]);
  const row = table.scores[0];
  for (let c = 1; c < row.length; c++) expect(row[c]).toBeGreaterThanOrEqual(row[c - 1]);
});

test('a width no detection had borrows the nearest fitted row', () => {
  const table = fitCalibration([{ raw: 0.5, width: 16, face: true }], [16, 256], [0.5]);
  expect(table.scores).toEqual([[1], [1]]);
  expect(() => fitCalibration([], [16], [0.5])).toThrow(/no detections/);
});

test('reliability: per score bin, how many, the mean score and the fraction of faces', () => {
  const bins = reliability([
    { score: 0.05, face: false },
    { score: 0.15, face: true },
    { score: 0.95, face: true },
    { score: 0.91, face: false },
    { score: 1, face: true },
  ]);
  expect(bins.map((b) => [b.from, b.to, b.detections])).toEqual([
    [0, 0.1, 1],
    [0.1, 0.2, 1],
    [0.9, 1, 3],
  ]);
  expect(bins[2].faceFraction).toBeCloseTo(2 / 3);
  expect(bins[2].meanScore).toBeCloseTo((0.95 + 0.91 + 1) / 3);
});
