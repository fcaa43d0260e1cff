/**
 * One cleanup run: list the prefix page by page, delete old objects in batches of up to 1000,
 * count per-key failures without stopping, and stop cleanly while time remains so the next
 * scheduled run picks up the rest. Every S3 call is aborted when the time kept to answer is
 * reached, so that one that hangs (the SDK retries a stalled call up to five times) cannot carry
 * the run past its timeout, where it would end with no summary. The listing is a loop of
 * ListObjectsV2 rather than the SDK's paginator, which takes no abort signal.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Deadlines } from '../common/deadlines';
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
  // Every S3 call is aborted when half of the margin is left: the rest is for the summary.
  const deadlines = new Deadlines(deps.remainingMs() - margin / 2);
  try {
    await cleanPages(options, deps, summary, runStart, margin, deadlines.invocation);
  } finally {
    deadlines.close();
  }
  summary.durationMs = Date.now() - started;
  return summary;
}

/** Lists the prefix a page at a time, deleting each page's expired keys, while time allows. */
async function cleanPages(options: CleanupOptions, deps: CleanupDeps, summary: CleanupResult, runStart: Date, margin: number, abortSignal: AbortSignal): Promise<void> {
  let continuationToken: string | undefined;
  // Time is checked before each list call: before the first page, and after a page only when S3 says more follow.
  if (deps.remainingMs() <= margin) {
    summary.truncated = true;
    return;
  }
  for (;;) {
    let page;
    try {
      page = await deps.s3.send(new ListObjectsV2Command({ Bucket: options.bucket, Prefix: options.prefix, MaxKeys: options.pageSize ?? 1000, ContinuationToken: continuationToken }), { abortSignal });
    } catch (err) {
      // Out of time, or S3 refused the page (after the SDK's retries): what was done stands, the next run goes on.
      summary.truncated = true;
      summary.listFailure = errorCode(err, abortSignal);
      deps.log.error('listing failed; the run stops here', { code: summary.listFailure, error: errorMessage(err, abortSignal) });
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
        await deleteBatch(options.bucket, batch, deps, summary, abortSignal);
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

async function deleteBatch(bucket: string, keys: string[], deps: CleanupDeps, summary: CleanupResult, abortSignal: AbortSignal): Promise<void> {
  summary.deleteCalls += 1;
  let errors;
  try {
    const result = await deps.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }), { abortSignal });
    errors = result.Errors ?? [];
  } catch (err) {
    // The whole batch failed (after the SDK's retries, or out of time): count its keys, go on (the time check stops the run).
    const code = errorCode(err, abortSignal);
    summary.failures[code] = (summary.failures[code] ?? 0) + keys.length;
    summary.failed += keys.length;
    deps.log.error('delete batch failed', { keys: keys.length, code, error: errorMessage(err, abortSignal) });
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

/**
 * An error's code as S3 and the SDK name it. The SDK rejects a call aborted at the deadline with
 * the signal's reason or its own AbortError: both are `TimedOut`.
 */
function errorCode(err: unknown, abortSignal: AbortSignal): string {
  if (abortSignal.aborted) return 'TimedOut';
  return (err as Error).name || 'Unknown';
}

function errorMessage(err: unknown, abortSignal: AbortSignal): string {
  return abortSignal.aborted ? 'no answer before the time kept to answer' : (err as Error).message;
}
