/** Synthesizes the stack against small fixture zips, so stack tests need neither the layer nor the bundles. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { loadConfig } from '../../stack/config';
import { FaceDetectionStack } from '../../stack/face-detection-stack';
import { createZip } from '../../bundling/zip';
import { tempDir } from './temp';

let zipDir: string | undefined;

/** Fixture zips with fixed content (so asset hashes, and the snapshots, are the same everywhere). */
export function fixtureZips(): { layerZip: string; detectZip: string; cleanupZip: string; webApiZip: string } {
  const dir = (zipDir ??= tempDir('fixture-zips'));
  const write = (name: string, entries: { name: string; data: string }[]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, createZip(entries.map((e) => ({ name: e.name, data: Buffer.from(e.data) }))));
    return file;
  };
  return {
    layerZip: write('opencv-layer-x86_64.zip', [{ name: 'nodejs/node_modules/fixture/index.js', data: 'module.exports = {};\n' }]),
    detectZip: write('detect-faces.zip', [{ name: 'index.js', data: 'exports.handler = async () => ({ fixture: "detect" });\n' }]),
    cleanupZip: write('cleanup.zip', [{ name: 'index.js', data: 'exports.handler = async () => ({ fixture: "cleanup" });\n' }]),
    webApiZip: write('web-api.zip', [{ name: 'index.js', data: 'exports.handler = async () => ({ fixture: "web-api" });\n' }]),
  };
}

export const TEST_BUCKET = 'face-detection-test-bucket';

export function synthStack(context: Record<string, unknown> = {}) {
  const config = loadConfig({ ...fixtureZips(), bucketName: TEST_BUCKET, ...context }, {});
  // An outdir of tempDir's, removed after the test file (Testing.app's own mkdtemp would stay in the temp folder).
  const app = Testing.app({ outdir: tempDir('cdktf-outdir') });
  const stack = new FaceDetectionStack(app, config);
  const json = Testing.synth(stack);
  return { config, stack, json, parsed: JSON.parse(json) as SynthesizedStack, hcl: () => Testing.synthHcl(stack) };
}

export interface SynthesizedStack {
  resource: Record<string, Record<string, Record<string, any>>>;
  data: Record<string, Record<string, Record<string, any>>>;
  output: Record<string, { value: string }>;
  terraform: Record<string, any>;
}

/** The one resource of a type (fails the test if there is not exactly one). */
export function only(stack: SynthesizedStack, type: string): Record<string, any> {
  const all = Object.values(stack.resource[type] ?? {});
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}
