/**
 * Uploads processed on their own, locally, as on AWS (stack/upload-trigger.ts):
 *   s3rver's event -> S3-style notification (filter: created under the input prefix, keys
 *   URL-encoded) -> a queue with SQS semantics -> detect-faces in batches (event source mapping).
 * SQS semantics kept: a received message is invisible for the visibility timeout and comes back
 * unless deleted; each receive counts; past `maxReceiveCount` receives the message moves to the
 * dead-letter queue (kept in memory and written to a folder); with `ReportBatchItemFailures` only
 * the listed messages stay, a function error or timeout keeps the whole batch, and a malformed
 * response counts as a failed batch. Batches run on a pool of function processes, at most
 * `concurrency` at once (the mapping's maximum concurrency).
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { s3EventName, type S3rverNotification } from './s3-server';
import type { FunctionRuntime, InvocationResult } from './lambda-runtime';

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  receiptHandle?: string;
}

/** One delivery of a message, as received (a copy: later receives do not change it). */
export type Received = Readonly<Omit<Message, 'receiptHandle'>> & { readonly receiptHandle: string };

export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  readonly movedAt: string;
  /** Why, when the function sent it (a poison message's `reason` attribute); absent for the receive limit. */
  readonly reason?: string;
}

/**
 * What a queue tells its listeners, synchronously, as it happens (tests wait on these instead of
 * the clock): each receive (a redelivery has a receiveCount above 1), each delete, each dead letter.
 */
export interface QueueEvents {
  received: [message: { readonly messageId: string; readonly body: string; readonly receiveCount: number }];
  deleted: [messageId: string];
  deadLetter: [letter: DeadLetter];
}

export interface QueueOptions {
  readonly name: string;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  /** Where dead letters are also written, one JSON file each (absent: memory only). */
  readonly deadLetterDir?: string;
  /** Visibility's clock (default Date.now). `changed` waits with setTimeout: tests fake both at once (jest's fake timers). */
  readonly now?: () => number;
}

export class LocalQueue extends EventEmitter<QueueEvents> {
  private readonly messages = new Map<string, Message>();
  readonly deadLetters: DeadLetter[] = [];
  /** Times each message was received (the load run checks "exactly once"). */
  readonly receives = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly now: () => number;

  constructor(readonly options: QueueOptions) {
    super();
    this.now = options.now ?? Date.now;
    if (options.deadLetterDir) fs.mkdirSync(options.deadLetterDir, { recursive: true });
  }

  send(body: string): string {
    const messageId = randomUUID();
    const now = this.now();
    this.messages.set(messageId, { messageId, body, sentAt: now, receiveCount: 0, visibleAt: now });
    this.wake();
    return messageId;
  }

  /**
   * Up to `max` visible messages, now invisible for the visibility timeout; past the receive limit
   * they move to the dead-letter queue instead. Each is a snapshot taken at this receive (as SQS
   * hands out): its receipt handle and count stay this delivery's when the message is received
   * again meanwhile, so an older delivery can never delete a newer one's message.
   */
  receive(max: number): Received[] {
    const now = this.now();
    const out: Received[] = [];
    for (const m of this.messages.values()) {
      if (out.length >= max) break;
      if (m.visibleAt > now) continue;
      if (m.receiveCount >= this.options.maxReceiveCount) {
        this.moveToDeadLetters(m);
        continue;
      }
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + this.options.visibilityTimeoutMs;
      m.receiptHandle = randomUUID();
      this.receives.set(m.messageId, (this.receives.get(m.messageId) ?? 0) + 1);
      out.push({ ...m, receiptHandle: m.receiptHandle });
      this.emit('received', { messageId: m.messageId, body: m.body, receiveCount: m.receiveCount });
    }
    return out;
  }

  /** Like SQS: only the latest receipt handle of a message deletes it. */
  delete(messageId: string, receiptHandle: string): boolean {
    const m = this.messages.get(messageId);
    if (!m || m.receiptHandle !== receiptHandle) return false;
    this.messages.delete(messageId);
    this.wake();
    this.emit('deleted', messageId);
    return true;
  }

