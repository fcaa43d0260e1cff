/** verify:layer's rebuild check: which recorded build-root packages the archive's index no longer has at that version. */
import * as http from 'node:http';
import { execFileSync } from 'node:child_process';
import { checkRebuild, indexArches, parsePackagesIndex, rebuildDifferences } from '../../../layer/verify/rebuild';

const INDEX_AMD64 = 'Package: zlib1g\nArchitecture: amd64\nVersion: 1:1.2.11.dfsg-2+deb11u2\n\nPackage: libpng-dev\nArchitecture: amd64\nVersion: 1.6.37-3+deb11u1\n\nPackage: tzdata\nArchitecture: all\nVersion: 2024a-0+deb11u1\n';
const INDEX_ARM64 = 'Package: libpng16-16\nArchitecture: arm64\nVersion: 1.6.37-3\n';
const RECORDED = ['libpng-dev:amd64 1.6.37-3', 'libpng16-16:arm64 1.6.37-3', 'tzdata:all 2024a-0+deb11u1', 'gone:amd64 1.0', 'zlib1g:amd64 1:1.2.11.dfsg-2+deb11u2'];

test('the index is read by name and architecture; differences and disappearances are listed, equal versions are not', () => {
  const index = parsePackagesIndex(INDEX_ARM64, parsePackagesIndex(INDEX_AMD64));
  expect(index.get('libpng-dev:amd64')).toBe('1.6.37-3+deb11u1');
  expect(rebuildDifferences(RECORDED, index)).toEqual(['libpng-dev:amd64 1.6.37-3 -> 1.6.37-3+deb11u1', 'gone:amd64 1.0: no longer in the archive']);
  expect(indexArches(RECORDED)).toEqual(['amd64', 'arm64']);
});

test('against a mirror: fetches each architecture\'s Packages.xz of the suite; says when it cannot ask', async () => {
  const served: string[] = [];
  const server = http.createServer((req, res) => {
    served.push(req.url!);
    const body = { '/debian/dists/bullseye/main/binary-amd64/Packages.xz': INDEX_AMD64, '/debian/dists/bullseye/main/binary-arm64/Packages.xz': INDEX_ARM64 }[req.url!];
    if (!body) return void res.writeHead(404).end();
    res.end(execFileSync('xz', ['-c'], { input: body }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const mirror = `http://127.0.0.1:${(server.address() as { port: number }).port}/debian`;
    const result = await checkRebuild(RECORDED, mirror, 'bullseye');
    expect(result).toEqual({ checked: true, packages: 5, differences: ['libpng-dev:amd64 1.6.37-3 -> 1.6.37-3+deb11u1', 'gone:amd64 1.0: no longer in the archive'] });
    expect(served.sort()).toEqual(['/debian/dists/bullseye/main/binary-amd64/Packages.xz', '/debian/dists/bullseye/main/binary-arm64/Packages.xz']);
    const missing = await checkRebuild(RECORDED, mirror, 'trixie');
    expect(missing).toMatchObject({ checked: false, differences: [], error: expect.stringContaining('answered HTTP 404') });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
