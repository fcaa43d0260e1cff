/**
 * One cleanup run: list the prefix page by page, delete old objects in batches of up to 1000,
 * count per-key failures without stopping, and stop cleanly while time remains so the next
 * scheduled run picks up the rest. Every S3 call is aborted when the time kept to answer is
 * reached, so that one that hangs (the SDK retries a stalled call up to five times) cannot carry
 * the run past its timeout, where it would end with no summary. The listing is a loop of
 * ListObjectsV2 rather than the SDK's paginator, which takes no abort signal.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../common/logger';
import type { CleanupResult } from './contract';
import { batches, judge } from './select';

export interface CleanupOptions {
  readonly bucket: string;
  readonly prefix: string;
  readonly maxAgeMs: number;
  readonly dryRun: boolean;
  /** Stop starting new work when no more than this remains. @default a quarter of the time left at start, within 1-10 s */
  readonly safetyMarginMs?: number;
  /** @default 1000 */
  readonly pageSize?: number;
}

export interface CleanupDeps {
  readonly s3: Pick<S3Client, 'send'>;
  readonly log: Logger;
  readonly now: () => Date;
  readonly remainingMs: () => number;
}

export async function runCleanup(options: CleanupOptions, deps: CleanupDeps): Promise<CleanupResult> {
  const started = Date.now();
  // A short timeout still leaves three quarters of itself for work; never less than 1 s of margin.
  const margin = options.safetyMarginMs ?? Math.min(10_000, Math.max(1_000, deps.remainingMs() / 4));
  const summary: CleanupResult = {
    scanned: 0,
    deleted: 0,
    kept: 0,
    failed: 0,
    wouldDelete: 0,
    truncated: false,
    dryRun: options.dryRun,
    listCalls: 0,
    deleteCalls: 0,
    failures: {},
    durationMs: 0,
  };
  const runStart = deps.now();
  // A call started with more than the margin left is aborted when half of it is left: the rest is for the summary.
  const bounded = <T>(call: (abortSignal: AbortSignal) => Promise<T>) => withDeadline(Math.max(0, deps.remainingMs() - margin / 2), call);
  let continuationToken: string | undefined;
  // Time is checked before each list call: before the first page, and after a page only when S3 says more follow.
  if (deps.remainingMs() <= margin) summary.truncated = true;
  else {
    for (;;) {
      let page;
      try {
        page = await bounded((abortSignal) =>
          deps.s3.send(new ListObjectsV2Command({ Bucket: options.bucket, Prefix: options.prefix, MaxKeys: options.pageSize ?? 1000, ContinuationToken: continuationToken }), { abortSignal }),
        );
      } catch (err) {
        // Out of time, or S3 refused the page (after the SDK's retries): what was done stands, the next run goes on.
        summary.truncated = true;
        summary.listFailure = errorCode(err);
        deps.log.error('listing failed; the run stops here', { code: summary.listFailure, error: (err as Error).message });
        break;
      }
      summary.listCalls += 1;
      const doomed: string[] = [];
      for (const object of page.Contents ?? []) {
        summary.scanned += 1;
        const verdict = judge({ key: object.Key, lastModified: object.LastModified }, options.prefix, runStart, options.maxAgeMs);
        if (verdict === 'delete') doomed.push(object.Key!);
        else if (verdict === 'keep') summary.kept += 1;
        else deps.log.warn('listing returned a key outside the prefix; left alone', { key: object.Key, prefix: options.prefix });
      }
      if (options.dryRun) {
        summary.wouldDelete += doomed.length;
        if (doomed.length) deps.log.info('dry run: would delete', { count: doomed.length, sample: doomed.slice(0, 10) });
      } else {
        for (const batch of batches(doomed)) {
          if (deps.remainingMs() <= margin) {
            summary.truncated = true;
            break;
          }
          await deleteBatch(options.bucket, batch, deps, summary, bounded);
        }
        if (summary.truncated) break;
      }
      // A page that is not truncated ends the listing, whatever token comes with it (as S3 documents it).
      if (!page.IsTruncated || !page.NextContinuationToken) break;
      continuationToken = page.NextContinuationToken;
      if (deps.remainingMs() <= margin) {
        summary.truncated = true;
        break;
      }
    }
  }
  summary.durationMs = Date.now() - started;
  return summary;
}

async function deleteBatch(bucket: string, keys: string[], deps: CleanupDeps, summary: CleanupResult, bounded: <T>(call: (abortSignal: AbortSignal) => Promise<T>) => Promise<T>): Promise<void> {
  summary.deleteCalls += 1;
  let errors;
  try {
    const result = await bounded((abortSignal) => deps.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }), { abortSignal }));
    errors = result.Errors ?? [];
  } catch (err) {
    // The whole batch failed (after the SDK's retries, or out of time): count its keys, go on (the time check stops the run).
    const code = errorCode(err);
    summary.failures[code] = (summary.failures[code] ?? 0) + keys.length;
    summary.failed += keys.length;
    deps.log.error('delete batch failed', { keys: keys.length, code, error: (err as Error).message });
    return;
  }
  for (const error of errors) {
    const code = error.Code ?? 'Unknown';
    summary.failures[code] = (summary.failures[code] ?? 0) + 1;
    deps.log.warn('delete failed for a key', { key: error.Key, code, error: error.Message });
  }
  summary.failed += errors.length;
  summary.deleted += keys.length - errors.length;
}

/** An error's code as S3 and the SDK name it; an abort at the deadline is `TimedOut`. */
function errorCode(err: unknown): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return 'TimedOut';
  return (err as Error).name || 'Unknown';
}

/**
 * `call` with an abort signal that fires after `ms` (on this process's timers: a test's fake clock
 * drives it). The SDK rejects an aborted call with the signal's reason or its own AbortError; both
 * come out as the deadline's TimeoutError.
 */
async function withDeadline<T>(ms: number, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const deadline = new DOMException(`no answer within ${Math.round(ms)} ms, the time the run had left`, 'TimeoutError');
  const timer = setTimeout(() => controller.abort(deadline), ms);
  try {
    return await call(controller.signal);
  } catch (err) {
    throw controller.signal.aborted ? deadline : err;
  } finally {
    clearTimeout(timer);
  }
}
