/** Lambda entry of cleanup: settings and client once per container, one run per invocation. */
import type { LambdaContext } from '../common/lambda';
import { createLogger } from '../common/logger';
import { recordCleanupMetrics } from '../common/metrics';
import { s3ClientFromEnv } from '../common/s3';
import { settingsFromEnv } from '../common/settings';
import { runCleanup } from './cleanup';
import { CLEANUP_ENV, type CleanupEvent, type CleanupResult } from './contract';

const { maxAgeSeconds, ...env } = settingsFromEnv(CLEANUP_ENV);
const settings = { ...env, maxAgeMs: maxAgeSeconds * 1000 };
const s3 = s3ClientFromEnv();
const logger = createLogger({ function: 'cleanup' });

/** Invoked by EventBridge Scheduler (payload "{}") or by hand; `{"dryRun": true}` overrides the setting. */
export async function handler(event: CleanupEvent | undefined, context: LambdaContext): Promise<CleanupResult> {
  const log = logger.child({ requestId: context.awsRequestId });
  // Anything but a literal `"dryRun": true` leaves the setting as it is (the scheduler sends {}).
  const dryRun = settings.dryRun || event?.dryRun === true;
  const summary = await runCleanup(
    { ...settings, dryRun },
    { s3, log, now: () => new Date(), remainingMs: () => context.getRemainingTimeInMillis() },
  );
  log.info('cleanup finished', { ...summary });
  try {
    recordCleanupMetrics(summary);
  } catch (err) {
    // Metrics are for watching the run, never a reason to fail it.
    log.warn('cleanup metrics not recorded', { error: err });
  }
  return summary;
}
