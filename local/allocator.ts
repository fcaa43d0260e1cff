/**
 * The detect function's allocator settings (DETECT_ALLOCATOR_ENV, stack/detect-function.ts says
 * why) for a local tool that runs the detector in its own process: the redaction CLI, the bench.
 * glibc reads them only when a process starts, so a tool started without them runs itself again
 * with them, once, and exits with that run's status.
 */
import { spawnSync } from 'node:child_process';
import { DETECT_ALLOCATOR_ENV } from '../stack/detect-function';

/** Whether `env` names every allocator variable (with any value: one a user set on purpose is kept). */
export function hasAllocatorEnv(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(DETECT_ALLOCATOR_ENV).every((name) => env[name] !== undefined);
}

/** `env` without the allocator variables: the bench's "unset" side. */
export function withoutAllocatorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !(name in DETECT_ALLOCATOR_ENV)));
}

/**
 * When this process lacks the allocator variables: runs the same script with the same arguments
 * and loader (process.execArgv: tsx's) under them, stdio shared, and returns its exit status (1
 * when a signal ended it); otherwise undefined, and the caller goes on.
 */
export function rerunUnderAllocatorEnv(): number | undefined {
  if (hasAllocatorEnv(process.env)) return undefined;
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...DETECT_ALLOCATOR_ENV } });
  if (run.error) throw run.error;
  return run.status ?? 1;
}
