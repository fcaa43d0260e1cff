/**
 * Deadlines as abort signals, on the timers of this process (so a test's fake clock drives them):
 * one for the invocation (Lambda's remaining time less what the function keeps to answer), and one
 * per S3 call or group of calls, never later than the invocation's. Every timer is cleared by
 * `close`, so a warm container keeps none across invocations. detect-faces' direct call bounds its
 * image write with it, a batch of uploads every S3 call of every photo, cleanup every S3 call of
 * its run.
 */

export class Deadlines {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Aborted when the invocation's time (less what it keeps to answer) is up. */
  readonly invocation: AbortSignal;

  /** `remainingMs`: what the invocation has left now. */
  constructor(remainingMs: number) {
    this.invocation = this.timeout(Math.max(0, remainingMs)).signal;
  }

  /** Aborted after `ms`, or with the invocation, whichever comes first. */
  within(ms: number): AbortSignal {
    const own = this.timeout(ms);
    const parent = this.invocation;
    if (parent.aborted) own.abort(parent.reason);
    else parent.addEventListener('abort', () => own.abort(parent.reason), { once: true, signal: own.signal });
    return own.signal;
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private timeout(ms: number): AbortController {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      controller.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError'));
    }, ms);
    this.timers.add(timer);
    return controller;
  }
}
