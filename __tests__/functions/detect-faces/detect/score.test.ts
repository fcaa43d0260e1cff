/** Reading the calibration table: linear in raw score and log width, monotone, and the decode threshold it implies. */
import { calibratedScore, RAW_SCORE_FLOOR, rawThresholdFor, tableFor, type CalibrationTable } from '../../../../functions/detect-faces/detect/score';
import { CALIBRATION } from '../../../../functions/detect-faces/detect/calibration';
import { LOOK_AGREEMENTS } from '../../../../functions/detect-faces/detect/flip';
import { LOOKS, OPERATING_POINTS } from '../../../../functions/detect-faces/contract';
import { calibrated } from '../../../../functions/detect-faces/detect/yunet';

/** Every fitted table: each kind of look's, one per agreement its looks give. */
const FITTED = LOOKS.flatMap((looks) => LOOK_AGREEMENTS[looks].map((agreement) => tableFor(CALIBRATION[looks], agreement)));

const TABLE: CalibrationTable = {
  widths: [10, 40],
  raws: [0.2, 0.6, 1],
  scores: [
    [0.1, 0.3, 0.5], // small faces: weak evidence
    [0.2, 0.7, 0.9],
  ],
};

test('on the grid, the cell; between columns, linear in raw score', () => {
  expect(calibratedScore(TABLE, 0.6, 10)).toBeCloseTo(0.3);
  expect(calibratedScore(TABLE, 0.6, 40)).toBeCloseTo(0.7);
  expect(calibratedScore(TABLE, 0.8, 40)).toBeCloseTo(0.8);
});

test('between rows, linear in the logarithm of the width (20 px is halfway from 10 to 40)', () => {
  expect(calibratedScore(TABLE, 0.6, 20)).toBeCloseTo(0.5);
});

test('beyond the table: held at the widest and narrowest rows and the top column; towards 0 under the first column', () => {
  expect(calibratedScore(TABLE, 0.6, 4)).toBeCloseTo(0.3);
  expect(calibratedScore(TABLE, 0.6, 400)).toBeCloseTo(0.7);
  expect(calibratedScore(TABLE, 1.3, 40)).toBeCloseTo(0.9);
  expect(calibratedScore(TABLE, 0.1, 40)).toBeCloseTo(0.1);
  expect(calibratedScore(TABLE, 0, 40)).toBe(0);
});

test('the decode threshold: the lowest raw score that reaches minScore in any row, never under the floor', () => {
  // Row 40 px reaches 0.7 at raw 0.6; row 10 px never does.
  expect(rawThresholdFor(TABLE, 0.7)).toBeCloseTo(0.6);
  expect(rawThresholdFor(TABLE, 0.45)).toBeCloseTo(0.2 + (0.4 * 0.25) / 0.5);
  expect(rawThresholdFor(TABLE, 0.01)).toBe(RAW_SCORE_FLOOR);
  expect(rawThresholdFor(TABLE, 0.95)).toBe(Number.POSITIVE_INFINITY);
});

test('a detection under the decode threshold never reaches minScore, at any width (the fitted tables)', () => {
  for (const table of FITTED) {
    for (const min of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      const raw = rawThresholdFor(table, min);
      if (!Number.isFinite(raw) || raw <= RAW_SCORE_FLOOR) continue;
      for (const width of [5, 8, 11, 20, 30, 50, 100, 200, 300, 1000]) expect(calibratedScore(table, raw - 1e-6, width)).toBeLessThan(min + 1e-9);
    }
  }
});

test('the fitted tables: scores in [0, 1], non-decreasing in raw score along every row', () => {
  for (const table of FITTED) {
    expect(table.scores).toHaveLength(table.widths.length);
    for (const row of table.scores) {
      expect(row).toHaveLength(table.raws.length);
      row.forEach((v, c) => {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if (c > 0) expect(v).toBeGreaterThanOrEqual(row[c - 1]);
      });
    }
  }
});

test('each kind of look has a table for every agreement its looks give, and a missing one is a TypeError that names it', () => {
  expect(FITTED).toHaveLength(1 + 3 + 4 + 4);
  expect(() => tableFor({ first: TABLE }, 'unseen')).toThrow(new TypeError("the calibration has no table for faces whose looks agreed as 'unseen'"));
  expect(tableFor({ first: TABLE }, 'first')).toBe(TABLE);
});

test('a candidate is calibrated with the table of its agreement; those under minScore are dropped', () => {
  const both: CalibrationTable = { ...TABLE, scores: [[0.5, 0.7, 0.9], [0.5, 0.7, 0.9]] };
  const first: CalibrationTable = { ...TABLE, scores: [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]] };
  const candidate = { x: 0, y: 0, width: 20, height: 20, score: 0.6, inputWidth: 20 };
  const [a, b] = calibrated([{ ...candidate, agreement: 'both' }, { ...candidate, agreement: 'first' }], { both, first }, 0);
  // 0.999 x the table's score + 0.001 x the raw score (the tie-break).
  expect(a.score).toBeCloseTo(0.999 * 0.7 + 0.0006, 6);
  expect(b.score).toBeCloseTo(0.999 * 0.2 + 0.0006, 6);
  expect(calibrated([{ ...candidate, agreement: 'both' }, { ...candidate, agreement: 'first' }], { both, first }, 0.5).map((f) => f.agreement)).toEqual(['both']);
  expect(() => calibrated([{ ...candidate, agreement: 'unseen' }], { both, first }, 0)).toThrow(TypeError);
});

test('minScore is compared with the score as reported (4 decimals): a face reported at 1 passes minScore 1', () => {
  const sure: CalibrationTable = { ...TABLE, scores: [[1, 1, 1], [1, 1, 1]] };
  // 0.999 x 1 + 0.001 x 0.95 = 0.99995, reported as 1.
  const face = { x: 0, y: 0, width: 20, height: 20, score: 0.95, inputWidth: 20, agreement: 'first' as const };
  expect(calibrated([face], { first: sure }, 1)).toHaveLength(1);
  // 0.999 + 0.001 x 0.85 = 0.99985, reported as 0.9999 (rounded half up), not 1.
  expect(calibrated([{ ...face, score: 0.85 }], { first: sure }, 0.9999)).toHaveLength(1);
  expect(calibrated([{ ...face, score: 0.8 }], { first: sure }, 1)).toHaveLength(0);
});

test('a face a network scores 0.9 or more, 24 px or wider at its input, is hidden by the redaction default whatever its looks agreed, and shown by the box default when both looks found it (no sparse cell of a table sinks it)', () => {
  for (const looks of LOOKS) {
    for (const agreement of LOOK_AGREEMENTS[looks]) {
      const table = tableFor(CALIBRATION[looks], agreement);
      for (const width of [24, 32, 48, 64, 96, 128, 160, 192, 224, 256, 400]) {
        for (const raw of [0.9, 0.95, 1]) {
          expect(calibratedScore(table, raw, width)).toBeGreaterThanOrEqual(OPERATING_POINTS.recall.minScore);
          if (agreement === 'both') expect(calibratedScore(table, raw, width)).toBeGreaterThanOrEqual(OPERATING_POINTS.precision.minScore);
        }
      }
    }
  }
});
