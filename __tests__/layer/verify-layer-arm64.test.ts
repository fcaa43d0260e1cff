/**
 * The arm64 (Graviton) layer zip, verified as `npm run verify:layer -- --arch arm64` does: AArch64
 * ELF files with their ceilings and NEEDED closure, size budget, models, and the smoke test in a
 * clean arm64 root under qemu-aarch64-static (needs root, qemu-user-static and the built arm64 layer:
 * `npm run build:layer -- --arch arm64`, cached). Timings under emulation are not checked.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LAYER_BUDGET, layerZipPath, verifyReportPath } from '../../layer/inputs';

jest.setTimeout(600_000);

const ZIP = layerZipPath('arm64');

test('the arm64 layer zip exists (built by `npm run build:layer -- --arch arm64`)', () => {
  expect(fs.existsSync(ZIP)).toBe(true);
});

test('verify:layer --arch arm64 passes and its report holds the evidence', () => {
  const result = spawnSync(path.resolve('node_modules/.bin/tsx'), ['layer/verify.ts', '--arch', 'arm64'], {
    encoding: 'utf8',
    env: { ...process.env, LAYER_SMOKE_RUNS: '2' },
  });
  expect(result.stdout).toContain('layer verified: ok');
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
  // The addon and the shipped libraries come from the layer; the loader is aarch64's.
  expect(report.smoke.mappedLibraries).toEqual(
    expect.arrayContaining(['/opt/nodejs/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node', '/opt/lib/libprotobuf.so.23', '/opt/lib/libjpeg.so.62']),
  );
  expect(report.smoke.mappedLibraries.some((f: string) => f.includes('aarch64-linux-gnu'))).toBe(true);
  expect(report.smoke.mappedLibraries.some((f: string) => f.includes('x86_64'))).toBe(false);
  // The labelled photo: YuNet finds its faces, and where x86_64's report is there, the same boxes.
  expect(report.smoke.labelled.found.yunet).toBeGreaterThanOrEqual(report.smoke.labelled.labels - 1);
  if (report.smoke.labelled.vsX86) {
    for (const c of Object.values(report.smoke.labelled.vsX86) as { unpaired: number; maxDeltaPx: number }[]) {
      expect(c.unpaired).toBe(0);
      expect(c.maxDeltaPx).toBeLessThanOrEqual(2);
    }
  }
});
