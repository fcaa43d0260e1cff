/** Debian roots made with debootstrap, and commands run inside them (in-root.sh). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StepContext } from './steps';

export const IN_ROOT_SCRIPT = path.resolve(__dirname, 'in-root.sh');

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

/** A Debian package name, optionally `:arch` (nothing debootstrap or apt could read as an option or a list). */
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?$/;
const WORD = /^[a-z0-9][a-z0-9.-]*$/;

/** debootstrap's argv (it takes no `--`: every operand is checked not to look like an option). */
export function debootstrapArgv(dir: string, mirror: string, include: readonly string[], options: DebootstrapOptions): string[] {
  for (const pkg of include) if (!DEBIAN_PACKAGE.test(pkg)) throw new Error(`${JSON.stringify(pkg)} is not a Debian package name`);
  if (!/^https?:\/\/[^\s]+$/.test(mirror)) throw new Error(`the Debian mirror must be an http(s) URL: ${JSON.stringify(mirror)}`);
  if (!path.isAbsolute(dir) || dir.includes('\0')) throw new Error(`the root folder must be an absolute path: ${JSON.stringify(dir)}`);
  if (!WORD.test(options.suite)) throw new Error(`not a Debian suite: ${JSON.stringify(options.suite)}`);
  if (!WORD.test(options.variant)) throw new Error(`not a debootstrap variant: ${JSON.stringify(options.variant)}`);
  const arch = options.debianArch ?? 'amd64';
  if (!WORD.test(arch)) throw new Error(`not a Debian architecture: ${JSON.stringify(arch)}`);
  const argv = ['debootstrap', `--variant=${options.variant}`, `--arch=${arch}`];
  if (options.foreign) argv.push('--foreign');
  if (include.length) argv.push(`--include=${include.join(',')}`);
  return [...argv, options.suite, dir, mirror];
}

/** Debootstraps a root into `dir` (an empty folder) from `mirror`, with `include` packages. */
export async function debootstrap(ctx: StepContext, dir: string, mirror: string, include: readonly string[], options: DebootstrapOptions): Promise<string> {
  await ctx.exec(debootstrapArgv(dir, mirror, include, options));
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
    const packages = options.cross.packages;
    for (const pkg of packages) if (!DEBIAN_PACKAGE.test(pkg)) throw new Error(`${JSON.stringify(pkg)} is not a Debian package name`);
    if (!WORD.test(options.cross.debianArch)) throw new Error(`not a Debian architecture: ${JSON.stringify(options.cross.debianArch)}`);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await ctx.exec(inRoot(dir, env, ['dpkg', '--add-architecture', options.cross.debianArch]));
    await ctx.exec(inRoot(dir, env, ['apt-get', 'update']));
    await ctx.exec(inRoot(dir, env, ['apt-get', 'install', '-y', '--no-install-recommends', ...packages]));
  }
  // Package caches are not needed again and would only bloat the cache.
  emptyFolder(path.join(dir, 'var', 'cache', 'apt', 'archives'), (name) => name.endsWith('.deb'));
  emptyFolder(path.join(dir, 'var', 'lib', 'apt', 'lists'), () => true);
  return dir;
}

function emptyFolder(dir: string, which: (name: string) => boolean): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) if (which(name)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
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
  /**
   * Third-party code (compilers, build scripts): no network, its own PID namespace, root mapped to
   * SANDBOX_UID outside (in-root.sh --sandbox). Needs `overlay`.
   */
  sandbox?: boolean;
}

/**
 * Who a sandboxed command is outside its user namespace: nobody (65534), the user Debian reserves
 * for owning nothing. It writes only the writable mounts, chowned to it for the run and back after.
 */
export const SANDBOX_UID = 65534;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters the overlay's mount options give a meaning to (separators, escapes). */
const OVERLAY_UNSAFE = /[,:\\]/;

function noNul(what: string, value: string): void {
  if (value.includes('\0')) throw new Error(`${what} contains a NUL byte: ${JSON.stringify(value)}`);
}

/**
 * Runs a command inside a root with only the given environment (plus PATH, HOME, LANG). Every value
 * becomes one argument of in-root.sh, which hands it on unchanged: no shell ever reads a value.
 * Refused: environment names that are not shell identifiers, NUL bytes, relative paths, mount
 * targets with `..`, and overlay paths holding `,` `:` or `\` (the overlay's own option syntax).
 */
export function inRoot(root: string, env: Record<string, string>, argv: readonly string[], options: InRootOptions = {}): string[] {
  noNul('the root', root);
  if (!path.isAbsolute(root)) throw new Error(`the root must be an absolute path: ${JSON.stringify(root)}`);
  const vars = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new Error(`${JSON.stringify(name)} is not a valid environment variable name`);
    noNul(`environment variable ${name}`, value);
    return `${name}=${value}`;
  });
  if (!argv.length || !argv[0]) throw new Error('no command to run in the root');
  argv.forEach((a, i) => noNul(`argument ${i}`, a));
  const opts: string[] = [];
  if (options.overlay) {
    for (const [what, p] of [['root', root], ['overlay folder', options.overlay]]) {
      noNul(`the ${what}`, p);
      if (!path.isAbsolute(p)) throw new Error(`the ${what} must be an absolute path: ${JSON.stringify(p)}`);
      if (OVERLAY_UNSAFE.test(p)) throw new Error(`the ${what} ${JSON.stringify(p)} holds , : or \\, which overlay mount options cannot take`);
    }
    opts.push('--overlay', options.overlay);
  }
  for (const b of options.binds ?? []) {
    if (!options.overlay) throw new Error('mounts inside the root need an overlay (the root itself is never written)');
    noNul('a mount source', b.from);
    noNul('a mount target', b.to);
    if (!path.isAbsolute(b.from)) throw new Error(`a mount source must be an absolute path: ${JSON.stringify(b.from)}`);
    if (!path.isAbsolute(b.to) || b.to.split('/').includes('..')) throw new Error(`a mount target must be an absolute path without ..: ${JSON.stringify(b.to)}`);
    opts.push(b.readOnly ? '--bind-ro' : '--bind', b.from, b.to);
  }
  if (options.sandbox) {
    if (!options.overlay) throw new Error('a sandboxed command needs an overlay');
    opts.push('--sandbox', String(SANDBOX_UID));
  }
  if (options.emulator) {
    noNul('the emulator', options.emulator);
    if (!path.isAbsolute(options.emulator)) throw new Error(`the emulator must be an absolute path inside the root: ${JSON.stringify(options.emulator)}`);
    opts.push('--emulator', options.emulator);
  }
  return ['unshare', '--mount', '--propagation', 'private', '--', 'bash', IN_ROOT_SCRIPT, ...opts, root, ...vars, '--', ...argv];
}
