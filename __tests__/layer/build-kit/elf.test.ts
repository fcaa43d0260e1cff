/** What readelf says an ELF file needs: NEEDED, SONAME, RUNPATH and the highest required versions. */
import { compareVersions, parseReadelf } from '../../../layer/build-kit/elf';

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
