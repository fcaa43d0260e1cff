/** The deterministic zip writer (bundling/zip.ts). */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createZip } from '../../bundling/zip';

describe('deterministic zip', () => {
  test('same entries in any order give the same bytes, and unzip reads them back', () => {
    const a = createZip([
      { name: 'b/x.txt', data: Buffer.from('hello '.repeat(100)) },
      { name: 'a.bin', data: Buffer.from([1, 2, 3]), mode: 0o755 },
    ]);
    const b = createZip([
      { name: 'a.bin', data: Buffer.from([1, 2, 3]), mode: 0o755 },
      { name: 'b/x.txt', data: Buffer.from('hello '.repeat(100)) },
    ]);
    expect(a.equals(b)).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-'));
    fs.writeFileSync(path.join(dir, 't.zip'), a);
    execFileSync('unzip', ['-q', 't.zip', '-d', 'out'], { cwd: dir });
    expect(fs.readFileSync(path.join(dir, 'out/b/x.txt'), 'utf8')).toBe('hello '.repeat(100));
    expect(fs.statSync(path.join(dir, 'out/a.bin')).mode & 0o777).toBe(0o755);
  });

  test.each(['../evil', '/abs', 'a/../../b', ''])('refuses unsafe name %j', (name) => {
    expect(() => createZip([{ name, data: Buffer.from('x') }])).toThrow(/unsafe/);
  });
});
