/** Debian roots made with debootstrap: one with the toolchain for building, one bare for the smoke test. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, debian, targets, type ArchTarget } from '../inputs';
import { CacheEntry, cacheKey } from './cache';
import type { StepContext, StepRunner } from './steps';

export const IN_ROOT_SCRIPT = path.resolve(__dirname, '..', 'scripts', 'in-root.sh');

/** The amd64 root the layer is compiled in; a cross build's root also holds the target's toolchain and libraries. */
export function buildRootEntry(target: ArchTarget = targets.x86_64): CacheEntry {
  if (!target.emulator) {
    const key = cacheKey(debian.suite, debian.variant, debian.buildPackages);
    return new CacheEntry(path.join(CACHE_DIR, 'roots', `build-${debian.suite}-${key}`));
  }
  const key = cacheKey(debian.suite, debian.variant, target.buildPackages, target.debianArch, target.crossPackages);
  return new CacheEntry(path.join(CACHE_DIR, 'roots', `build-${debian.suite}-cross-${target.arch}-${key}`));
}

/**
 * Bare minbase of the target architecture: no compiler, no image libraries, no OpenCV: proves the
 * layer brings its own. For a foreign architecture only debootstrap's first stage (it unpacks the
 * base system: loader, libc, libstdc++; configuring it would need the emulator registered in binfmt).
 */
export function smokeRootEntry(target: ArchTarget = targets.x86_64): CacheEntry {
  if (!target.emulator) {
    const key = cacheKey(debian.suite, debian.variant, 'smoke');
    return new CacheEntry(path.join(CACHE_DIR, 'roots', `smoke-${debian.suite}-${key}`));
  }
  const key = cacheKey(debian.suite, debian.variant, 'smoke', target.debianArch, 'foreign');
  return new CacheEntry(path.join(CACHE_DIR, 'roots', `smoke-${debian.suite}-${target.arch}-${key}`));
}

export interface RootOptions {
  /** Debian architecture of the root (amd64 unless given). */
  debianArch?: 'amd64' | 'arm64';
  /** First stage only (`--foreign`): unpacked, not configured. */
  foreign?: boolean;
  /** A cross build's target architecture and the packages (cross tools, `pkg:arch` libraries) apt adds once the root exists. */
  cross?: { debianArch: string; packages: readonly string[] };
}

export async function debootstrap(ctx: StepContext, entry: CacheEntry, mirror: string, include: readonly string[], options: RootOptions = {}): Promise<string> {
  const dir = entry.begin();
  const argv = ['debootstrap', `--variant=${debian.variant}`, `--arch=${options.debianArch ?? 'amd64'}`];
  if (options.foreign) argv.push('--foreign');
  if (include.length) argv.push(`--include=${include.join(',')}`);
  await ctx.exec([...argv, debian.suite, dir, mirror]);
  const proc = path.join(dir, 'proc');
  if (options.foreign && fs.lstatSync(proc).isSymbolicLink()) {
    // The first stage links proc to the host's /proc (the second stage would mount it): inside a
    // chroot that link points at itself. An empty folder for in-root.sh to mount proc on.
    fs.unlinkSync(proc);
    fs.mkdirSync(proc);
  }
  if (options.cross) {
    // Multiarch: the target's -dev packages install beside the host's, under /usr/lib/<triplet>.
    // The root's sources.list (written by debootstrap) names the same mirror.
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await ctx.exec(inRoot(dir, env, ['dpkg', '--add-architecture', options.cross.debianArch]));
    await ctx.exec(inRoot(dir, env, ['apt-get', 'update']));
    await ctx.exec(inRoot(dir, env, ['apt-get', 'install', '-y', '--no-install-recommends', ...options.cross.packages]));
  }
  // Package caches are not needed again and would only bloat the cache.
  await ctx.exec(['sh', '-c', 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*', 'sh', dir]);
  return entry.commit();
}

/** Debootstraps the build root for a target (amd64; plus cross tools and target libraries for a cross build). */
export function debootstrapBuildRoot(ctx: StepContext, target: ArchTarget, mirror: string): Promise<string> {
  const cross = target.emulator ? { debianArch: target.debianArch, packages: target.crossPackages } : undefined;
  return debootstrap(ctx, buildRootEntry(target), mirror, target.buildPackages, { cross });
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
export async function ensureSmokeRoot(steps: StepRunner, mirror: () => Promise<string>, target: ArchTarget = targets.x86_64): Promise<string> {
  const entry = smokeRootEntry(target);
  const what = target.emulator ? `${target.debianArch}, first stage` : 'nothing else';
  return steps.run(
    `smoke root (debian ${debian.suite} ${debian.variant}, ${what})`,
    () => (entry.exists() ? entry.dir : undefined),
    async (ctx) => debootstrap(ctx, entry, await mirror(), [], target.emulator ? { debianArch: target.debianArch, foreign: true } : {}),
  );
}
