import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeTempDirs, tempDir } from './temp';

test('each folder is new, empty and named for its use; removeTempDirs removes them with their contents', () => {
  const [a, b] = [tempDir('same'), tempDir('same')];
  expect(a).not.toBe(b);
  for (const dir of [a, b]) {
    expect(path.dirname(dir)).toBe(os.tmpdir());
    expect(path.basename(dir)).toMatch(/^face-detection-same-/);
    expect(fs.readdirSync(dir)).toEqual([]);
  }
  fs.mkdirSync(path.join(a, 'sub'));
  fs.writeFileSync(path.join(a, 'sub', 'file'), 'x');
  removeTempDirs();
  expect([fs.existsSync(a), fs.existsSync(b)]).toEqual([false, false]);
});
