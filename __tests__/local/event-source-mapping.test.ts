/**
 * The local event source mapping over a fake function: batches, batch failures, dead letters. No
 * test waits on the real clock: the tests run on jest's fake timers (the queue's clock and its
 * waits together), move time on by hand, and wait for the mapping's batch reports and the queue's events.
 */
import { once } from 'node:events';
import type { FunctionRuntime, InvocationResult } from '../../local/lambda-runtime';
import { batchItemFailures, LocalEventSourceMapping, type BatchReport } from '../../local/event-source-mapping';
import { LocalQueue } from '../../local/queue';

type Handler = (event: { Records: { messageId: string; body: string; attributes: { ApproximateReceiveCount: string } }[] }) => Partial<InvocationResult>;

/**
 * A function process stand-in: answers from `handler` after one turn of the event loop (no timer:
 * the batches the mapping starts together are running together, and the clock stands still).
 */
function fakeRuntime(handler: Handler): FunctionRuntime & { invocations: number; concurrentMax: number } {
  let running = 0;
  const fake = {
    options: { name: 'fake-function' },
    invocations: 0,
    concurrentMax: 0,
    async invoke(event: unknown): Promise<InvocationResult> {
      fake.invocations++;
      running++;
      fake.concurrentMax = Math.max(fake.concurrentMax, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return { requestId: 'r', ok: true, log: '', durationMs: 0, ...handler(event as Parameters<Handler>[0]) };
    },
  };
  return fake as unknown as FunctionRuntime & { invocations: number; concurrentMax: number };
}

/** The mapping's batch reports (its onBatch), and `when(check)`: resolves at the first report after which `check` holds (at once if it holds). */
function batchReports() {
  const reports: BatchReport[] = [];
  const waiting = new Set<{ check: () => boolean; resolve: () => void }>();
  return {
    reports,
    onBatch(report: BatchReport) {
      reports.push(report);
      for (const w of waiting) {
        if (!w.check()) continue;
        waiting.delete(w);
        w.resolve();
      }
    },
    when(check: () => boolean): Promise<void> {
      return check() ? Promise.resolve() : new Promise((resolve) => waiting.add({ check, resolve }));
    },
  };
}

/** Moves the fake clock on by `ms` (running the timers due), then waits for `event` (listened to before the clock moves). */
async function afterMs<T>(ms: number, event: Promise<T>): Promise<T> {
  await jest.advanceTimersByTimeAsync(ms);
  return event;
}

test('a batch response: listed failures stay, an empty one is success, a malformed one fails the batch', () => {
  expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ['a', 'b'])).toEqual(['b']);
  expect(batchItemFailures({ batchItemFailures: [] }, ['a'])).toEqual([]);
  expect(batchItemFailures(null, ['a'])).toEqual([]);
  expect(batchItemFailures({}, ['a'])).toEqual([]);
  expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, ['a'])).toBeUndefined();
  expect(batchItemFailures({ batchItemFailures: [{}] }, ['a'])).toBeUndefined();
  expect(batchItemFailures({ batchItemFailures: 'nope' }, ['a'])).toBeUndefined();
});

