/** `--arch` for build:layer and verify:layer: which Lambda architecture the layer is for. */
import { LAYER_ARCH, LAYER_ARCHES, targets, type ArchTarget, type LayerArch } from '../inputs';

/** A command line the tool cannot act on: reported as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Other names people use for Lambda's two architectures. */
const ALIASES: Record<string, LayerArch> = { amd64: 'x86_64', x64: 'x86_64', 'x86-64': 'x86_64', aarch64: 'arm64', graviton: 'arm64' };

export function isLayerArch(value: string): value is LayerArch {
  return (LAYER_ARCHES as readonly string[]).includes(value);
}

/** Takes `--arch X` / `--arch=X` out of argv (x86_64 when absent); the other arguments are returned as they were. */
export function parseArchArgs(argv: readonly string[]): { arch: LayerArch; rest: string[] } {
  let arch: LayerArch = LAYER_ARCH;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let value: string | undefined;
    if (arg === '--arch') {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--arch needs a value: ${LAYER_ARCHES.join(' or ')}`);
    } else if (arg.startsWith('--arch=')) {
      value = arg.slice('--arch='.length);
    } else {
      rest.push(arg);
      continue;
    }
    if (!isLayerArch(value)) {
      const alias = ALIASES[value.toLowerCase()];
      throw new UsageError(
        `--arch ${JSON.stringify(value)} is not a Lambda architecture: use ${LAYER_ARCHES.join(' or ')}` + (alias ? ` (Lambda calls it ${alias})` : ''),
      );
    }
    arch = value;
  }
  return { arch, rest };
}

export function targetFor(arch: LayerArch): ArchTarget {
  return targets[arch];
}
