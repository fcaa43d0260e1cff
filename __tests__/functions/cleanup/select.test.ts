import { batches, judge } from '../../../functions/cleanup/select';

const now = new Date('2026-11-25T12:00:00Z');
const hour = 3600_000;
const at = (msAgo: number) => new Date(now.getTime() - msAgo);

describe('judge', () => {
  test.each([
    ['tmp/a.jpg', hour, 'delete'],
    ['tmp/a.jpg', hour - 1, 'keep'],
    ['tmp/deep/b.jpg', 2 * hour, 'delete'],
    ['tmp/', 2 * hour, 'outside-prefix'],
    ['tmpfoo/x.jpg', 2 * hour, 'outside-prefix'],
    ['tmp', 2 * hour, 'outside-prefix'],
    ['photos/x.jpg', 2 * hour, 'outside-prefix'],
    ['/tmp/x.jpg', 2 * hour, 'outside-prefix'],
    ['TMP/x.jpg', 2 * hour, 'outside-prefix'],
  ])('%s, %d ms old -> %s', (key, age, verdict) => {
    expect(judge({ key, lastModified: at(age) }, 'tmp/', now, hour)).toBe(verdict);
  });

  test('objects without a key or date are never deleted', () => {
    expect(judge({ lastModified: at(2 * hour) }, 'tmp/', now, hour)).toBe('outside-prefix');
    expect(judge({ key: 'tmp/a.jpg' }, 'tmp/', now, hour)).toBe('keep');
  });
});

describe('batches', () => {
  test('1000 keys at most per batch', () => {
    const keys = Array.from({ length: 2501 }, (_, i) => `k${i}`);
    expect(batches(keys).map((b) => b.length)).toEqual([1000, 1000, 501]);
    expect(batches([])).toEqual([]);
  });
  test('refuses sizes S3 would refuse', () => {
    expect(() => batches(['a'], 1001)).toThrow(RangeError);
    expect(() => batches(['a'], 0)).toThrow(RangeError);
  });
});
