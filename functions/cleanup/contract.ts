/**
 * cleanup's contract, written once: its event, its result and the environment it reads (parsed by
 * the function, written by the stack and the local runner, documented from here). Dependency-free.
 */
import { S3_CLIENT_ENV } from '../common/contract';
import { bool, int, str, type EnvSchema, type EnvValues } from '../common/schema';
import { DETECT_ENV } from '../detect-faces/contract';

export const CLEANUP_ENV = {
  bucket: { env: 'BUCKET_NAME', ...str({ required: true, doc: 'bucket whose marked images are cleaned up' }) },
  // The same prefix detect-faces writes under: one definition for both.
  prefix: { ...DETECT_ENV.imagePrefix, doc: 'key prefix cleaned up; nothing outside it is ever deleted' },
  maxAgeSeconds: { env: 'MAX_AGE_SECONDS', ...int(3600, 60, 30 * 86400, 'marked images younger than this survive a run, seconds') },
  dryRun: { env: 'DRY_RUN', ...bool(false, 'list what would be deleted without deleting') },
  ...S3_CLIENT_ENV,
} as const satisfies EnvSchema;

export type CleanupEnv = EnvValues<typeof CLEANUP_ENV>;

/** Invoked by EventBridge Scheduler (payload `{}`) or by hand; `{"dryRun": true}` overrides the setting. */
export interface CleanupEvent {
  readonly dryRun?: boolean;
}

/** What a run returns (and logs as its one line). */
export interface CleanupResult {
  scanned: number;
  deleted: number;
  kept: number;
  failed: number;
  /** Objects a dry run would have deleted. */
  wouldDelete: number;
  /** True when the run stopped before listing everything (time was running out, or a listing failed). */
  truncated: boolean;
  /** The error code of the listing call that failed (after the SDK's retries; `TimedOut` at the deadline): the run stopped there. */
  listFailure?: string;
  dryRun: boolean;
  listCalls: number;
  deleteCalls: number;
  /** Failed deletes by S3 error code. */
  failures: Record<string, number>;
  durationMs: number;
}
