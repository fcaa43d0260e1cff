/**
 * The one deterministic zip writer (bundling/zip.ts), for the function bundles and the layer:
 * determinism, modes and times read back, entry order, unsafe names, and both going through it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { bundleFunction, FUNCTION_BUNDLES } from '../../bundling/functions';
import { createZip, modeFor, readZipEntries, zipFolder } from '../../bundling/zip';
import { layerZipPath } from '../../layer/inputs';
import { fromRoot } from '../helpers/paths';
import { tempDir } from '../helpers/temp';

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
    const dir = tempDir('zip');
    fs.writeFileSync(path.join(dir, 't.zip'), a);
    execFileSync('unzip', ['-q', 't.zip', '-d', 'out'], { cwd: dir });
    expect(fs.readFileSync(path.join(dir, 'out/b/x.txt'), 'utf8')).toBe('hello '.repeat(100));
    expect(fs.statSync(path.join(dir, 'out/a.bin')).mode & 0o777).toBe(0o755);
  });

  test.each(['../evil', '/abs', 'a/../../b', ''])('refuses unsafe name %j', (name) => {
    expect(() => createZip([{ name, data: Buffer.from('x') }])).toThrow(/unsafe/);
  });
});

/** xorshift32 from a fixed seed: the same "random" bytes on every machine and run. */
function seededBytes(length: number, seed: number, alphabet?: string): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = alphabet ? alphabet.charCodeAt(x % alphabet.length) : x & 0xff;
  }
  return out;
}

describe('golden bytes', () => {
  /**
   * A fixed input set and the sha256 of its zip. The hash changes only when fflate (its version is
   * pinned in package.json) or bundling/zip.ts changes the bytes written, and then the layer zip's
   * bytes change too: the layer's cache key holds fflate's version and the workflow's holds
   * bundling/zip.ts and package-lock.json (docs/layer.md), so a new hash here means a new
   * layer version and new function hashes on the next deploy. Update it on purpose, never to make
   * the test pass.
   */
  const GOLDEN = [
    { name: 'index.js', data: Buffer.from('exports.handler = async () => ({ ok: true });\n') },
    { name: 'empty.txt', data: Buffer.alloc(0) },
    { name: 'nodejs/node_modules/pkg/lib/deep/nested/config.json', data: Buffer.from(`${JSON.stringify({ a: 1, b: [1, 2, 3], c: 'x'.repeat(300) }, null, 2)}\n`) },
    // Over 64 KiB, past deflate's 32 KiB window: incompressible bytes, then a stretch of three letters
    // (long match chains: compression levels 6 to 9 each write it differently).
    { name: 'lib/libseeded.so.1', data: Buffer.concat([seededBytes(80 * 1024, 0x9e3779b9), seededBytes(64 * 1024, 0x2545f491, 'abc')]) },
    { name: 'bin/tool', data: Buffer.from('#!/bin/sh\necho tool\n'), mode: 0o750 },
  ];
  const GOLDEN_SHA256 = '2614b42d920ddcdb0c9cfd7088acd8d9b3782b79e26bc4c2b6d6249c61ef529b';

  test('a fixed input set gives the recorded bytes', () => {
    const zip = createZip(GOLDEN);
    // First what the content says (names, modes, sizes, CRCs): if only the hash differs, the deflate
    // stream or the zip framing changed, not the input.
    expect(readZipEntries(zip).map(({ name, mode, size, crc32, method }) => ({ name, mode: mode.toString(8), size, crc32, method }))).toEqual(
      [...GOLDEN]
        .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
        .map((e) => ({ name: e.name, mode: (0o100000 | (e.mode ?? modeFor(e.name))).toString(8), size: e.data.length, crc32: zlib.crc32(e.data), method: 8 })),
    );
    expect(GOLDEN[3].data.length).toBeGreaterThan(64 * 1024);
    expect(createHash('sha256').update(zip).digest('hex')).toBe(GOLDEN_SHA256);
  });
});

const tmp = () => tempDir('zip');

