/** The built layer zip, unpacked once per content hash, so local runs load exactly what ships. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { CACHE_HOME, LAYER_LAYOUT, LAYER_ZIP } from '../layer/inputs';
import { sha256File } from '../layer/build-kit/cache';

export interface UnpackedLayer {
  /** What /opt is on Lambda. */
  readonly root: string;
  readonly nodeModules: string;
  readonly modelsDir: string;
  /** Node's own require from the layer's node_modules (what /opt/nodejs/node_modules is on Lambda): a native addon loads once per process. */
  readonly load: (id: string) => unknown;
}

/** `zip`: by default the project's built layer, whatever the working folder. */
export function unpackLayer(zip: string = path.resolve(__dirname, '..', LAYER_ZIP)): UnpackedLayer {
  if (!fs.existsSync(zip)) throw new Error(`no layer at ${zip}: build it with \`npm run build:layer\` (or run \`. scripts/setup.sh\`)`);
  const root = path.join(CACHE_HOME, 'layer', sha256File(zip).slice(0, 16));
  if (!fs.existsSync(path.join(root, LAYER_LAYOUT.manifest))) {
    // Per process: parallel runs (jest workers) on a cold cache must not share a half-unpacked folder.
    const partial = `${root}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
    execFileSync('unzip', ['-q', zip, '-d', partial]);
    try {
      fs.renameSync(partial, root);
    } catch {
      // Another process finished first with the same content.
      fs.rmSync(partial, { recursive: true, force: true });
    }
  }
  const nodeModules = path.join(root, 'nodejs', 'node_modules');
  return { root, nodeModules, modelsDir: path.join(root, LAYER_LAYOUT.models), load: createRequire(path.join(nodeModules, 'noop.js')) };
}
