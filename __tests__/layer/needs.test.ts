/** What setup builds for each purpose: the first `npm start` waits for x86_64 only. */
import { buildArgs, expectedMs, layerNeeds } from '../../layer/needs';

test('start: the x86_64 zip only, plus the stack\'s architecture\'s zip when that is arm64', () => {
  expect(layerNeeds('start', 'x86_64').map(buildArgs)).toEqual([['--arch', 'x86_64', '--layer-only']]);
  expect(layerNeeds('start', 'arm64').map(buildArgs)).toEqual([
    ['--arch', 'x86_64', '--layer-only'],
    ['--arch', 'arm64', '--layer-only'],
  ]);
});

test('test (npm test, CI): both architectures with what verify:layer needs; deploy: the stack\'s zip only', () => {
  expect(layerNeeds('test', 'x86_64').map(buildArgs)).toEqual([['--arch', 'x86_64'], ['--arch', 'arm64']]);
  expect(layerNeeds('deploy', 'arm64').map(buildArgs)).toEqual([['--arch', 'arm64', '--layer-only']]);
  expect(layerNeeds('deploy', 'x86_64').map(buildArgs)).toEqual([['--arch', 'x86_64', '--layer-only']]);
});

test('the expected time comes from the stages still to run: a cold x86_64 zip takes minutes, a cached one none, and verify\'s extras add the smoke root', () => {
  const cold = expectedMs({ arch: 'x86_64', layerOnly: true }, () => false);
  expect(cold).toBeGreaterThan(5 * 60_000);
  expect(expectedMs({ arch: 'x86_64', layerOnly: true }, () => true)).toBe(0);
  expect(expectedMs({ arch: 'x86_64', layerOnly: false }, () => false)).toBeGreaterThan(cold);
  expect(expectedMs({ arch: 'arm64', layerOnly: true }, () => false)).toBeGreaterThan(cold);
});
