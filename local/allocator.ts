/**
 * The detect function's allocator settings (DETECT_ALLOCATOR_ENV, stack/detect-function.ts says
 * why) for a local tool that runs the detector in its own process: the redaction CLI, the bench.
 * glibc reads them only when a process starts, so a tool started without them runs itself again
 * with them, once, and exits with that run's status.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { DETECT_ALLOCATOR_ENV } from '../stack/detect-function';
import { signalExitStatus } from './close';

/** Whether `env` names every allocator variable (with any value: one a user set on purpose is kept). */
export function hasAllocatorEnv(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(DETECT_ALLOCATOR_ENV).every((name) => env[name] !== undefined);
}

/** `env` without the allocator variables: the bench's "unset" side. */
export function withoutAllocatorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !(name in DETECT_ALLOCATOR_ENV)));
}

/** Signals passed on to the re-run: a kill, a CI's timeout, a closed terminal. (Ctrl-C reaches both processes from the terminal.) */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * When this process lacks the allocator variables: runs the same script with the same arguments
 * and loader (process.execArgv: tsx's) under them, stdio shared, and resolves to its exit status
 * (128 + the signal's number when a signal ended it, as a shell says); otherwise undefined, and
 * the caller goes on. While it runs, the signals this process receives are passed on to it, so
 * that the run doing the work never goes on alone after this one was stopped.
 */
export async function rerunUnderAllocatorEnv(): Promise<number | undefined> {
  if (hasAllocatorEnv(process.env)) return undefined;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...DETECT_ALLOCATOR_ENV } });
  const forward = (signal: NodeJS.Signals) => void child.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);
  try {
    const [code, signal] = (await Promise.race([once(child, 'exit'), once(child, 'error').then(([err]) => Promise.reject(err))])) as [number | null, NodeJS.Signals | null];
    return code ?? (signal ? signalExitStatus(signal) : 1);
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
  }
}
