/**
 * A machine that cannot build the layer gets one clear line per missing prerequisite, not a stack
 * trace; the Debian mirror comes from the setting, the machine's apt sources, or Debian's default.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_DEBIAN_MIRROR, debianMirror, parseDebianMirror, requireArchive, requireCommands, requireRoot } from '../../../layer/build-kit/prerequisites';
import { MissingPrerequisite } from '../../../layer/build-kit/steps';
import { tempDir } from '../../helpers/temp';

test('not root', () => {
  expect(() => requireRoot(1000)).toThrow(MissingPrerequisite);
  expect(() => requireRoot(1000)).toThrow(/needs root \(it runs debootstrap and chroot\)/);
  expect(() => requireRoot(0)).not.toThrow();
});

test('a missing command names the package that provides it', () => {
  expect(() => requireCommands(['debootstrap'], { PATH: '/nonexistent' })).toThrow('`debootstrap` is not installed: `apt-get install -y debootstrap` (Debian/Ubuntu)');
  expect(() => requireCommands(['readelf'], { PATH: '/nonexistent' })).toThrow(/apt-get install -y binutils/);
});

test('no network to the package archive', async () => {
  await expect(requireArchive('http://127.0.0.1:9/debian', 'bullseye')).rejects.toThrow(/cannot reach the Debian archive at http:\/\/127.0.0.1:9\/debian\/dists\/bullseye\/Release/);
});

test('end to end: build:layer without debootstrap exits 2 with one line', () => {
  const cache = tempDir('layer-cache');
  const result = spawnSync(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), 'layer/build.ts'], {
    encoding: 'utf8',
    env: { PATH: '/nonexistent', HOME: os.homedir(), LAYER_CACHE_DIR: cache },
  });
  fs.rmSync(cache, { recursive: true, force: true });
  expect(result.status).toBe(2);
  expect(result.stderr.trim().split('\n')).toEqual(['build:layer: `debootstrap` is not installed: `apt-get install -y debootstrap` (Debian/Ubuntu)']);
});

describe('Debian mirror from apt sources', () => {
  test.each([
    ['Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n', 'http://mirror.example/debian'],
    ['deb [signed-by=/k.gpg] http://m.example/debian/ bookworm main\n', 'http://m.example/debian'],
    ['URIs: http://m.example/debian-security\nURIs: https://m2.example/debian\n', 'https://m2.example/debian'],
    ['deb https://packages.example/apt cloud main\n', undefined],
  ])('%j', (text, expected) => {
    expect(parseDebianMirror(text)).toBe(expected);
  });

  test('sources that list only Ubuntu fall back to Debian\'s default archive; the setting wins over both', () => {
    const ubuntu = 'Types: deb\nURIs: http://archive.ubuntu.com/ubuntu/\nSuites: noble\n';
    expect(debianMirror({}, ubuntu).url).toBe(DEFAULT_DEBIAN_MIRROR);
    expect(debianMirror({}, 'deb http://m.example/debian bookworm main\n').url).toBe('http://m.example/debian');
    expect(debianMirror({ LAYER_DEBIAN_MIRROR: 'http://own.example/debian/' }, 'deb http://m.example/debian bookworm main\n')).toEqual({
      url: 'http://own.example/debian',
      from: 'LAYER_DEBIAN_MIRROR',
    });
  });
});
