/** bench:wider's arguments and folder checks (the run itself needs the layer and a WIDER-format folder). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fitLook, parseArgs, readWider } from '../../../bench/wider/run';
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

test('a table per agreement, each fitted on its own detections; an agreement none had gets the table of all', () => {
  // Same raw score and width: faces both looks found are faces, those one look found are not.
  const both = Array.from({ length: 20 }, () => ({ raw: 0.5, width: 32, face: true, agreement: 'both' as const }));
  const first = Array.from({ length: 20 }, () => ({ raw: 0.5, width: 32, face: false, agreement: 'first' as const }));
  const tables = fitLook('flip', [...both, ...first]);
  expect(Object.keys(tables).sort()).toEqual(['both', 'first', 'second']);
  expect(calibratedScore(tableFor(tables, 'both'), 0.5, 32)).toBeCloseTo(1);
  expect(calibratedScore(tableFor(tables, 'first'), 0.5, 32)).toBeCloseTo(0);
  expect(calibratedScore(tableFor(tables, 'second'), 0.5, 32)).toBeCloseTo(0.5);
  expect(Object.keys(fitLook('single', first))).toEqual(['first']);
});
