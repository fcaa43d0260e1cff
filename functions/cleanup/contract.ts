/**
 * cleanup's contract, written once: its event, its result and the environment it reads (parsed by
 * the function, written by the stack and the local runner, documented from here). Dependency-free.
 */
import { DETECT_ENV } from '../detect-faces/contract';
import { bool, int, str, type EnvSchema, type EnvValues } from '../common/schema';

export const CLEANUP_ENV = {
  bucket: { env: 'BUCKET_NAME', ...str({ required: true, doc: 'bucket whose marked images are cleaned up' }) },
  // The same prefix detect-faces writes under: one definition for both.
  prefix: { ...DETECT_ENV.imagePrefix, doc: 'key prefix cleaned up; nothing outside it is ever deleted' },
  maxAgeSeconds: { env: 'MAX_AGE_SECONDS', ...int(3600, 60, 30 * 86400, 'marked images younger than this survive a run, seconds') },
  dryRun: { env: 'DRY_RUN', ...bool(false, 'list what would be deleted without deleting') },
} as const satisfies EnvSchema;

export type CleanupEnv = EnvValues<typeof CLEANUP_ENV>;

/** Invoked by EventBridge Scheduler (payload `{}`) or by hand; `{"dryRun": true}` overrides the setting. */
export interface CleanupEvent {
  readonly dryRun?: boolean;
}
