/**
 * The shipped layer zip, verified as `npm run verify:layer` does: ELF ceilings and NEEDED closure,
 * size budget, models, and the hermetic smoke test in a clean root (needs root and the built layer;
 * CI builds it, cached, before the tests). Then the arm64 (Graviton) zip the same way, its smoke test
 * in a clean arm64 root under qemu-aarch64-static (needs qemu-user-static and
 * `npm run build:layer -- --arch arm64`); its boxes are compared with x86_64's, verified just before.
 * Timings under emulation are not checked.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LAYER_BUDGET, LAYER_ZIP, layerZipPath, verifyReportPath } from '../../layer/inputs';

jest.setTimeout(600_000);

test('the layer zip exists (built by `npm run build:layer`)', () => {
  expect(fs.existsSync(LAYER_ZIP)).toBe(true);
});

test('verify:layer passes and its report holds the evidence', () => {
  const result = spawnSync(path.resolve('node_modules/.bin/tsx'), ['layer/verify.ts'], {
    encoding: 'utf8',
    env: { ...process.env, LAYER_SMOKE_RUNS: '3' },
  });
  // stderr in the failure message: what went wrong, not only that it did.
  expect(`${result.stdout}\n${result.stderr}`).toContain('layer verified: ok');
  expect(result.status).toBe(0);

  const report = JSON.parse(fs.readFileSync(path.join(path.dirname(LAYER_ZIP), 'verify-report.json'), 'utf8'));
  expect(report.failures).toEqual([]);
  expect(report.elf.length).toBeGreaterThan(5);
  for (const row of report.elf) expect(row.problems).toEqual([]);
  expect(report.sizes.unzippedBytes).toBeLessThanOrEqual(LAYER_BUDGET.unzippedBytes);
  // The build root's packages are recorded, and the report says whether a rebuild would take them
  // (here, without network, that it could not ask).
  expect(report.manifest.buildRoot.packages).toEqual(expect.arrayContaining([expect.stringMatching(/^libjpeg62-turbo-dev:amd64 /), expect.stringMatching(/^g\+\+-10:amd64 /)]));
  expect(report.rebuild).toMatchObject({ packages: report.manifest.buildRoot.packages.length });
  // Every shipped library's licence is in the zip (a missing one fails the build).
  expect(report.manifest.libraries.length).toBeGreaterThan(0);
  expect(report.smoke).toMatchObject({ yunetFaces: 1, node: expect.stringMatching(/^v24\./), opencv: '4.10.0' });
  expect(report.smoke.haarFaces).toBeGreaterThanOrEqual(1);
  // The cascade's second network loads from /opt/models and its outputs fit its priors.
  expect(report.smoke.yunet2022).toMatchObject({ faces: 1, outputs: { ok: true, priors: 235, got: { loc: 3290, conf: 470, iou: 235 } } });
  // The addon (with OpenCV linked in) and the shipped libraries are loaded from the layer itself.
  expect(report.smoke.mappedLibraries).toEqual(
    expect.arrayContaining(['/opt/nodejs/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node', '/opt/lib/libprotobuf.so.23', '/opt/lib/libjpeg.so.62']),
  );
});

describe('arm64', () => {
  const ZIP = layerZipPath('arm64');

  test('the arm64 layer zip exists (built by `npm run build:layer -- --arch arm64`)', () => {
    expect(fs.existsSync(ZIP)).toBe(true);
  });

  test('verify:layer --arch arm64 passes and its report holds the evidence', () => {
    const result = spawnSync(path.resolve('node_modules/.bin/tsx'), ['layer/verify.ts', '--arch', 'arm64'], {
      encoding: 'utf8',
      env: { ...process.env, LAYER_SMOKE_RUNS: '2' },
    });
    // stderr in the failure message: what went wrong, not only that it did.
  expect(`${result.stdout}\n${result.stderr}`).toContain('layer verified: ok');
    expect(result.status).toBe(0);

    const report = JSON.parse(fs.readFileSync(verifyReportPath('arm64'), 'utf8'));
    expect(report.arch).toBe('arm64');
    expect(report.failures).toEqual([]);
    expect(report.manifest.architecture).toBe('arm64');
    expect(report.elf.length).toBeGreaterThan(5);
    for (const row of report.elf) {
      expect(row.machine).toBe('AArch64');
      expect(row.problems).toEqual([]);
    }
    expect(report.sizes.unzippedBytes).toBeLessThanOrEqual(LAYER_BUDGET.unzippedBytes);
    expect(report.sizes.zippedBytes).toBeLessThanOrEqual(LAYER_BUDGET.zippedBytes);
    expect(report.smoke).toMatchObject({ yunetFaces: 1, node: expect.stringMatching(/^v24\./), opencv: '4.10.0' });
    expect(report.smoke.haarFaces).toBeGreaterThanOrEqual(1);
    expect(report.smoke.yunet2022).toMatchObject({ faces: 1, outputs: { ok: true, priors: 235, got: { loc: 3290, conf: 470, iou: 235 } } });
    // The addon and the shipped libraries come from the layer; the loader is aarch64's.
    expect(report.smoke.mappedLibraries).toEqual(
      expect.arrayContaining(['/opt/nodejs/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node', '/opt/lib/libprotobuf.so.23', '/opt/lib/libjpeg.so.62']),
    );
    expect(report.smoke.mappedLibraries.some((f: string) => f.includes('aarch64-linux-gnu'))).toBe(true);
    expect(report.smoke.mappedLibraries.some((f: string) => f.includes('x86_64'))).toBe(false);
    // The labelled photo: YuNet finds its faces, and the same boxes as x86_64 within 2 px (Haar's and 2022mar's too).
    expect(report.smoke.labelled.found.yunet).toBeGreaterThanOrEqual(report.smoke.labelled.labels - 1);
    // x86_64's report comes from the test above (same file: it runs first, with the same detector code).
    expect(Object.keys(report.smoke.labelled.vsX86 ?? {}).sort()).toEqual(['haar', 'yunet', 'yunet2022']);
    {
      for (const c of Object.values(report.smoke.labelled.vsX86) as { unpaired: number; maxDeltaPx: number }[]) {
        expect(c.unpaired).toBe(0);
        expect(c.maxDeltaPx).toBeLessThanOrEqual(2);
      }
    }
  });
});
