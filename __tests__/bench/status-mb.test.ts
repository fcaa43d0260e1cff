import { statusMb } from '../../bench/real-size';

test('statusMb: a process by pid or itself, in MB; the peak is never below what is resident', () => {
  const rss = statusMb('VmRSS');
  expect(rss).toBeGreaterThan(10);
  expect(statusMb('VmHWM')).toBeGreaterThanOrEqual(rss);
  expect(Math.abs(statusMb('VmRSS', process.pid) - rss)).toBeLessThanOrEqual(2);
});

test('statusMb: a process that is gone is an error, not a zero', () => {
  expect(() => statusMb('VmRSS', 2 ** 22 + 1)).toThrow(/ENOENT/);
});
