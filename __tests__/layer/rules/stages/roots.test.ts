/** The build root's package list, as the layer manifest records it (read from dpkg's status file, no chroot). */
import { parseDpkgStatus } from '../../../../layer/rules/stages/roots';

test('installed packages only, as `name:arch version`, sorted', () => {
  const status = [
    'Package: zlib1g\nStatus: install ok installed\nPriority: required\nArchitecture: amd64\nVersion: 1:1.2.11.dfsg-2+deb11u2\nDescription: compression\n library',
    'Package: libpng16-16\nStatus: install ok installed\nArchitecture: arm64\nMulti-Arch: same\nVersion: 1.6.37-3',
    'Package: removed-one\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0',
    'Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2024a-0+deb11u1',
  ].join('\n\n');
  expect(parseDpkgStatus(`${status}\n`)).toEqual(['libpng16-16:arm64 1.6.37-3', 'tzdata:all 2024a-0+deb11u1', 'zlib1g:amd64 1:1.2.11.dfsg-2+deb11u2']);
});
