/** Cache keys and entries of the build kit: stable keys, entries visible only once complete. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheKey, CacheEntry, stableJson } from '../../../layer/build-kit/cache';
import { opencv } from '../../../layer/inputs';
import { tempDir } from '../../helpers/temp';

describe('cache keys', () => {
  test('stable under key order, different for any changed input', () => {
    expect(stableJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    const base = cacheKey(opencv.sha256, opencv.cmakeFlags);
    expect(cacheKey(opencv.sha256, opencv.cmakeFlags)).toBe(base);
    expect(cacheKey(opencv.sha256, [...opencv.cmakeFlags, '-DWITH_TIFF=ON'])).not.toBe(base);
    expect(cacheKey('0'.repeat(64), opencv.cmakeFlags)).not.toBe(base);
  });

  test('a cache entry is visible only once committed', () => {
    const dir = path.join(tempDir('cache'), 'stage');
    const entry = new CacheEntry(dir);
    fs.writeFileSync(path.join(entry.begin(), 'half'), 'x');
    expect(entry.exists()).toBe(false);
    entry.commit();
    expect(entry.exists()).toBe(true);
    expect(fs.existsSync(entry.partial)).toBe(false);
  });
});
