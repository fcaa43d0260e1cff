/**
 * Lambda's event source mapping for SQS with `ReportBatchItemFailures`, over a local queue
 * (local/queue.ts): detect-faces in batches on a pool of function processes, at most `concurrency`
 * at once (the mapping's maximum concurrency); with `ReportBatchItemFailures` only the listed
 * messages stay, a function error or timeout keeps the whole batch, and a malformed response
 * counts as a failed batch.
 */
import { createHash } from 'node:crypto';
import type { FunctionRuntime, InvocationResult } from './lambda-runtime';
import type { LocalQueue, Received } from './queue';

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
