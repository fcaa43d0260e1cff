/**
 * The smoke script outside a root, as `npm run bench` runs it for cold start: a fresh process with
 * the unpacked layer on NODE_PATH and its models as MODELS_DIR (verify.ts runs it in a root at /opt).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleSmoke, runSmokeHere } from '../../../layer/smoke/bundle';
import { unpackLayer } from '../../../local/layer';
import { fromRoot } from '../../helpers/paths';
import { tempDir } from '../../helpers/temp';

jest.setTimeout(120_000);

test('finds the sample face with both detectors and YuNet 2022mar, and reports its timings', async () => {
  const dir = tempDir('smoke-here');
  try {
    const script = await bundleSmoke(path.join(dir, 'smoke.js'));
    const layer = unpackLayer(fromRoot('layer', 'dist', 'opencv-layer-x86_64.zip'));
    const report = runSmokeHere(script, layer, fromRoot('samples', 'astronaut.png'));
    expect(report.yunet.faces).toBe(1);
    expect(report.haar.faces).toBeGreaterThanOrEqual(1);
    expect(report.yunet2022).toMatchObject({ faces: 1, outputs: { ok: true } });
    expect(report.addonLoadedMs).toBeGreaterThan(0);
    expect(report.modelsReadyMs).toBeGreaterThanOrEqual(report.addonLoadedMs);
    expect(report.firstResultMs).toBeGreaterThanOrEqual(report.modelsReadyMs);
    expect(report.peakRssMb).toBeGreaterThan(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
