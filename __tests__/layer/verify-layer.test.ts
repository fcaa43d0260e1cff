/**
 * The shipped layer zip, verified as `npm run verify:layer` does: ELF ceilings and NEEDED closure,
 * size budget, models, and the hermetic smoke test in a clean root (needs root and the built layer;
 * CI builds it, cached, before the tests).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LAYER_BUDGET, LAYER_ZIP } from '../../layer/inputs';

jest.setTimeout(300_000);

test('the layer zip exists (built by `npm run build:layer`)', () => {
  expect(fs.existsSync(LAYER_ZIP)).toBe(true);
});

test('verify:layer passes and its report holds the evidence', () => {
  const result = spawnSync(path.resolve('node_modules/.bin/tsx'), ['layer/verify.ts'], {
    encoding: 'utf8',
    env: { ...process.env, LAYER_SMOKE_RUNS: '3' },
  });
  expect(result.stdout).toContain('layer verified: ok');
  expect(result.status).toBe(0);

  const report = JSON.parse(fs.readFileSync(path.join(path.dirname(LAYER_ZIP), 'verify-report.json'), 'utf8'));
  expect(report.failures).toEqual([]);
  expect(report.elf.length).toBeGreaterThan(5);
  for (const row of report.elf) expect(row.problems).toEqual([]);
  expect(report.sizes.unzippedBytes).toBeLessThanOrEqual(LAYER_BUDGET.unzippedBytes);
  expect(report.smoke).toMatchObject({ yunetFaces: 1, node: expect.stringMatching(/^v24\./), opencv: '4.10.0' });
  expect(report.smoke.haarFaces).toBeGreaterThanOrEqual(1);
  // The addon (with OpenCV linked in) and the shipped libraries are loaded from the layer itself.
  expect(report.smoke.mappedLibraries).toEqual(
    expect.arrayContaining(['/opt/nodejs/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node', '/opt/lib/libprotobuf.so.23', '/opt/lib/libjpeg.so.62']),
  );
});
