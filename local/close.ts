/** Closing what a local run started: every part is closed, whichever part's close fails. */
import * as os from 'node:os';

/** A part's name (for the error) and how to close it. */
export type ClosingStep = readonly [name: string, close: () => unknown];

/**
 * Closes the parts stage by stage: the steps of a stage together, the next stage after them
 * whether or not they succeeded. Then, if any failed, throws an AggregateError of their errors
 * whose message names each failed part.
 */
export async function closeInStages(what: string, stages: readonly (readonly ClosingStep[])[]): Promise<void> {
  const failures: { name: string; error: unknown }[] = [];
  for (const stage of stages) {
    const settled = await Promise.allSettled(stage.map(async ([, close]) => close()));
    settled.forEach((result, i) => {
      if (result.status === 'rejected') failures.push({ name: stage[i][0], error: result.reason });
    });
  }
  if (!failures.length) return;
  const reasons = failures.map(({ name, error }) => `${name}: ${error instanceof Error ? error.message : String(error)}`);
  throw new AggregateError(
    failures.map((f) => f.error),
    `closing ${what}, ${failures.length} part(s) failed (the others are closed): ${reasons.join('; ')}`,
  );
}

/** The exit status a shell gives a process that a signal ended: 128 + the signal's number. */
export function signalExitStatus(signal: NodeJS.Signals): number {
  return 128 + (os.constants.signals[signal] ?? 0);
}