  /** Whether the queue still holds the message (visible or in flight): a deleted or dead-lettered one never comes back. */
  has(messageId: string): boolean {
    return this.messages.has(messageId);
  }

  /** Messages waiting (visible) and in flight (received, not yet deleted or visible again). */
  depth(): { visible: number; inFlight: number } {
    const now = this.now();
    let visible = 0;
    for (const m of this.messages.values()) if (m.visibleAt <= now) visible++;
    return { visible, inFlight: this.messages.size - visible };
  }

  /** Resolves when a message is sent or deleted, or when the next one becomes visible (at most `maxMs`). */
  changed(maxMs: number): Promise<void> {
    const now = this.now();
    let next = maxMs;
    for (const m of this.messages.values()) if (m.visibleAt > now) next = Math.min(next, m.visibleAt - now);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, next));
      this.waiters.add(done);
    });
  }

  /** Ends every pending `changed` wait now, its timer cleared (a change, or a consumer stopping). */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** A message sent straight to this queue's dead letters (by the function, with its reason). */
  deadLetter(body: string, reason?: string, receiveCount = 0): string {
    const messageId = randomUUID();
    this.storeDeadLetter({ messageId, body, receiveCount, movedAt: new Date(this.now()).toISOString(), ...(reason ? { reason } : {}) });
    return messageId;
  }

  private moveToDeadLetters(m: Message): void {
    this.messages.delete(m.messageId);
    this.storeDeadLetter({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount, movedAt: new Date(this.now()).toISOString() });
  }

  private storeDeadLetter(letter: DeadLetter): void {
    this.deadLetters.push(letter);
    if (this.options.deadLetterDir) fs.writeFileSync(path.join(this.options.deadLetterDir, `${letter.messageId}.json`), `${JSON.stringify(letter, null, 2)}\n`);
    this.wake();
    this.emit('deadLetter', letter);
  }
}

/** S3 URL-encodes keys in notifications, spaces as "+" (the function decodes them so). */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/**
 * s3rver's event as S3 sends it to a queue: object-created and object-removed events under the
 * prefix only (the notification's filter, stack/upload-trigger.ts), the key URL-encoded, the
 * bucket's ARN, the sequencer as s3-server.ts assigns it; undefined for anything else.
 */
export function toS3Notification(event: S3rverNotification, filter: { bucket: string; prefix: string; region: string }): string | undefined {
  const records = event.Records.filter((r) => /^Object(Created|Removed):/.test(r.eventName) && r.s3.bucket.name === filter.bucket && r.s3.object.key.startsWith(filter.prefix));
  if (!records.length) return undefined;
  return JSON.stringify({
    Records: records.map((r) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: filter.region,
      eventTime: r.eventTime,
      // s3rver's name for a multipart upload's completion is not S3's (local/s3-server.ts).
      eventName: s3EventName(r.eventName),
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'uploads',
        bucket: { name: filter.bucket, arn: `arn:aws:s3:::${filter.bucket}` },
        object: { key: encodeEventKey(r.s3.object.key), ...(r.s3.object.size !== undefined ? { size: r.s3.object.size } : {}), ...(r.s3.object.eTag ? { eTag: r.s3.object.eTag } : {}), sequencer: r.s3.object.sequencer },
      },
    })),
  });
}

/** S3's message when a notification configuration is put. */
export function s3TestEvent(bucket: string): string {
  return JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: bucket, RequestId: randomUUID(), HostId: 'local' });
}

export interface BatchReport {
  readonly functionName: string;
  /** Which process of the pool ran it (0-based). */
  readonly runtime: number;
  /** The batch as delivered: each message's body and how many times it has been received. */
  readonly messages: { messageId: string; body: string; receiveCount: number }[];
  readonly messageIds: string[];
  readonly failedIds: string[];
  readonly invocation: InvocationResult;
}

