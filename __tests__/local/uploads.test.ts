/**
 * The local upload delivery's SQS semantics, over a fake function: visibility, receive counts, dead
 * letters, batch failures. No test waits on the real clock: the mapping's tests run on jest's fake
 * timers (the queue's clock and its waits together), move time on by hand, and wait for the
 * mapping's batch reports and the queue's events.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeEventKey } from '../../functions/detect-faces/uploads/events';
import { compareSequencers } from '../../functions/detect-faces/uploads/versions';
import { nextSequencer } from '../../local/s3-server';
import type { FunctionRuntime, InvocationResult } from '../../local/lambda-runtime';
import { batchItemFailures, encodeEventKey, LocalEventSourceMapping, LocalQueue, toS3Notification, type BatchReport } from '../../local/uploads';

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

test('keys: encoded as S3 encodes them in notifications, and decoded back by the function', () => {
  for (const key of ['inputs/a/b.jpg', 'inputs/my photo (1).jpg', 'inputs/café+tea.png', 'inputs/100%.jpg']) {
    expect(decodeEventKey(encodeEventKey(key))).toBe(key);
  }
  expect(encodeEventKey('inputs/my photo.jpg')).toBe('inputs/my+photo.jpg');
});

test("s3rver's events become S3 notifications for objects created or removed under the prefix of the bucket only", () => {
  const filter = { bucket: 'b', prefix: 'inputs/', region: 'us-east-1' };
  const record = (eventName: string, key: string, bucket = 'b') => ({ eventName, eventTime: 't', s3: { bucket: { name: bucket }, object: { key, eTag: 'e', size: 3, sequencer: '0A' } } });
  expect(JSON.parse(toS3Notification({ Records: [record('ObjectRemoved:Delete', 'inputs/a.jpg')] }, filter)!).Records[0]).toMatchObject({ eventName: 'ObjectRemoved:Delete', s3: { object: { key: 'inputs/a.jpg', sequencer: '0A' } } });
  expect(toS3Notification({ Records: [record('ObjectRestore:Post', 'inputs/a.jpg')] }, filter)).toBeUndefined();
  expect(toS3Notification({ Records: [record('ObjectRemoved:Delete', 'tmp/a.jpg')] }, filter)).toBeUndefined();
  expect(toS3Notification({ Records: [record('ObjectCreated:Put', 'tmp/a.jpg')] }, filter)).toBeUndefined();
  expect(toS3Notification({ Records: [record('ObjectCreated:Put', 'inputs/a.jpg', 'other')] }, filter)).toBeUndefined();
  const body = JSON.parse(toS3Notification({ Records: [record('ObjectCreated:Put', 'inputs/a b.jpg')] }, filter)!);
  expect(body.Records[0]).toMatchObject({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b', arn: 'arn:aws:s3:::b' }, object: { key: 'inputs/a+b.jpg', eTag: 'e' } } });
  // s3rver's name for a multipart upload's completion, as S3 names it (local/s3-server.ts).
  expect(JSON.parse(toS3Notification({ Records: [record('ObjectCreated:Post', 'inputs/big.jpg')] }, filter)!).Records[0].eventName).toBe('ObjectCreated:CompleteMultipartUpload');
});

test('local sequencers increase with every event, also within one millisecond, and compare as S3 says', () => {
  const a = nextSequencer(1_700_000_000_000);
  const b = nextSequencer(1_700_000_000_000);
  const c = nextSequencer(1_700_000_000_001);
  expect(a).toMatch(/^[0-9A-F]{20}$/);
  expect(compareSequencers(a, b)).toBeLessThan(0);
  expect(compareSequencers(b, c)).toBeLessThan(0);
});

test('a batch response: listed failures stay, an empty one is success, a malformed one fails the batch', () => {
  expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ['a', 'b'])).toEqual(['b']);
  expect(batchItemFailures({ batchItemFailures: [] }, ['a'])).toEqual([]);
  expect(batchItemFailures(null, ['a'])).toEqual([]);
  expect(batchItemFailures({}, ['a'])).toEqual([]);
  expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, ['a'])).toBeUndefined();
  expect(batchItemFailures({ batchItemFailures: [{}] }, ['a'])).toBeUndefined();
  expect(batchItemFailures({ batchItemFailures: 'nope' }, ['a'])).toBeUndefined();
});

describe('queue', () => {
  test('a received message is invisible for the visibility timeout, then comes back with its receive count', () => {
    let now = 1000;
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 100, maxReceiveCount: 3, now: () => now });
    const id = q.send('x');
    const [first] = q.receive(10);
    expect(first).toMatchObject({ messageId: id, receiveCount: 1 });
    expect(q.receive(10)).toEqual([]);
    expect(q.depth()).toEqual({ visible: 0, inFlight: 1 });
    now += 100;
    const [again] = q.receive(10);
    expect(again.receiveCount).toBe(2);
    // An old receipt handle no longer deletes it.
    expect(q.delete(id, 'stale')).toBe(false);
    expect(q.delete(id, again.receiptHandle)).toBe(true);
    expect(q.depth()).toEqual({ visible: 0, inFlight: 0 });
  });

  test("a delivery keeps its own receipt handle: once the message was received again, the older delivery's delete does nothing", () => {
    let now = 0;
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 10, maxReceiveCount: 5, now: () => now });
    const id = q.send('x');
    const [older] = q.receive(1);
    now += 10;
    const [newer] = q.receive(1);
    // The first delivery finishes late and deletes with what it was given at its receive.
    expect(older.receiveCount).toBe(1);
    expect(q.delete(id, older.receiptHandle)).toBe(false);
    expect(q.has(id)).toBe(true);
    expect(q.delete(id, newer.receiptHandle)).toBe(true);
  });

  test('events as it happens: each receive with its count, each delete, each dead letter; has() until then', () => {
    let now = 0;
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 10, maxReceiveCount: 2, now: () => now });
    const events: string[] = [];
    q.on('received', (m) => events.push(`received ${m.body}#${m.receiveCount}`));
    q.on('deleted', (id) => events.push(`deleted ${id === kept ? 'kept' : id}`));
    q.on('deadLetter', (letter) => events.push(`dead ${letter.body}#${letter.receiveCount}`));
    const kept = q.send('kept');
    const lost = q.send('lost');
    const [first] = q.receive(1);
    expect(q.delete(kept, 'stale')).toBe(false);
    expect(q.delete(kept, first.receiptHandle)).toBe(true);
    expect(q.has(kept)).toBe(false);
    q.receive(1);
    now += 10;
    q.receive(1);
    expect(q.has(lost)).toBe(true);
    now += 10;
    expect(q.receive(1)).toEqual([]);
    expect(q.has(lost)).toBe(false);
    expect(events).toEqual(['received kept#1', 'deleted kept', 'received lost#1', 'received lost#2', 'dead lost#2']);
  });

  test('past the receive limit a message moves to the dead-letter queue (and its folder)', () => {
    let now = 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlq-'));
    try {
      const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 10, maxReceiveCount: 2, now: () => now, deadLetterDir: dir });
      const id = q.send('poison');
      expect(q.receive(1)).toHaveLength(1);
      now += 10;
      expect(q.receive(1)).toHaveLength(1);
      now += 10;
      expect(q.receive(1)).toEqual([]);
      expect(q.deadLetters).toEqual([expect.objectContaining({ messageId: id, body: 'poison', receiveCount: 2 })]);
      expect(JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), 'utf8'))).toMatchObject({ body: 'poison' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
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
