/**
 * Would a rebuild take the same Debian packages? The manifest records every package of the build
 * root (`name:arch version`); the archive's index for the suite says what debootstrap and apt
 * would install today. Differences are reported, not failed: the layer at hand is still what it is.
 */
import { execFileSync } from 'node:child_process';

/** `name:arch` -> version from a Debian `Packages` index (one stanza per package). */
export function parsePackagesIndex(text: string, into: Map<string, string> = new Map()): Map<string, string> {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(stanza)?.[1].trim();
    const [pkg, arch, version] = [field('Package'), field('Architecture'), field('Version')];
    if (pkg && arch && version) into.set(`${pkg}:${arch}`, version);
  }
  return into;
}

/** What would differ: one line per recorded package whose version the index no longer has. */
export function rebuildDifferences(recorded: readonly string[], index: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const entry of recorded) {
    const [name, version] = entry.split(' ');
    const now = index.get(name);
    if (now === undefined) out.push(`${name} ${version}: no longer in the archive`);
    else if (now !== version) out.push(`${name} ${version} -> ${now}`);
  }
  return out;
}

/** The Debian architectures whose indexes hold the recorded packages (`all` is in each of them). */
export function indexArches(recorded: readonly string[]): string[] {
  const arches = new Set(recorded.map((e) => e.split(' ')[0].split(':')[1]).filter((a) => a && a !== 'all'));
  return [...arches].sort();
}

export interface RebuildCheck {
  /** Whether the archive answered. */
  checked: boolean;
  packages: number;
  differences: string[];
  /** Why it could not check. */
  error?: string;
}

/** Fetches the suite's `main` indexes for the recorded architectures and compares. */
export async function checkRebuild(recorded: readonly string[], mirror: string, suite: string): Promise<RebuildCheck> {
  const index = new Map<string, string>();
  try {
    for (const arch of indexArches(recorded)) {
      const url = `${mirror}/dists/${suite}/main/binary-${arch}/Packages.xz`;
      const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
      if (!res.ok) throw new Error(`GET ${url} answered HTTP ${res.status}`);
      const text = execFileSync('xz', ['-dc'], { input: Buffer.from(await res.arrayBuffer()), maxBuffer: 512 * 1024 * 1024 }).toString('utf8');
      parsePackagesIndex(text, index);
    }
  } catch (err) {
    const why = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
    return { checked: false, packages: recorded.length, differences: [], error: why };
  }
  return { checked: true, packages: recorded.length, differences: rebuildDifferences(recorded, index) };
}
