/**
 * The deadline model of detect-faces, for both of its entries (a direct call, a batch of uploads)
 * and for the stack's check of its settings: one fact in one place.
 *
 * A photo's worst case is one sum, each term named:
 *   downloadTimeoutMs   its read (a download, or the upload's GetObject), retries included
 * + detectBudgetMs      its detection (sizes the detector's input from the CPU it has)
 * + imageWorkMs         everything else it computes: inspect, decode, mark (drawn, or in the JPEG's
 *                       coefficients), encode, metadata strip (IMAGE_WORK_MS, scaled)
 * + writeTimeoutMs      its writes (the image; for an upload also its record and checks)
 * + answerMarginMs      what the invocation keeps back to answer (ANSWER_MARGIN_MS)
 * The stack refuses settings whose sum exceeds the function's timeout (stack/config.ts), and a
 * batch starts a photo only when the sum fits the time left (uploads/batch.ts).
 *
 * The deadlines themselves run as abort signals (functions/common/deadlines.ts).
 */
import { lambdaCpuShare } from './env';

/** What each invocation keeps back from Lambda's remaining time to answer (a result, or a batch's failures). */
export const ANSWER_MARGIN_MS = 500;

/**
 * The time a photo's work outside detection may take, on one full vCPU (FULL_VCPU_MEMORY_MB), for
 * a photo of up to IMAGE_WORK_PIXELS. Chosen from `npm run bench -- --lossless` and `-- --marks`
 * (one thread, this project's 2-core Xeon; the lossless bench run twice, at load 2-6): the worst
 * 12 MP case is 4000x3000 with 40 faces on the coefficient path, 182-197 ms (open 13 + mark 157-169 +
 * save 12-15), after the pixel decode (21-40 ms); a re-encode instead, when that path refuses the
 * file, adds at most 46 ms (blur, 44 faces: mark + encode); the metadata strip 0.3 ms. So ~300 ms
 * in all, linear in pixels: ~1 s at 40 MP. 2 s covers that on a core up to 2x slower (the spread
 * measured between this project's EPYC and Xeon machines) and leaves 6x for 12 MP.
 * @default 2000
 */
export const IMAGE_WORK_MS = 2_000;

/** The largest photo IMAGE_WORK_MS is chosen for: the default maxImagePixels (40 MP). */
export const IMAGE_WORK_PIXELS = 40_000_000;

/**
 * The image work term at a deployment's memory and largest photo: IMAGE_WORK_MS stretched in
 * proportion to less CPU (Lambda gives CPU in proportion to memory) and to larger photos.
 */
export function imageWorkMs(memoryMb: number, maxImagePixels: number): number {
  return Math.ceil((IMAGE_WORK_MS * Math.max(1, maxImagePixels / IMAGE_WORK_PIXELS)) / lambdaCpuShare(memoryMb));
}

/** The terms of one photo's worst case, ms. */
export interface DeadlineTerms {
  readonly downloadTimeoutMs: number;
  readonly detectBudgetMs: number;
  readonly imageWorkMs: number;
  readonly writeTimeoutMs: number;
  readonly answerMarginMs: number;
}

/** Names of the terms as the stack's settings and messages say them, in the order a photo spends them. */
export const DEADLINE_TERMS: Readonly<Record<keyof DeadlineTerms, string>> = {
  downloadTimeoutMs: 'the read deadline downloadTimeoutMs',
  detectBudgetMs: 'the detect budget detectBudgetMs',
  imageWorkMs: 'the image work allowance at detectMemoryMb and maxImagePixels',
  writeTimeoutMs: 'the write deadline writeTimeoutMs',
  answerMarginMs: 'the answer margin',
};

/** Time one photo may take at worst, the answer kept back included: the sum of its terms. */
export function photoWorstCaseMs(terms: DeadlineTerms): number {
  return terms.downloadTimeoutMs + terms.detectBudgetMs + terms.imageWorkMs + terms.writeTimeoutMs + terms.answerMarginMs;
}
