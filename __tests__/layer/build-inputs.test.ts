/** Pure parts of the layer build: cache keys, mirror discovery, model verification, deterministic zips. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cacheKey, CacheEntry, sha256File, stableJson } from '../../layer/lib/cache';
import { isCommittedModel, ModelChecksumMismatch, resolveCommittedModel } from '../../layer/lib/models';
import { DEFAULT_DEBIAN_MIRROR, debianMirror, parseDebianMirror } from '../../layer/lib/prerequisites';
import { models, node, opencv } from '../../layer/inputs';
import { createZip } from '../../bundling/zip';
import { fromRoot, PROJECT_ROOT } from '../helpers/paths';

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

describe('YuNet model source', () => {
  const yunet = models.find(isCommittedModel)!;
  const envName = yunet.source.localPathEnv;
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'models-'));

  test('the committed copy is used, verified, with no network', () => {
    expect(resolveCommittedModel(yunet, PROJECT_ROOT, {})).toBe(path.join(PROJECT_ROOT, yunet.source.repoPath));
    expect(sha256File(path.join(PROJECT_ROOT, yunet.source.repoPath))).toBe(yunet.sha256);
  });

  test('an override with the pinned sha256 is used as is', () => {
    const copy = path.join(tmp(), 'copy.onnx');
    fs.copyFileSync(path.join(PROJECT_ROOT, yunet.source.repoPath), copy);
    expect(resolveCommittedModel(yunet, PROJECT_ROOT, { [envName]: copy })).toBe(copy);
  });

  test('an override with another sha256 stops the build', () => {
    const wrong = path.join(tmp(), 'wrong.onnx');
    fs.writeFileSync(wrong, 'not the model');
    expect(() => resolveCommittedModel(yunet, PROJECT_ROOT, { [envName]: wrong })).toThrow(ModelChecksumMismatch);
  });

  test('a tampered committed copy stops the build, naming the file', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, path.dirname(yunet.source.repoPath)), { recursive: true });
    fs.writeFileSync(path.join(root, yunet.source.repoPath), 'tampered bytes');
    expect(() => resolveCommittedModel(yunet, root, {})).toThrow(/sha256 mismatch.*layer\/models.*expected 8f2383e4/);
  });

  test('a missing committed copy says how to restore it', () => {
    expect(() => resolveCommittedModel(yunet, tmp(), {})).toThrow(new RegExp(`missing from the checkout.*set ${envName}`));
  });
});

test('setup.sh installs the same Node version the layer is built for', () => {
  const setup = fs.readFileSync(fromRoot('scripts', 'setup.sh'), 'utf8');
  expect(setup).toContain(`FACE_NODE_VERSION=${node.version}`);
  expect(fs.readFileSync(fromRoot('.nvmrc'), 'utf8').trim()).toBe(node.version.split('.')[0]);
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
