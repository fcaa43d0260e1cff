/** Debian roots made with debootstrap, and commands run inside them (in-root.sh). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StepContext } from './steps';

export const IN_ROOT_SCRIPT = path.resolve(__dirname, '..', 'scripts', 'in-root.sh');

export interface DebootstrapOptions {
  suite: string;
  variant: string;
  /** Debian architecture of the root (amd64 unless given). */
  debianArch?: string;
  /** First stage only (`--foreign`): unpacked, not configured. */
  foreign?: boolean;
  /** A cross build's target architecture and the packages (cross tools, `pkg:arch` libraries) apt adds once the root exists. */
  cross?: { debianArch: string; packages: readonly string[] };
}

/** Debootstraps a root into `dir` (an empty folder) from `mirror`, with `include` packages. */
export async function debootstrap(ctx: StepContext, dir: string, mirror: string, include: readonly string[], options: DebootstrapOptions): Promise<string> {
  const argv = ['debootstrap', `--variant=${options.variant}`, `--arch=${options.debianArch ?? 'amd64'}`];
  if (options.foreign) argv.push('--foreign');
  if (include.length) argv.push(`--include=${include.join(',')}`);
  await ctx.exec([...argv, options.suite, dir, mirror]);
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
  return dir;
}

export interface InRootOptions {
  /**
   * Run in an overlay over the root, whose upper layer, work folder and mount point go under this
   * folder: the root itself is never written (a cached root stays as debootstrap made it).
   */
  overlay?: string;
  /** Host folders or files mounted inside the root (needs `overlay`, so the mount points are made there). */
  binds?: readonly { from: string; to: string; readOnly?: boolean }[];
  /** The root is of another architecture: this program (a static emulator inside the root) runs the command. */
  emulator?: string;
}

/** Runs a command inside a root with only the given environment (plus PATH, HOME, LANG). */
export function inRoot(root: string, env: Record<string, string>, argv: readonly string[], options: InRootOptions = {}): string[] {
  const opts: string[] = [];
  if (options.overlay) opts.push('--overlay', options.overlay);
  for (const b of options.binds ?? []) opts.push(b.readOnly ? '--bind-ro' : '--bind', b.from, b.to);
  if (options.emulator) opts.push('--emulator', options.emulator);
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'bash',
    IN_ROOT_SCRIPT,
    ...opts,
    root,
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    '--',
    ...argv,
  ];
}
