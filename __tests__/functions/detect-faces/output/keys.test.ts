import { MARKED_KEY_PATTERN, markedImageKey, timestampForKey } from '../../../../functions/detect-faces/output/keys';

describe('keys', () => {
  test('tmp/<UTC date-time>-<uuid>.jpg', () => {
    const key = markedImageKey('tmp/', new Date('2026-11-25T16:30:05.123Z'), '0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(key).toBe('tmp/2026-11-25T16-30-05-123Z-0f8fad5b-d9cb-469f-a165-70867728950e.jpg');
    expect(key).toMatch(MARKED_KEY_PATTERN);
  });
  test('a fresh uuid each time, and keys sort by time', () => {
    const a = markedImageKey('tmp/', new Date('2026-01-01T00:00:00Z'));
    const b = markedImageKey('tmp/', new Date('2026-01-01T00:00:00Z'));
    expect(a).not.toBe(b);
    expect(timestampForKey(new Date('2026-01-02T00:00:00Z')) > timestampForKey(new Date('2026-01-01T23:59:59Z'))).toBe(true);
  });
});
