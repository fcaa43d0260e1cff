/** The layer's ELF rules on readelf output and synthetic files: ceilings, NEEDED resolution, sizes. */
import { checkElfFiles, checkSizes, foreignLibraries, formatElfTable, median } from '../../layer/lib/checks';
import { compareVersions, parseReadelf } from '../../layer/lib/elf';
import { LAYER_BUDGET } from '../../layer/inputs';

const READELF = `
Dynamic section at offset 0x2d8 contains 30 entries:
  Tag        Type                         Name/Value
 0x0000000000000001 (NEEDED)             Shared library: [libopencv_dnn.so.410]
 0x0000000000000001 (NEEDED)             Shared library: [libstdc++.so.6]
 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]
 0x000000000000000e (SONAME)             Library soname: [libexample.so.1]
 0x000000000000001d (RUNPATH)            Library runpath: [$ORIGIN]

Version symbols section '.gnu.version' contains 12 entries:

Version definition section '.gnu.version_d' contains 2 entries:
  000000: Rev: 1  Flags: BASE  Index: 1  Cnt: 1  Name: libexample.so.1
  0x001c: Rev: 1  Flags: none  Index: 2  Cnt: 1  Name: GLIBC_2.99

Version needs section '.gnu.version_r' contains 2 entries:
 Addr: 0x0000000000000f10  Offset: 0x000f10  Link: 4 (.dynstr)
  000000: Version: 1  File: libstdc++.so.6  Cnt: 3
  0x0010:   Name: GLIBCXX_3.4.9  Flags: none  Version: 7
  0x0020:   Name: GLIBCXX_3.4.21  Flags: none  Version: 6
  0x0030:   Name: CXXABI_1.3.9  Flags: none  Version: 5
  0x0040: Version: 1  File: libc.so.6  Cnt: 2
  0x0050:   Name: GLIBC_2.4  Flags: none  Version: 4
  0x0060:   Name: GLIBC_2.14  Flags: none  Version: 3
`;

describe('parseReadelf', () => {
  test('reads NEEDED, SONAME, RUNPATH and the highest required version per family', () => {
    expect(parseReadelf(READELF)).toEqual({
      needed: ['libopencv_dnn.so.410', 'libstdc++.so.6', 'libc.so.6'],
      soname: 'libexample.so.1',
      runpath: '$ORIGIN',
      maxVersions: { GLIBCXX: '3.4.21', CXXABI: '1.3.9', GLIBC: '2.14' },
    });
  });

  test('versions a file defines do not count as requirements', () => {
    expect(parseReadelf(READELF).maxVersions.GLIBC).toBe('2.14');
  });
});

test.each([
  ['2.34', '2.4', 1],
  ['2.4', '2.34', -1],
  ['3.4.29', '3.4.3', 1],
  ['3.4.29', '3.4.29', 0],
  ['2.34', '2.34.0', 0],
])('compareVersions(%s, %s) = %d', (a, b, expected) => {
  expect(compareVersions(a, b)).toBe(expected);
});

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
