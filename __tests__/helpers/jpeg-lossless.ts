/**
 * Our jpeg-lossless addon for tests (system lane): the built layer's copy when the layer carries it
 * (what ships), otherwise compiled here from layer/jpeg-lossless/ with the host's C compiler and
 * libjpeg headers (`cc`, Debian's libjpeg62-turbo-dev), once per source hash.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JpegLosslessAddon } from '../../functions/detect-faces/output/lossless';
import { JPEG_LOSSLESS_PACKAGE } from '../../functions/detect-faces/output/lossless';
import { unpackLayer } from '../../local/layer';
import { fromRoot } from './paths';
import { tempDir } from './temp';

let cached: { addon: JpegLosslessAddon; from: string } | undefined;

export function jpegLosslessAddon(): { addon: JpegLosslessAddon; from: string } {
  if (cached) return cached;
  const layer = unpackLayer(fromRoot('layer', 'dist', 'opencv-layer-x86_64.zip'));
  const shipped = path.join(layer.nodeModules, JPEG_LOSSLESS_PACKAGE);
  const file = fs.existsSync(shipped) ? shipped : hostBuild();
  // Node's own require, not jest's: a native addon loads once per process.
  cached = { addon: layer.load(file) as JpegLosslessAddon, from: file };
  return cached;
}

function hostBuild(): string {
  const source = fromRoot('layer', 'jpeg-lossless', 'jpeg_lossless.c');
  // Built once per test file that needs it, in a folder of its own (removed after the file).
  const out = path.join(tempDir('jpeg-lossless'), 'jpeg_lossless.node');
  const include = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');
  execFileSync('cc', ['-O2', '-std=c11', '-D_DEFAULT_SOURCE', '-Wall', '-Wextra', '-Werror', '-fPIC', '-fvisibility=hidden', '-shared', '-DNODE_GYP_MODULE_NAME=jpeg_lossless', `-I${include}`, '-o', out, source, '-ljpeg', '-lm'], { stdio: 'pipe' });
  return out;
}
