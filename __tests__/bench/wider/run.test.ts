/** bench:wider's arguments and folder checks (the run itself needs the layer and a WIDER-format folder). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, readWider } from '../../../bench/wider/run';
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
