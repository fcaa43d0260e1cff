/** The Debian roots of the build: the build root (toolchain, libraries) and the bare smoke root verify:layer runs the layer in. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debootstrap } from '../../build-kit/roots';
import type { StageContext } from '../../build-kit/stages';

export interface BuildRootInputs {
  suite: string;
  variant: string;
  packages: readonly string[];
  /** A cross build's target architecture and what apt adds for it (cross toolchain, target libraries). */
  cross?: { debianArch: string; packages: readonly string[] };
}

/** debootstrap as real root with the network: it installs packages, which needs both (docs/layer.md). */
export async function makeBuildRoot(ctx: StageContext, inputs: BuildRootInputs): Promise<void> {
  await debootstrap(ctx, ctx.out, ctx.mirror(), inputs.packages, { suite: inputs.suite, variant: inputs.variant, cross: inputs.cross });
}

export interface SmokeRootInputs {
  suite: string;
  variant: string;
  /** A foreign architecture (its first stage only: configuring would need the emulator in binfmt). */
  foreign?: { debianArch: string };
}

/**
 * Bare minbase of the target architecture: no compiler, no image libraries, no OpenCV: proves the
 * layer brings its own. For a foreign architecture only debootstrap's first stage (loader, libc,
 * libstdc++ unpacked).
 */
export async function makeSmokeRoot(ctx: StageContext, inputs: SmokeRootInputs): Promise<void> {
  await debootstrap(ctx, ctx.out, ctx.mirror(), [], {
    suite: inputs.suite,
    variant: inputs.variant,
    ...(inputs.foreign ? { debianArch: inputs.foreign.debianArch, foreign: true } : {}),
  });
}

/** Installed packages of a root, from its dpkg database, as `name:arch version` (sorted). */
export function rootPackages(root: string): string[] {
  return parseDpkgStatus(fs.readFileSync(path.join(root, 'var', 'lib', 'dpkg', 'status'), 'utf8'));
}

/** `name:arch version` of every package dpkg's status file says is installed, sorted. */
export function parseDpkgStatus(text: string): string[] {
  const out: string[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(stanza)?.[1].trim();
    const [pkg, arch, version, status] = [field('Package'), field('Architecture'), field('Version'), field('Status')];
    if (pkg && arch && version && status?.endsWith(' installed')) out.push(`${pkg}:${arch} ${version}`);
  }
  return out.sort();
}
