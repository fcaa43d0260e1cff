/**
 * The addon (@u4/opencv4nodejs): its pinned packages fetched with the host's npm (registry access,
 * CA setup, no install scripts), then compiled in a sandboxed overlay over the build root against
 * OpenCV (read-only at /opt) and Node's headers; its shared-library closure and licences collected.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ELF_MACHINES, readElfMachine } from '../../build-kit/elf';
import { inRoot } from '../../build-kit/roots';
import type { StageContext } from '../../build-kit/stages';

const SCRIPTS = path.resolve(__dirname, '..', '..', 'scripts');
/** The scripts this stage runs in the root (the table hashes them into its key). */
export const ADDON_SCRIPTS = {
  build: path.join(SCRIPTS, 'build-addon.sh'),
  licence: path.join(SCRIPTS, 'licence-of.sh'),
  cross: path.join(SCRIPTS, 'build-addon-cross.sh'),
} as const;

export interface AddonInputs {
  /** The Node whose headers it compiles against (and whose x64 binary runs node-gyp). */
  node: { version: string; package: string };
  /** Folder of package.json + package-lock.json that pin the addon and its build tools. */
  lockDir: string;
  /** Sonames the target system provides (everything else it needs is shipped). */
  systemLibraries: readonly string[];
  /** OpenCV modules it binds. */
  addonModules: readonly string[];
  elfMachine: { code: number; name: string };
  cross?: { triplet: string; arch: string };
}

/** Where things are (not what they are: no key input): Node unpacked (the version of `inputs.node`), the job count. */
export interface AddonPlaces {
  nodeDir: string;
  jobs: string;
}

export async function buildAddon(ctx: StageContext, inputs: AddonInputs, { nodeDir, jobs }: AddonPlaces): Promise<void> {
  const work = path.join(ctx.scratch, 'work');
  fs.mkdirSync(path.join(work, 'addon'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(inputs.lockDir, f), path.join(work, 'addon', f));
  // Fetch with the host's npm; nothing it fetched runs until the sandbox.
  await ctx.exec(['npm', 'ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: path.join(work, 'addon') });
  for (const script of Object.values(ADDON_SCRIPTS)) fs.copyFileSync(script, path.join(work, path.basename(script)));
  // build-addon.sh ships OpenCV's own licence from /work/opencv-src (the install tree has only its third parties').
  fs.mkdirSync(path.join(work, 'opencv-src'));
  await ctx.exec(['tar', '-xJf', ctx.input('source'), '-C', path.join(work, 'opencv-src'), '--strip-components=1', '--wildcards', '--no-wildcards-match-slash', '*/LICENSE']);
  if (!fs.existsSync(path.join(work, 'opencv-src', 'LICENSE'))) throw new Error(`no LICENSE at the top of ${ctx.input('source')}`);
  const env = { JOBS: jobs, SYSTEM_LIBS: inputs.systemLibraries.join(' '), ADDON_MODULES: inputs.addonModules.join(' ') };
  const script = inputs.cross ? '/work/build-addon-cross.sh' : '/work/build-addon.sh';
  const crossEnv: Record<string, string> = inputs.cross ? { TRIPLET: inputs.cross.triplet, NODE_GYP_ARCH: inputs.cross.arch } : {};
  await ctx.exec(addonInRoot({ root: ctx.input('root'), scratch: ctx.scratch, opencv: ctx.input('opencv'), nodeDir }, { ...env, ...crossEnv }, ['bash', script]));
  const machine = readElfMachine(path.join(work, 'out', 'addon', 'opencv4nodejs.node'));
  if (machine !== inputs.elfMachine.code) {
    throw new Error(`the addon was built for ${ELF_MACHINES[machine ?? -1] ?? `e_machine ${machine}`}, not ${inputs.elfMachine.name}`);
  }
  fs.cpSync(path.join(work, 'out'), ctx.out, { recursive: true });
  const pkg = path.join(work, 'addon', 'node_modules', '@u4', 'opencv4nodejs');
  for (const f of ['cjs', 'package.json', 'LICENSE']) fs.cpSync(path.join(pkg, f), path.join(ctx.out, 'pkg', f), { recursive: true });
  const header = fs.readFileSync(path.join(nodeDir, 'include', 'node', 'node_version.h'), 'utf8');
  fs.writeFileSync(path.join(ctx.out, 'node-abi.txt'), header.match(/#define NODE_MODULE_VERSION (\d+)/)![1]);
}

/**
 * How the addon step runs a command: in an overlay over the build root, sandboxed (no network, own
 * PID namespace, mapped root), with `<scratch>/work` writable at /work, OpenCV read-only at /opt
 * and Node read-only at /node. Exported so a test runs a probe exactly as the build runs the script.
 */
export function addonInRoot(at: { root: string; scratch: string; opencv: string; nodeDir: string }, env: Record<string, string>, argv: readonly string[]): string[] {
  return inRoot(at.root, env, argv, {
    overlay: path.join(at.scratch, 'overlay'),
    binds: [
      { from: path.join(at.scratch, 'work'), to: '/work' },
      { from: at.opencv, to: '/opt', readOnly: true },
      { from: path.join(at.nodeDir, 'bin'), to: '/node/bin', readOnly: true },
      { from: path.join(at.nodeDir, 'include'), to: '/node/include', readOnly: true },
    ],
    sandbox: true,
  });
}
