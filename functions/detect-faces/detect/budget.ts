/**
 * Time budget -> detector input pixels. YuNet through cv.dnn costs about the pixels it is fed,
 * with little per-call overhead, so a budget in milliseconds is a budget in input pixels.
 */
// In the contract: the stack's deadline check (contract/deadline.ts) scales by it too.
import type { Looks } from '../contract';
export { lambdaCpuShare } from '../contract';

/**
 * Input pixels per millisecond of the whole detect stage (pyramid, tile resizes, blob, forward,
 * decode, merge) with one OpenCV thread, YuNet 2023mar through the layer's addon. `npm run bench --
 * --real-size` ("detect throughput") measured 12,640 on one core of an AMD EPYC with the machine
 * nearly idle (load 2.4-2.8 on 2 cores) and 5,200-5,400 with it busy (load 8-12); forward alone
 * was 7,600-8,700 on a Xeon. 8,000 holds on a Xeon-class core with no one else on it.
 */
export const YUNET_PIXELS_PER_MS = 8_000;

/**
 * Network-input pixels each kind of look (contract LOOKS) feeds per pixel of its plan: the budget
 * buys a plan of the budget's pixels over this. A mirrored look costs what the first does. The
 * cascade's crops add at most CROP_DEFAULTS.maxArea (0.6) of the input, padded as the second
 * network is fed them; with its per-crop calls the cascade measured 1.64-1.72x one look on WIDER's
 * photos and 1.61-2.07x at 1080p and 12 MP over twelve runs (`npm run bench -- --real-size`; over
 * 1.96x only on the 12 MP crowd, where the area limit binds): 2, within the runs' noise. The
 * cascade over YuNet_n measured 1.93-2.21x one look of YuNet 2023mar at 1080p and 12 MP (its one
 * look 1.25-1.30x; medians of 9 interleaved runs): 2.2.
 */
export const LOOKS_COST: Readonly<Record<Looks, number>> = { single: 1, flip: 2, cascade: 2, 'cascade-n': 2.2 };

/**
 * The detector input pixels `ms` milliseconds buy on a `cpuShare` of one core (1 on a machine
 * with a free core; `lambdaCpuShare(memory)` on Lambda). Feed it to `DetectOptions.maxNetworkPixels`.
 */
export function networkPixelsForBudget(ms: number, cpuShare = 1, pixelsPerMs = YUNET_PIXELS_PER_MS): number {
  return Math.max(0, Math.floor(ms * pixelsPerMs * cpuShare));
}
