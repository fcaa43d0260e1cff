/** OpenCV from the built layer, for tests of the OpenCV-backed ports (system lane: needs the layer zip). */
import type { OpenCv } from '../../functions/detect-faces/opencv';
import { unpackLayer } from '../../local/layer';
import { fromRoot } from './paths';

let cached: { cv: OpenCv; modelsDir: string } | undefined;

/** The layer's addon (loaded once per test file) and its models folder. */
export function layerOpenCv(): { cv: OpenCv; modelsDir: string } {
  if (!cached) {
    const layer = unpackLayer(fromRoot('layer', 'dist', 'opencv-layer-x86_64.zip'));
    // Node's own require, not jest's: a native addon loads once per process.
    const cv = layer.load('@u4/opencv4nodejs') as OpenCv;
    cv.setNumThreads(1);
    cached = { cv, modelsDir: layer.modelsDir };
  }
  return cached;
}
