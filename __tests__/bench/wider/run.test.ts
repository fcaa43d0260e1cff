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

test('a table per agreement, each fitted on its own detections; an agreement none had gets the curve of all', () => {
  // Same raw score and width: faces both looks found are faces, those one look found are not.
  const both = Array.from({ length: 20 }, () => ({ raw: 1, width: 32, face: true, agreement: 'both' as const }));
  const first = Array.from({ length: 20 }, () => ({ raw: 1, width: 32, face: false, agreement: 'first' as const }));
  const tables = fitLook('flip', [...both, ...first]);
  expect(Object.keys(tables).sort()).toEqual(['both', 'first', 'second']);
  expect(calibratedScore(tableFor(tables, 'both'), 1, 32)).toBeCloseTo(1);
  expect(calibratedScore(tableFor(tables, 'first'), 1, 32)).toBeCloseTo(0);
  // No detection of its own: the curve of all the look's detections, at any width.
  expect(calibratedScore(tableFor(tables, 'second'), 1, 32)).toBeCloseTo(0.5);
  expect(calibratedScore(tableFor(tables, 'second'), 1, 256)).toBeCloseTo(0.5);
  expect(Object.keys(fitLook('single', first))).toEqual(['first']);
});

test("a width an agreement has few detections at leans to that agreement's own curve: two misplaced large boxes do not sink its large faces", () => {
  // 'first': 40 faces at 32 px and raw 0.9, and 2 misplaced boxes at 256 px; 'second': 40 non-faces at 32 px, 2 at 256.
  const at = (width: number, face: boolean, agreement: 'first' | 'second', n: number) => Array.from({ length: n }, () => ({ raw: 0.9, width, face, agreement }));
  const tables = fitLook('flip', [...at(32, true, 'first', 40), ...at(256, false, 'first', 2), ...at(32, false, 'second', 40), ...at(256, false, 'second', 2)]);
  expect(AGREEMENT_PRIOR_WEIGHT).toBe(5);
  // 256 px: 5 detections at the first's curve (40 / 42 at raw 0.9) and its own 2 misplaced boxes,
  // (5 x 0.952) / 7 = 0.68 in the cell, then pooled with the row's other cells (the curve) by isotonic.
  expect(calibratedScore(tableFor(tables, 'first'), 0.9, 256)).toBeGreaterThan(0.6);
  // The second's own curve says its boxes are not faces, at any width.
  expect(calibratedScore(tableFor(tables, 'second'), 0.9, 256)).toBeLessThan(0.05);
});
