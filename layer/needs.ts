/**
 * `tsx layer/needs.ts start|test|deploy`: which layer builds scripts/setup.sh runs for what the
 * machine is being set up for, one `build:layer` argument list a line on stdout; on stderr, what
 * each will cost (the cold stages still to run, from the stage table's measured durations).
 *
 *   start   `npm start` runs the x86_64 layer here: its zip only. When the stack's architecture
 *           (cdktf.json's context, or FACE_ARCHITECTURE) is arm64, that zip too, since a deploy will need it.
 *   test    `npm test` (and so CI): both architectures' zips, with what verify:layer needs to
 *           test them (the smoke roots and each architecture's Node binary).
 *   deploy  the stack's architecture's zip only (CI's plan and deploy jobs).
 */
import { LAYER_ARCH, LAYER_ARCHES, targets, type LayerArch } from './inputs';
import { formatDuration } from './build-kit/steps';
import { BUILD_GOALS, planLayer } from './rules/layer-stages';
import { UsageError } from './rules/arch';
import { loadConfig, projectContext } from '../stack/config';

export const PURPOSES = ['start', 'test', 'deploy'] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface LayerNeed {
  arch: LayerArch;
  /** The zip only (no smoke root, no target Node binary). */
  layerOnly: boolean;
}

/** The builds a purpose needs, given the stack's architecture. */
export function layerNeeds(purpose: Purpose, stackArch: LayerArch): LayerNeed[] {
  if (purpose === 'test') return LAYER_ARCHES.map((arch) => ({ arch, layerOnly: false }));
  if (purpose === 'deploy') return [{ arch: stackArch, layerOnly: true }];
  return [...new Set([LAYER_ARCH, stackArch])].map((arch) => ({ arch, layerOnly: true }));
}

export function buildArgs(need: LayerNeed): string[] {
  return ['--arch', need.arch, ...(need.layerOnly ? ['--layer-only'] : [])];
}

/** What is left to build for a need: the measured minutes of its stages that are not cached. */
export function expectedMs(need: LayerNeed, exists?: (file: string) => boolean): number {
  return planLayer(targets[need.arch], need.layerOnly ? ['layer'] : BUILD_GOALS, { exists }).expectedMs;
}

function main(): void {
  const purpose = process.argv[2] ?? 'start';
  if (!(PURPOSES as readonly string[]).includes(purpose)) throw new UsageError(`unknown purpose ${JSON.stringify(purpose)}: use ${PURPOSES.join(', ')}`);
  // The architecture the synth will read: cdktf.json's context, then FACE_ARCHITECTURE.
  const needs = layerNeeds(purpose as Purpose, loadConfig(projectContext()).architecture);
  let total = 0;
  for (const need of needs) {
    const ms = expectedMs(need);
    total += ms;
    process.stderr.write(`[setup] layer ${need.arch}${need.layerOnly ? '' : ' (with what verify:layer needs)'}: ${ms ? `about ${formatDuration(ms)} to build` : 'cached'}\n`);
    process.stdout.write(`${buildArgs(need).join(' ')}\n`);
  }
  if (total) process.stderr.write(`[setup] expected time for the layers: about ${formatDuration(total)} (stage durations measured on 2 cores; longer under load)\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`layer/needs.ts: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
