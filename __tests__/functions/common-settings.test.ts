import { flag, imagePrefix, oneOf, optionalInt, requiredString } from '../../functions/common/settings';

describe('function settings fail at cold start with the variable named', () => {
  test('image prefix: never empty or "/", always a folder', () => {
    expect(imagePrefix({})).toBe('tmp/');
    expect(imagePrefix({ IMAGE_PREFIX: 'marked/2026/' })).toBe('marked/2026/');
    for (const bad of ['', '/', 'tmp', '/tmp/', '../', 'a/../', 'a//', '*/']) {
      expect(() => imagePrefix({ IMAGE_PREFIX: bad })).toThrow(expect.objectContaining({ code: 'ConfigurationError', message: expect.stringMatching(/^IMAGE_PREFIX=/) }));
    }
  });

  test('required, numbers, choices and flags', () => {
    expect(() => requiredString({}, 'BUCKET_NAME')).toThrow(/BUCKET_NAME is required/);
    expect(optionalInt({ N: '5' }, 'N', 1, 1, 10)).toBe(5);
    expect(optionalInt({}, 'N', 3, 1, 10)).toBe(3);
    expect(() => optionalInt({ N: '11' }, 'N', 1, 1, 10)).toThrow(/N="11": expected a whole number from 1 to 10/);
    expect(() => optionalInt({ N: '1e3' }, 'N', 1, 1, 10_000)).toThrow(/whole number/);
    expect(oneOf({ M: 'b' }, 'M', 'a', ['a', 'b'])).toBe('b');
    expect(() => oneOf({ M: 'c' }, 'M', 'a', ['a', 'b'])).toThrow(/expected one of a, b/);
    expect([flag({}, 'F'), flag({ F: 'true' }, 'F'), flag({ F: '0' }, 'F')]).toEqual([false, true, false]);
    expect(() => flag({ F: 'maybe' }, 'F')).toThrow(/expected true or false/);
  });
});