export interface MappingOptions {
  readonly queue: LocalQueue;
  readonly queueArn: string;
  readonly region: string;
  /** The function processes (one invocation at a time each): the pool's size is the maximum concurrency. */
  readonly runtimes: readonly FunctionRuntime[];
  readonly batchSize: number;
  readonly onBatch?: (report: BatchReport) => void;
  /** A delivery that failed outside the function (a bug here); its messages come back anyway. */
  readonly onError?: (err: unknown) => void;
}

/** Lambda's event source mapping for SQS with `ReportBatchItemFailures`, over a local queue. */
export class LocalEventSourceMapping {
  private running = true;
  private stopped!: () => void;
  private readonly stopSignal = new Promise<void>((resolve) => (this.stopped = resolve));
  private readonly inFlight = new Set<Promise<void>>();
  private readonly loop: Promise<void>;
  readonly stats = { batches: 0, functionErrors: 0, itemFailures: 0, deleted: 0 };

  constructor(readonly options: MappingOptions) {
    this.loop = this.poll();
  }

  private async poll(): Promise<void> {
    const free = [...this.options.runtimes];
    while (this.running) {
      while (free.length && this.running) {
        const batch = this.options.queue.receive(this.options.batchSize);
        if (!batch.length) break;
        const runtime = free.pop()!;
        // A failed delivery leaves its messages to come back after their visibility timeout; the loop goes on.
        const work = this.deliver(runtime, batch).catch((err: unknown) => this.options.onError?.(err)).finally(() => {
          free.push(runtime);
          this.inFlight.delete(work);
        });
        this.inFlight.add(work);
      }
      // Wake on a new message, a freed runtime, or the next message becoming visible again.
      await Promise.race([this.options.queue.changed(1000), this.stopSignal, ...this.inFlight]);
    }
  }

  private async deliver(runtime: FunctionRuntime, batch: readonly Received[]): Promise<void> {
    const { queue, queueArn, region } = this.options;
    // As received (snapshots): a message that outlives its visibility timeout is received again meanwhile.
    const messages = batch.map((m) => ({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount }));
    const event = {
      Records: batch.map((m) => ({
        messageId: m.messageId,
        receiptHandle: m.receiptHandle,
        body: m.body,
        attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: String(m.sentAt),
          SenderId: 'AIDAS3LOCAL',
          ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(m.body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      })),
    };
    const invocation = await runtime.invoke(event);
    this.stats.batches++;
    const ids = batch.map((m) => m.messageId);
    let failed: string[];
    if (!invocation.ok) {
      // A function error or timeout: every message of the batch comes back after its visibility timeout.
      this.stats.functionErrors++;
      failed = ids;
    } else {
      failed = batchItemFailures(invocation.result, ids) ?? ids;
      for (const m of batch) {
        if (!failed.includes(m.messageId) && queue.delete(m.messageId, m.receiptHandle)) this.stats.deleted++;
      }
      this.stats.itemFailures += failed.length;
    }
    this.options.onBatch?.({ functionName: runtime.options.name, runtime: this.options.runtimes.indexOf(runtime), messages, messageIds: ids, failedIds: failed, invocation });
  }

  /** Stops receiving; resolves when the batches under way have ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped();
    // The loop's last `changed` wait lost the race to the stop signal: end it, or its timer outlives us.
    this.options.queue.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }
}

/**
 * The ids to keep from a `ReportBatchItemFailures` response: [] for an empty or null response
 * (all succeeded); undefined (the whole batch failed) when an identifier is missing or not in the batch.
 */
export function batchItemFailures(result: unknown, ids: readonly string[]): string[] | undefined {
  if (result === null || result === undefined) return [];
  const list = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return undefined;
  const out: string[] = [];
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown })?.itemIdentifier;
    if (typeof id !== 'string' || !ids.includes(id)) return undefined;
    out.push(id);
  }
  return out;
}
