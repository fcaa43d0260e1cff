/**
 * Time budget -> detector input pixels. YuNet through cv.dnn costs about the pixels it is fed,
 * with little per-call overhead, so a budget in milliseconds is a budget in input pixels.
 */

/**
 * Input pixels per millisecond of the whole detect stage (pyramid, tile resizes, blob, forward,
 * decode, merge) with one OpenCV thread, YuNet 2023mar through the layer's addon. Measured by
 * `npm run bench` (real-size section, "detect throughput"), see README "Detection at real sizes".
 */
export const YUNET_PIXELS_PER_MS = 6_000;

/** Lambda gives a function one full vCPU at 1769 MB, and CPU in proportion to memory below that. */
export function lambdaCpuShare(memoryMb: number): number {
  return Math.min(1, Math.max(0.05, memoryMb / 1769));
}

/**
 * The detector input pixels `ms` milliseconds buy on a `cpuShare` of one core (1 on a machine
 * with a free core; `lambdaCpuShare(memory)` on Lambda). Feed it to `DetectOptions.maxNetworkPixels`.
 */
export function networkPixelsForBudget(ms: number, cpuShare = 1, pixelsPerMs = YUNET_PIXELS_PER_MS): number {
  return Math.max(0, Math.floor(ms * pixelsPerMs * cpuShare));
}