describe('event source mapping', () => {
  // The queue reads Date.now and waits with setTimeout: both fake, so time moves only when a test says.
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  test('batches up to the batch size, on at most as many runtimes as the pool has; every message deleted once', async () => {
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 10_000, maxReceiveCount: 3 });
    const sizes: number[] = [];
    const runtimes = [0, 1].map(() => fakeRuntime((e) => (sizes.push(e.Records.length), { result: { batchItemFailures: [] } })));
    for (let i = 0; i < 25; i++) q.send(`m${i}`);
    const start = Date.now();
    const b = batchReports();
    const mapping = new LocalEventSourceMapping({ queue: q, queueArn: 'arn:aws:sqs:us-east-1:000000000000:q', region: 'us-east-1', runtimes, batchSize: 4, onBatch: b.onBatch });
    await b.when(() => mapping.stats.deleted === 25);
    await mapping.stop();
    expect(Math.max(...sizes)).toBe(4);
    expect(runtimes.every((r) => r.concurrentMax === 1)).toBe(true);
    expect(runtimes.every((r) => r.invocations > 0)).toBe(true);
    expect([...q.receives.values()].every((n) => n === 1)).toBe(true);
    // All of it without the clock moving: nothing here waited for a visibility timeout.
    expect(Date.now()).toBe(start);
  });

  test('a reported failure comes back after the visibility timeout; the rest of its batch does not', async () => {
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 50, maxReceiveCount: 5 });
    const flaky = q.send('flaky');
    q.send('fine');
    const seen: string[] = [];
    const runtime = fakeRuntime((e) => {
      const failures = e.Records.filter((r) => r.body === 'flaky' && r.attributes.ApproximateReceiveCount === '1').map((r) => ({ itemIdentifier: r.messageId }));
      seen.push(...e.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      return { result: { batchItemFailures: failures } };
    });
    const start = Date.now();
    const redeliveredAfterMs: number[] = [];
    q.on('received', (m) => m.receiveCount > 1 && redeliveredAfterMs.push(Date.now() - start));
    const b = batchReports();
    const mapping = new LocalEventSourceMapping({ queue: q, queueArn: 'arn', region: 'us-east-1', runtimes: [runtime], batchSize: 10, onBatch: b.onBatch });
    await b.when(() => b.reports.length === 1);
    expect(b.reports[0].failedIds).toEqual([flaky]);
    // Not a moment before the visibility timeout...
    await jest.advanceTimersByTimeAsync(49);
    expect(redeliveredAfterMs).toEqual([]);
    // ...and at it.
    await afterMs(1, b.when(() => mapping.stats.deleted === 2));
    await mapping.stop();
    expect(redeliveredAfterMs).toEqual([50]);
    expect(seen.sort()).toEqual(['fine#1', 'flaky#1', 'flaky#2']);
    expect(q.receives.get(flaky)).toBe(2);
  });

  test('a function error keeps the whole batch; a message that always fails ends in the dead-letter queue, others unaffected', async () => {
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 20, maxReceiveCount: 3 });
    const poison = q.send('poison');
    for (let i = 0; i < 5; i++) q.send(`ok${i}`);
    let crashed = false;
    const runtime = fakeRuntime((e) => {
      if (!crashed) {
        crashed = true;
        return { ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out' } };
      }
      return { result: { batchItemFailures: e.Records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })) } };
    });
    const b = batchReports();
    const reports = b.reports;
    const mapping = new LocalEventSourceMapping({ queue: q, queueArn: 'arn', region: 'us-east-1', runtimes: [runtime], batchSize: 3, onBatch: b.onBatch });
    // At 0 ms: the first three crash the function; the next three go through.
    await b.when(() => reports.length === 2);
    // 20 ms: the crashed batch is back (its second receive), only the poison fails; 40 ms: the poison's third receive.
    await afterMs(20, b.when(() => reports.length === 3));
    await afterMs(20, b.when(() => reports.length === 4));
    // 60 ms: past the receive limit, to the dead-letter queue instead of a fourth delivery.
    const [letter] = await afterMs(20, once(q, 'deadLetter'));
    expect(letter).toMatchObject({ messageId: poison, receiveCount: 3 });
    expect(q.deadLetters.length === 1 && mapping.stats.deleted === 5).toBe(true);
    await mapping.stop();
    expect(reports).toHaveLength(4);
    expect(mapping.stats.functionErrors).toBe(1);
    expect(reports[0].failedIds).toEqual(reports[0].messageIds);
    expect(q.deadLetters[0]).toMatchObject({ messageId: poison, receiveCount: 3 });
    expect(q.depth()).toEqual({ visible: 0, inFlight: 0 });
  });
});
