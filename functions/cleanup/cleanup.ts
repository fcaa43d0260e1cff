/**
 * One cleanup run: list the prefix page by page (the SDK's paginator), delete old objects in
 * batches of up to 1000, count per-key failures without stopping, and stop cleanly while time
 * remains so the next scheduled run picks up the rest.
 */
import { DeleteObjectsCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
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
  // Time is checked before each list call the paginator would make: before the first page, and
  // after a page only when S3 says more follow.
  if (deps.remainingMs() <= margin) summary.truncated = true;
  else {
    const pages = paginateListObjectsV2(
      { client: asS3Client(deps.s3), pageSize: options.pageSize ?? 1000 },
      { Bucket: options.bucket, Prefix: options.prefix },
    );
    for await (const page of pages) {
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
          await deleteBatch(options.bucket, batch, deps, summary);
        }
        if (summary.truncated) break;
      }
      // The paginator follows any NextContinuationToken; a page that is not truncated ends the run
      // all the same (as S3 documents it).
      if (!page.IsTruncated || !page.NextContinuationToken) break;
      if (deps.remainingMs() <= margin) {
        summary.truncated = true;
        break;
      }
    }
  }
  summary.durationMs = Date.now() - started;
  return summary;
}

async function deleteBatch(bucket: string, keys: string[], deps: CleanupDeps, summary: CleanupResult): Promise<void> {
  summary.deleteCalls += 1;
  let errors;
  try {
    const result = await deps.s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
    );
    errors = result.Errors ?? [];
  } catch (err) {
    // The whole batch failed (after the SDK's retries): count its keys, go on with the next one.
    const code = (err as Error).name || 'Unknown';
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

/**
 * The SDK's paginator only takes an S3Client (it checks `instanceof`); the bench and tests pass a
 * bare `send` that counts calls or injects failures S3 shows and s3rver does not, so such a `send`
 * is given the S3Client prototype it lacks. Only `send` is ever called on it.
 */
function asS3Client(s3: Pick<S3Client, 'send'>): S3Client {
  if (s3 instanceof S3Client) return s3;
  return Object.assign(Object.create(S3Client.prototype) as S3Client, { send: s3.send.bind(s3) });
}
