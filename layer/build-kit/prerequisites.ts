/** What the layer build needs from the machine, each missing piece reported as one clear line. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { MissingPrerequisite } from './steps';

/**
 * Debian's default public archive (what debootstrap itself defaults to): used when the machine's apt
 * sources name no Debian mirror, e.g. on an Ubuntu CI runner.
 */
export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/**
 * The Debian archive the build root and the OpenCV source come from: `LAYER_DEBIAN_MIRROR` if set,
 * else the machine's own Debian mirror from its apt sources (so a team's local mirror is used),
 * else Debian's default public archive.
 */
export function debianMirror(env: NodeJS.ProcessEnv = process.env, sources = readAptSources()): { url: string; from: string } {
  if (env.LAYER_DEBIAN_MIRROR) return { url: env.LAYER_DEBIAN_MIRROR.replace(/\/+$/, ''), from: 'LAYER_DEBIAN_MIRROR' };
  const mirror = parseDebianMirror(sources);
  if (mirror) return { url: mirror, from: 'apt sources' };
  return { url: DEFAULT_DEBIAN_MIRROR, from: "Debian's default archive (no Debian mirror in apt sources)" };
}

/** First `deb` URI of the main archive (not -security, not a third-party repo) in one-line or deb822 sources. */
export function parseDebianMirror(text: string): string | undefined {
  const uris: string[] = [];
  for (const line of text.split('\n')) {
    const oneLine = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/.exec(line);
    if (oneLine) uris.push(oneLine[1]);
    const deb822 = /^\s*URIs:\s*(.+)$/i.exec(line);
    if (deb822) uris.push(...deb822[1].trim().split(/\s+/));
  }
  return uris.map((u) => u.replace(/\/+$/, '')).find((u) => /^https?:\/\/.+\/debian$/.test(u));
}

function readAptSources(): string {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.endsWith('.list') || name.endsWith('.sources')) files.push(`${dir}/${name}`);
    }
  }
  return files.map((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '')).join('\n');
}

export function requireRoot(uid: number | undefined = process.getuid?.()): void {
  if (uid !== undefined && uid !== 0) {
    throw new MissingPrerequisite(
      'the layer build needs root (it runs debootstrap and chroot): run it as root, e.g. `sudo -E npm run build:layer`',
    );
  }
}

const commandPackages: Record<string, string> = {
  debootstrap: 'debootstrap',
  unshare: 'util-linux',
  setpriv: 'util-linux',
  flock: 'util-linux',
  chroot: 'coreutils',
  tar: 'tar',
  xz: 'xz-utils',
  unzip: 'unzip',
  readelf: 'binutils',
  // The arm64 layer's smoke test runs its Node and addon under user-mode emulation.
  'qemu-aarch64-static': 'qemu-user-static',
};

export function requireCommands(names: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  for (const name of names) {
    const found = spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore', env }).status === 0;
    if (!found) {
      const pkg = commandPackages[name] ?? name;
      throw new MissingPrerequisite(`\`${name}\` is not installed: \`apt-get install -y ${pkg}\` (Debian/Ubuntu)`);
    }
  }
}

/** Fails fast, before any long step, when the archive cannot be reached. */
export async function requireArchive(mirror: string, suite: string, from = 'LAYER_DEBIAN_MIRROR'): Promise<void> {
  const url = `${mirror}/dists/${suite}/Release`;
  try {
    const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new MissingPrerequisite(
      `cannot reach the Debian archive at ${url} (${why}; mirror from ${from}): the build root and the OpenCV source come from it; check the network or set LAYER_DEBIAN_MIRROR`,
    );
  }
}

/** The machine's Debian mirror, checked to answer for `suite` before any long step uses it. */
export async function reachableMirror(suite: string): Promise<string> {
  const mirror = debianMirror();
  await requireArchive(mirror.url, suite, mirror.from);
  return mirror.url;
}