/** A small tree like the layer's: an addon, shared libraries, a model, text. */
function layerLikeTree(dir: string): void {
  const files: Record<string, string> = {
    'nodejs/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node': '\x7fELF addon',
    'nodejs/node_modules/@u4/opencv4nodejs/package.json': '{"name":"x"}\n',
    'lib/libz.so.1': '\x7fELF z',
    'lib/libprotobuf.so.23': '\x7fELF pb',
    'lib/libfoo.so': '\x7fELF foo',
    'models/face.onnx': 'onnx '.repeat(50),
    'manifest.json': '{}\n',
    'licenses/zlib.txt': 'licence text\n',
  };
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

describe('one writer, fixed times and modes', () => {
  test('the same folder zipped twice gives the same bytes, whatever the files\' times and modes on disk', () => {
    const a = tmp();
    const b = tmp();
    layerLikeTree(a);
    layerLikeTree(b);
    for (const f of ['lib/libz.so.1', 'manifest.json']) {
      fs.chmodSync(path.join(b, f), 0o600);
      fs.utimesSync(path.join(b, f), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
    }
    expect(zipFolder(a).equals(zipFolder(b))).toBe(true);
    expect(zipFolder(a).equals(zipFolder(a))).toBe(true);
  });

  test('the same bytes in every time zone', () => {
    const saved = process.env.TZ;
    try {
      const bytes = ['UTC', 'Pacific/Kiritimati', 'America/St_Johns', 'Asia/Kathmandu'].map((tz) => {
        process.env.TZ = tz;
        return createZip([{ name: 'index.js', data: Buffer.from('exports.handler = 1;\n') }]);
      });
      for (const b of bytes) expect(b.equals(bytes[0])).toBe(true);
      expect(readZipEntries(bytes[0])[0]).toMatchObject({ dosDate: (0 << 9) | (1 << 5) | 1, dosTime: 0 });
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  test('modes and times read back: 0755 for .so, .so.N and .node, 0644 for the rest, 1980-01-01 00:00, no extra fields, deflated', () => {
    const dir = tmp();
    layerLikeTree(dir);
    const entries = readZipEntries(zipFolder(dir));
    const modes = Object.fromEntries(entries.map((e) => [e.name, (e.mode & 0o777).toString(8)]));
    expect(modes).toEqual({
      'licenses/zlib.txt': '644',
      'lib/libfoo.so': '755',
      'lib/libprotobuf.so.23': '755',
      'lib/libz.so.1': '755',
      'manifest.json': '644',
      'models/face.onnx': '644',
      'nodejs/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node': '755',
      'nodejs/node_modules/@u4/opencv4nodejs/package.json': '644',
    });
    for (const e of entries) {
      expect(e.mode >> 12).toBe(0o10); // regular file
      expect(e).toMatchObject({ dosDate: 0x21, dosTime: 0, extraLength: 0, method: 8 });
    }
    expect(modeFor('lib/libx.so.6.0.28')).toBe(0o755);
    expect(modeFor('lib/libx.so.txt')).toBe(0o644);
    expect(modeFor('a.nodejs')).toBe(0o644);
  });

  test('another reader agrees: zipinfo lists Unix modes and the fixed time, unzip restores the modes', () => {
    const dir = tmp();
    layerLikeTree(dir);
    const zip = path.join(tmp(), 'l.zip');
    fs.writeFileSync(zip, zipFolder(dir));
    const info = execFileSync('unzip', ['-Z', '-l', zip], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    expect(info).toMatch(/^-rwxr-xr-x .* unx .* 80-Jan-01 00:00 lib\/libz\.so\.1$/m);
    expect(info).toMatch(/^-rw-r--r-- .* unx .* 80-Jan-01 00:00 manifest\.json$/m);
    const out = tmp();
    execFileSync('unzip', ['-q', zip, '-d', out]);
    expect(fs.statSync(path.join(out, 'lib/libprotobuf.so.23')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(out, 'models/face.onnx')).mode & 0o777).toBe(0o644);
    expect(fs.readFileSync(path.join(out, 'models/face.onnx'), 'utf8')).toBe('onnx '.repeat(50));
  });

  test('entries are in bytewise name order, whatever order they are given in', () => {
    const names = ['b', 'a/z', 'a-b', 'a/b', 'B', 'é', 'z', 'a.b', 'A/x'];
    const zip = createZip(names.map((name) => ({ name, data: Buffer.from(name) })));
    expect(readZipEntries(zip).map((e) => e.name)).toEqual(['A/x', 'B', 'a-b', 'a.b', 'a/b', 'a/z', 'b', 'z', 'é']);
  });

  test.each([
    ['x\\y', /backslash/],
    ['C:/x', /absolute/],
    ['a//b', /empty or \. segment/],
    ['./a', /empty or \. segment/],
    ['a/', /folder/],
    ['x\0y', /NUL/],
    ['0', /cannot keep in order/],
    ['42', /cannot keep in order/],
    ['__proto__', /cannot keep in order/],
  ])('refuses %j', (name, why) => {
    expect(() => createZip([{ name, data: Buffer.from('x') }])).toThrow(why);
  });

  test('refuses a name given twice, and a mode that is not a permission', () => {
    expect(() => createZip([{ name: 'a', data: Buffer.from('1') }, { name: 'a', data: Buffer.from('2') }])).toThrow(/given twice/);
    expect(() => createZip([{ name: 'a', data: Buffer.from('1'), mode: 0o100644 }])).toThrow(/not a Unix permission/);
  });

  test('a folder with something that is not a file (a symbolic link) is refused, not followed', () => {
    const dir = tmp();
    layerLikeTree(dir);
    fs.symlinkSync('/etc/passwd', path.join(dir, 'lib', 'link'));
    expect(() => zipFolder(dir)).toThrow(/neither a file nor a folder/);
  });
});

describe('the layer and the function bundles go through the same writer', () => {
  test('zipping a folder is createZip of its files with their default modes', () => {
    const dir = tmp();
    layerLikeTree(dir);
    const entries = execFileSync('find', ['.', '-type', 'f'], { cwd: dir, encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.slice(2))
      .map((name) => ({ name, data: fs.readFileSync(path.join(dir, name)) }));
    expect(zipFolder(dir).equals(createZip(entries))).toBe(true);
  });

  test('a function bundle is createZip of its index.js', () => {
    const out = tmp();
    const { zip } = bundleFunction(FUNCTION_BUNDLES.cleanup, out);
    const js = execFileSync('unzip', ['-p', zip, 'index.js'], { maxBuffer: 64 * 1024 * 1024 });
    expect(fs.readFileSync(zip).equals(createZip([{ name: 'index.js', data: js }]))).toBe(true);
    expect(readZipEntries(fs.readFileSync(zip))).toEqual([expect.objectContaining({ name: 'index.js', mode: 0o100644, dosDate: 0x21, dosTime: 0 })]);
  });

  // The layer as built (when it is: CI builds it before the tests): its files zipped again give its bytes.
  const layerZip = fromRoot(layerZipPath('x86_64'));
  (fs.existsSync(layerZip) ? test : test.skip)('the built x86_64 layer zip is exactly what zipFolder writes for its files', () => {
    const dir = tmp();
    execFileSync('unzip', ['-q', layerZip, '-d', dir]);
    expect(zipFolder(dir).equals(fs.readFileSync(layerZip))).toBe(true);
  }, 120_000);
});
