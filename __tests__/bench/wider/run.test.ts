/** bench:wider's arguments and folder checks (the run itself needs the layer and a WIDER-format folder). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AGREEMENT_PRIOR_WEIGHT, fitLook, parseArgs, readWider } from '../../../bench/wider/run';
import { calibratedScore, tableFor } from '../../../functions/detect-faces/detect/score';
import { tempDir } from '../../helpers/temp';

test('a folder, with --fit, --reuse, --misses and --limit N', () => {
  expect(parseArgs(['data'])).toEqual({ dir: path.resolve('data'), fit: false, reuse: false, misses: false });
  expect(parseArgs(['--fit', 'data', '--limit', '20', '--reuse', '--misses'])).toEqual({ dir: path.resolve('data'), fit: true, reuse: true, misses: true, limit: 20 });
});

test('refused: no folder, two folders, an unknown option, a bad limit', () => {
  expect(() => parseArgs([])).toThrow(/usage: npm run bench:wider -- DIR/);
  expect(() => parseArgs(['a', 'b'])).toThrow(/one folder only/);
  expect(() => parseArgs(['a', '--fast'])).toThrow(/unknown option --fast/);
  expect(() => parseArgs(['a', '--limit', '0'])).toThrow(/--limit needs a whole number/);
});

test('a folder without labels.json is named; a labels.json of another shape is refused', () => {
  const dir = tempDir('wider');
  {
    expect(() => readWider(dir)).toThrow(/labels\.json not found/);
    fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify({ images: [] }));
    expect(() => readWider(dir)).toThrow(/expected \[\{file, width, height, faces/);
    fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify([{ file: 'a.jpg', width: 1, height: 1, faces: [] }, { file: 'b.jpg', width: 1, height: 1, faces: [] }]));
    expect(readWider(dir, 1).map((l) => l.file)).toEqual(['a.jpg']);
  }
});

test('a table per agreement, each fitted on its own detections from the table of all; an agreement none had gets the table of all', () => {
  // Same raw score (the grid's last column) and width: faces both looks found are faces, those one look found are not.
  const both = Array.from({ length: 20 }, () => ({ raw: 1, width: 32, face: true, agreement: 'both' as const }));
  const first = Array.from({ length: 20 }, () => ({ raw: 1, width: 32, face: false, agreement: 'first' as const }));
  const tables = fitLook('flip', [...both, ...first]);
  expect(Object.keys(tables).sort()).toEqual(['both', 'first', 'second']);
  // 20 own detections on top of AGREEMENT_PRIOR_WEIGHT (5) at the pooled 0.5.
  expect(AGREEMENT_PRIOR_WEIGHT).toBe(5);
  expect(calibratedScore(tableFor(tables, 'both'), 1, 32)).toBeCloseTo(22.5 / 25);
  // The cell's 2.5 / 25 is under its row's prior cells (0.5 each, weight 5): isotonic pools the row.
  expect(calibratedScore(tableFor(tables, 'first'), 1, 32)).toBeCloseTo((19 * 5 * 0.5 + 2.5) / (19 * 5 + 25));
  expect(calibratedScore(tableFor(tables, 'second'), 1, 32)).toBeCloseTo(0.5);
  expect(Object.keys(fitLook('single', first))).toEqual(['first']);
});

test('an agreement with a few detections in a cell leans to the table of all: two misplaced large boxes do not sink its large faces', () => {
  // 40 large faces at 0.9 found by both looks; 2 large boxes at 0.9 that one look found, both misplaced.
  const both = Array.from({ length: 40 }, () => ({ raw: 0.9, width: 256, face: true, agreement: 'both' as const }));
  const first = Array.from({ length: 2 }, () => ({ raw: 0.9, width: 256, face: false, agreement: 'first' as const }));
  const tables = fitLook('flip', [...both, ...first]);
  // The cell starts from 5 detections at the pooled 40/42: (5 x 0.952) / 7.
  expect(calibratedScore(tableFor(tables, 'first'), 0.9, 256)).toBeGreaterThan(0.6);
  expect(calibratedScore(tableFor(tables, 'both'), 0.9, 256)).toBeGreaterThan(0.95);
});
