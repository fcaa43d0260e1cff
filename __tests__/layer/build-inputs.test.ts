/** Pure parts of the layer build: cache keys, mirror discovery, model verification, deterministic zips. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cacheKey, CacheEntry, stableJson } from '../../layer/lib/cache';
import { resolveDownloadableModel, ModelChecksumMismatch } from '../../layer/lib/models';
import { parseDebianMirror } from '../../layer/lib/prerequisites';
import { models, node, opencv } from '../../layer/inputs';
import { createZip } from '../../stack/zip';

describe('cache keys', () => {
  test('stable under key order, different for any changed input', () => {
    expect(stableJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    const base = cacheKey(opencv.sha256, opencv.cmakeFlags);
    expect(cacheKey(opencv.sha256, opencv.cmakeFlags)).toBe(base);
    expect(cacheKey(opencv.sha256, [...opencv.cmakeFlags, '-DWITH_TIFF=ON'])).not.toBe(base);
    expect(cacheKey('0'.repeat(64), opencv.cmakeFlags)).not.toBe(base);
  });

  test('a cache entry is visible only once committed', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cache-')), 'stage');
    const entry = new CacheEntry(dir);
    fs.writeFileSync(path.join(entry.begin(), 'half'), 'x');
    expect(entry.exists()).toBe(false);
    entry.commit();
    expect(entry.exists()).toBe(true);
    expect(fs.existsSync(entry.partial)).toBe(false);
  });
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
});

describe('YuNet model source', () => {
  const yunet = models.find((m) => 'url' in m.source)!;
  const envName = 'url' in yunet.source ? yunet.source.localPathEnv : '';
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'models-'));

  test('a local file with the pinned sha256 is used as is', async () => {
    const shared = path.resolve('..', 'shared', 'models', yunet.file);
    await expect(resolveDownloadableModel(yunet, tmp(), { [envName]: shared }, failFetch)).resolves.toBe(shared);
  });

  test('a local file with another sha256 stops the build', async () => {
    const wrong = path.join(tmp(), 'wrong.onnx');
    fs.writeFileSync(wrong, 'not the model');
    await expect(resolveDownloadableModel(yunet, tmp(), { [envName]: wrong }, failFetch)).rejects.toThrow(ModelChecksumMismatch);
  });

  test('a download with another sha256 is refused and not cached', async () => {
    const downloads = tmp();
    const fetchWrong = (async () => new Response('tampered bytes')) as unknown as typeof fetch;
    await expect(resolveDownloadableModel(yunet, downloads, {}, fetchWrong)).rejects.toThrow(/sha256 mismatch.*expected 8f2383e4/);
    expect(fs.readdirSync(downloads)).toEqual([]);
  });

  test('no network and no local copy: says which variable to set', async () => {
    await expect(resolveDownloadableModel(yunet, tmp(), {}, failFetch)).rejects.toThrow(new RegExp(`set ${envName}`));
  });

  const failFetch = (async () => {
    throw new Error('getaddrinfo ENOTFOUND');
  }) as unknown as typeof fetch;
});

test('setup.sh installs the same Node version the layer is built for', () => {
  const setup = fs.readFileSync(path.resolve('scripts/setup.sh'), 'utf8');
  expect(setup).toContain(`FACE_NODE_VERSION=${node.version}`);
  expect(fs.readFileSync(path.resolve('.nvmrc'), 'utf8').trim()).toBe(node.version.split('.')[0]);
});

describe('deterministic zip', () => {
  test('same entries in any order give the same bytes, and unzip reads them back', () => {
    const a = createZip([
      { name: 'b/x.txt', data: Buffer.from('hello '.repeat(100)) },
      { name: 'a.bin', data: Buffer.from([1, 2, 3]), mode: 0o755 },
    ]);
    const b = createZip([
      { name: 'a.bin', data: Buffer.from([1, 2, 3]), mode: 0o755 },
      { name: 'b/x.txt', data: Buffer.from('hello '.repeat(100)) },
    ]);
    expect(a.equals(b)).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-'));
    fs.writeFileSync(path.join(dir, 't.zip'), a);
    execFileSync('unzip', ['-q', 't.zip', '-d', 'out'], { cwd: dir });
    expect(fs.readFileSync(path.join(dir, 'out/b/x.txt'), 'utf8')).toBe('hello '.repeat(100));
    expect(fs.statSync(path.join(dir, 'out/a.bin')).mode & 0o777).toBe(0o755);
  });

  test.each(['../evil', '/abs', 'a/../../b', ''])('refuses unsafe name %j', (name) => {
    expect(() => createZip([{ name, data: Buffer.from('x') }])).toThrow(/unsafe/);
  });
});
