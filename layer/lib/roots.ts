/** Debian roots made with debootstrap: one with the toolchain for building, one bare for the smoke test. */
import * as path from 'node:path';
import { CACHE_DIR, debian } from '../inputs';
import { CacheEntry, cacheKey } from './cache';
import type { StepContext, StepRunner } from './steps';

export const IN_ROOT_SCRIPT = path.resolve(__dirname, '..', 'scripts', 'in-root.sh');

export function buildRootEntry(): CacheEntry {
  const key = cacheKey(debian.suite, debian.variant, debian.buildPackages);
  return new CacheEntry(path.join(CACHE_DIR, 'roots', `build-${debian.suite}-${key}`));
}

/** Bare minbase: no compiler, no image libraries, no OpenCV: proves the layer brings its own. */
export function smokeRootEntry(): CacheEntry {
  const key = cacheKey(debian.suite, debian.variant, 'smoke');
  return new CacheEntry(path.join(CACHE_DIR, 'roots', `smoke-${debian.suite}-${key}`));
}

export async function debootstrap(ctx: StepContext, entry: CacheEntry, mirror: string, include: readonly string[]): Promise<string> {
  const dir = entry.begin();
  const argv = ['debootstrap', `--variant=${debian.variant}`, '--arch=amd64'];
  if (include.length) argv.push(`--include=${include.join(',')}`);
  await ctx.exec([...argv, debian.suite, dir, mirror]);
  // Package caches are not needed again and would only bloat the cache.
  await ctx.exec(['sh', '-c', 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*', 'sh', dir]);
  return entry.commit();
}

/** Runs a command inside a root with only the given environment (plus PATH, HOME, LANG). */
export function inRoot(root: string, env: Record<string, string>, argv: readonly string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'bash',
    IN_ROOT_SCRIPT,
    root,
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    '--',
    ...argv,
  ];
}

/**
 * The bare root the smoke test runs in. Made by the build too (it needs the Debian archive), so
 * that verification later works offline, e.g. inside the tests' loopback-only namespace.
 */
export async function ensureSmokeRoot(steps: StepRunner, mirror: () => Promise<string>): Promise<string> {
  const entry = smokeRootEntry();
  return steps.run(
    `smoke root (debian ${debian.suite} ${debian.variant}, nothing else)`,
    () => (entry.exists() ? entry.dir : undefined),
    async (ctx) => debootstrap(ctx, entry, await mirror(), []),
  );
}
