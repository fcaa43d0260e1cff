/**
 * Our jpeg-lossless addon for tests (system lane): the built layer's copy when the layer carries it
 * (what ships), otherwise compiled here from layer/jpeg-lossless/ with the host's C compiler and
 * libjpeg headers (`cc`, Debian's libjpeg62-turbo-dev), once per source hash.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type { JpegLosslessAddon } from '../../functions/detect-faces/output/lossless';
import { JPEG_LOSSLESS_PACKAGE } from '../../functions/detect-faces/output/lossless';
import { unpackLayer } from '../../local/layer';
import { fromRoot } from './paths';

let cached: { addon: JpegLosslessAddon; from: string } | undefined;

export function jpegLosslessAddon(): { addon: JpegLosslessAddon; from: string } {
  if (cached) return cached;
  const layer = unpackLayer(fromRoot('layer', 'dist', 'opencv-layer-x86_64.zip'));
  const shipped = path.join(layer.nodeModules, JPEG_LOSSLESS_PACKAGE);
  const file = fs.existsSync(shipped) ? shipped : hostBuild();
  // Node's own require, not jest's: a native addon loads once per process.
  cached = { addon: createRequire(path.join(layer.nodeModules, 'noop.js'))(file) as JpegLosslessAddon, from: file };
  return cached;
}

function hostBuild(): string {
  const source = fromRoot('layer', 'jpeg-lossless', 'jpeg_lossless.c');
  const hash = createHash('sha256').update(fs.readFileSync(source)).digest('hex').slice(0, 16);
  const out = path.join(os.tmpdir(), `jpeg-lossless-${hash}-${process.getuid?.() ?? 0}`, 'jpeg_lossless.node');
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const include = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');
  const partial = `${out}.${process.pid}`;
  execFileSync('cc', ['-O2', '-std=c11', '-D_DEFAULT_SOURCE', '-Wall', '-Wextra', '-Werror', '-fPIC', '-fvisibility=hidden', '-shared', '-DNODE_GYP_MODULE_NAME=jpeg_lossless', `-I${include}`, '-o', partial, source, '-ljpeg', '-lm'], { stdio: 'pipe' });
  fs.renameSync(partial, out);
  return out;
}
