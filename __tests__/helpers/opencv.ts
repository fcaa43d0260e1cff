/** OpenCV from the built layer, for tests of the OpenCV-backed ports (system lane: needs the layer zip). */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { OpenCv } from '../../functions/detect-faces/opencv';
import { unpackLayer } from '../../local/layer';
import { fromRoot } from './paths';

let cached: { cv: OpenCv; modelsDir: string } | undefined;

/** The layer's addon (loaded once per test file) and its models folder. */
export function layerOpenCv(): { cv: OpenCv; modelsDir: string } {
  if (!cached) {
    const layer = unpackLayer(fromRoot('layer', 'dist', 'opencv-layer-x86_64.zip'));
    // Node's own require, not jest's: a native addon loads once per process.
    const cv = createRequire(path.join(layer.nodeModules, 'noop.js'))('@u4/opencv4nodejs') as OpenCv;
    cv.setNumThreads(1);
    cached = { cv, modelsDir: layer.modelsDir };
  }
  return cached;
}
