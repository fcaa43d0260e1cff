/** The layer's ELF rules on synthetic files: ceilings, NEEDED resolution, sizes, mapped libraries. */
import { LAYER_BUDGET } from '../../../layer/inputs';
import { checkElfFiles, checkSizes, foreignLibraries, formatElfTable, median } from '../../../layer/rules/checks';

describe('checkElfFiles', () => {
  const rules = { maxGlibc: LAYER_BUDGET.maxGlibc, maxGlibcxx: LAYER_BUDGET.maxGlibcxx, systemLibraries: LAYER_BUDGET.systemLibraries };
  const file = (needed: string[], glibc: string, glibcxx?: string) => {
    const maxVersions: Record<string, string> = { GLIBC: glibc };
    if (glibcxx) maxVersions.GLIBCXX = glibcxx;
    return { file: 'lib/x.so', bytes: 2048, info: { needed, maxVersions } };
  };

  test('passes what Amazon Linux 2023 can load', () => {
    const [row] = checkElfFiles([file(['libopencv_core.so.410', 'libc.so.6', 'libstdc++.so.6'], '2.34', '3.4.29')], new Set(['libopencv_core.so.410']), rules);
    expect(row.problems).toEqual([]);
    expect(row.needed.map((n) => n.from)).toEqual(['layer', 'system', 'system']);
  });

  test.each([
    [file(['libc.so.6'], '2.35'), /GLIBC_2.35 > 2.34/],
    [file(['libstdc++.so.6'], '2.17', '3.4.30'), /GLIBCXX_3.4.30 > 3.4.29/],
    [file(['libGL.so.1'], '2.17'), /libGL.so.1, which is neither in lib\//],
    [file(['libz.so.1'], '2.17'), /libz.so.1/],
    [file(['libgthread-2.0.so.0'], '2.17'), /libgthread/],
  ])('fails %#', (input, problem) => {
    const [row] = checkElfFiles([input], new Set(), rules);
    expect(row.problems.join('\n')).toMatch(problem);
    expect(formatElfTable([row])).toMatch(/FAIL/);
  });
});

test('sizes over budget fail, under pass', () => {
  expect(checkSizes(10e6, 30e6, { zippedBytes: 15e6, unzippedBytes: 40e6 }).problems).toEqual([]);
  expect(checkSizes(16e6, 41e6, { zippedBytes: 15e6, unzippedBytes: 40e6 }).problems).toHaveLength(2);
});

test('libraries mapped from outside /opt are foreign unless the runtime provides them', () => {
  expect(
    foreignLibraries(
      [
        '/opt/lib/libopencv_core.so.410',
        '/lib/x86_64-linux-gnu/libc.so.6',
        '/usr/lib/x86_64-linux-gnu/libc-2.31.so',
        '/usr/lib/x86_64-linux-gnu/ld-2.31.so',
        '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.28',
        '/usr/lib/x86_64-linux-gnu/libjpeg.so.62',
        '/usr/lib/x86_64-linux-gnu/libz.so.1.2.11',
      ],
      LAYER_BUDGET.systemLibraries,
    ),
  ).toEqual(['/usr/lib/x86_64-linux-gnu/libjpeg.so.62', '/usr/lib/x86_64-linux-gnu/libz.so.1.2.11']);
});

test('median', () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});
