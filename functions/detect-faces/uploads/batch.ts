/**
 * The upload entry: photos put under the input prefix reach detect-faces as S3 event
 * notifications in SQS messages. The batch loop is Powertools' BatchProcessor (one message at a
 * time, `processPartialResponse` builds the `batchItemFailures`); on top of it only what is ours:
 *   created  the photo runs through the same pipeline as a direct call, with the options of its
 *            metadata over the deployment's defaults (uploads/request.ts); its redacted image goes
 *            to outputs/<path> and its record to results/<path>.json, in version order
 *            (uploads/s3-store.ts);
 *   removed  the key's products go, unless a newer version made them;
 * and these outcomes, each logged once per item ("upload done"):
 *   processed | refused (a typed error: an error record, not retried) | gone (deleted: what it
 *   or an older version left goes) | superseded (a newer version is there: its event covers it;
 *   this version's own products go, also those an earlier failed delivery wrote) |
 *   removed | ignored | poison (unreadable: dead-lettered once with its reason) | deferred.
 * Unexpected failures (Internal, StorageFailed) fail the message: SQS delivers it again after a
 * growing delay (retryDelaySeconds: 2, 6, 18, ... s) and, after the queue's receive limit, moves it
 * to the dead-letter queue. One photo never fails the batch.
 *
 * Deadlines: a photo is started only when its worst case fits the time left (photoWorstCaseMs,
 * contract/deadline.ts: read deadline + detect budget + image work + write deadline + answer
 * margin; the stack refuses settings where one photo cannot fit the timeout, so the first always
 * runs). Every S3 call of a photo, and every send to a queue, takes an abort signal from one
 * Deadlines of the invocation. A
 * message not started goes back as a new message (`requeue`), so deferring never uses up its
 * receives; only when that send fails does it go back by `batchItemFailures`.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { asServiceError, Settled, type ErrorCode } from '../../common/errors';
import { ANSWER_MARGIN_MS, photoWorstCaseMs, type DetectRequestOptions, type UploadErrorRecord, type UploadResultRecord, type UploadSource } from '../contract';
import { processImage, type PipelinePorts, type PipelineSettings } from '../pipeline';
import { Deadlines } from '../../common/deadlines';
import { uploadItems, type UploadItem } from './events';
import { outputKey, resultKey, type UploadPrefixes } from './keys';
import { uploadRequest } from './request';
import type { UploadStore } from './s3-store';
import { receiveCount } from './versions';

/** Where messages go besides back to their queue (SQS on Lambda, the local queue locally, fakes in tests). */
export interface UploadQueue {
  /** Sends the message again as a new one: its receives start over. `signal`: the invocation's deadline. */
  requeue(record: SQSRecord, signal: AbortSignal): Promise<void>;
  /** Moves the message to the dead-letter queue, with the reason. `signal`: the invocation's deadline. */
  deadLetter(record: SQSRecord, reason: string, signal: AbortSignal): Promise<void>;
  /** Has SQS deliver this (failed) message again `seconds` from now, not at its visibility timeout. `signal`: the invocation's deadline. */
  retryIn(record: SQSRecord, seconds: number, signal: AbortSignal): Promise<void>;
}

/** The first retry of a failed message: 2 s after it failed. */
export const FIRST_RETRY_SECONDS = 2;
/** The longest wait before a retry (a quarter of an hour); SQS allows up to 12 h. */
export const LONGEST_RETRY_SECONDS = 900;

/**
 * How long a failed message stays away before SQS delivers it again: FIRST_RETRY_SECONDS after its
 * first receive, three times longer after each next one (2, 6, 18, 54 s, ...), at most
 * LONGEST_RETRY_SECONDS. Without it every retry waits out the queue's visibility timeout (the
 * function's timeout): a photo that met a passing S3 fault waited 30 s, not 2. Its receive count
 * still grows, so the queue's receive limit still dead-letters a message that keeps failing (with
 * the default 5: after about 80 s of retries, where the visibility timeout gave 2 min).
 */
export function retryDelaySeconds(receiveCount: number): number {
  return Math.min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 3 ** Math.max(0, receiveCount - 1));
}

export interface UploadPorts<I> extends Omit<PipelinePorts<I>, 'store'> {
  readonly uploads: UploadStore;
  readonly queue: UploadQueue;
}

export interface UploadSettings extends PipelineSettings, UploadPrefixes {
  readonly bucket: string;
  /** One deadline for a photo's writes (image, record, the final check), retries included. */
  readonly writeTimeoutMs: number;
  /** The image work term of a photo's worst case at this function's memory (contract imageWorkMs). */
  readonly imageWorkMs: number;
  /** What the invocation keeps back to answer, from Lambda's remaining time; default ANSWER_MARGIN_MS. */
  readonly answerMarginMs?: number;
  /** The deployment's options for uploads (UPLOAD_* settings); an upload's metadata overrides them. */
  readonly uploadDefaults: DetectRequestOptions;
}

export type UploadOutcome = 'processed' | 'refused' | 'gone' | 'superseded' | 'removed' | 'ignored' | 'poison' | 'deferred';

/** Failures worth another delivery: the photo may well work next time. Every other code is a verdict on the photo. */
const RETRIED: ReadonlySet<ErrorCode> = new Set(['Internal', 'StorageFailed', 'ConfigurationError']);

/** Is this an SQS event (as opposed to a direct `{imageUrl}` invocation)? */
export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs');
}

export async function handleUploads<I>(
  event: SQSEvent,
  ports: UploadPorts<I>,
  settings: UploadSettings & { readonly detectBudgetMs: number },
  remainingMs: () => number,
): Promise<SQSBatchResponse> {
  const counts: Record<UploadOutcome | 'failed', number> = { processed: 0, refused: 0, gone: 0, superseded: 0, removed: 0, ignored: 0, poison: 0, deferred: 0, failed: 0 };
  const started = performance.now();
  const answerMarginMs = settings.answerMarginMs ?? ANSWER_MARGIN_MS;
  const deadlines = new Deadlines(remainingMs() - answerMarginMs);
  const worstCase = photoWorstCaseMs({ ...settings, answerMarginMs });
  let begun = 0;
  const perMessage = async (record: SQSRecord): Promise<void> => {
    const first = begun++ === 0;
    try {
      // A message started too late would time the whole batch out: it goes back, as a new message.
      const left = first ? undefined : remainingMs();
      if (left !== undefined && left < worstCase) {
        await ports.queue.requeue(record, deadlines.invocation);
        counts.deferred++;
        ports.log.info('upload deferred', { messageId: record.messageId, remainingMs: left, worstCaseMs: worstCase });
        return;
      }
      for (const outcome of await handleMessage(record, ports, settings, deadlines)) counts[outcome]++;
    } catch (err) {
      counts.failed++;
      const error = asServiceError(err);
      const received = receiveCount(record.attributes);
      const retryInSeconds = retryDelaySeconds(received);
      // Best effort: when the queue does not take it, the message comes back at its visibility timeout.
      const retrySet = await ports.queue.retryIn(record, retryInSeconds, deadlines.invocation).then(
        () => true,
        (e: unknown) => {
          ports.log.warn('retry delay not set: the message comes back at its visibility timeout', { messageId: record.messageId, error: (e as Error).message });
          return false;
        },
      );
      ports.log.error('upload failed, will be retried', {
        messageId: record.messageId,
        receiveCount: received,
        ...(retrySet ? { retryInSeconds } : {}),
        code: error.code,
        error: error.code === 'Internal' ? (err as Error) : error.message,
      });
      throw err;
    }
  };
  try {
    // One at a time: each photo gets the whole CPU and the deadline check sees the time left.
    return await processPartialResponse(event, perMessage, new BatchProcessor(EventType.SQS), { processInParallel: false, throwOnFullBatchFailure: false });
  } finally {
    deadlines.close();
    const memory = process.memoryUsage();
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    ports.log.info('upload batch done', {
      messages: event.Records.length,
      ...counts,
      durationMs: Math.round(performance.now() - started),
      // Watched by the load runs (bench:trigger, bench:memory): a leak per photo shows here first,
      // in JS (heap), in buffers (external) or natively (the rest of rss: OpenCV, malloc).
      rssMb: mb(memory.rss),
      heapUsedMb: mb(memory.heapUsed),
      externalMb: mb(memory.external),
    });
  }
}

/** One SQS message: its items in order; poison ones dead-letter the message once, after the rest ran. */
async function handleMessage<I>(record: SQSRecord, ports: UploadPorts<I>, settings: UploadSettings, deadlines: Deadlines): Promise<UploadOutcome[]> {
  const outcomes: UploadOutcome[] = [];
  const poison: string[] = [];
  for (const item of uploadItems(record.body, settings)) {
    if (item.kind === 'poison') {
      poison.push(item.reason);
      continue;
    }
    outcomes.push(await handleItem(item, record, ports, settings, deadlines));
  }
  if (poison.length) {
    const reason = poison.join('; ');
    await ports.queue.deadLetter(record, reason, deadlines.invocation);
    ports.log.error('upload message dead-lettered', { messageId: record.messageId, outcome: 'poison', reason });
    outcomes.push('poison');
  }
  return outcomes;
}

async function handleItem<I>(item: Exclude<UploadItem, { kind: 'poison' }>, record: SQSRecord, ports: UploadPorts<I>, settings: UploadSettings, deadlines: Deadlines): Promise<UploadOutcome> {
  if (item.kind === 'ignored') {
    ports.log.info('upload done', { messageId: record.messageId, outcome: 'ignored', reason: item.reason });
    return 'ignored';
  }
  const { source } = item;
  const keys = { outputKey: outputKey(source.key, settings), resultKey: resultKey(source.key, settings) };
  const log = (outcome: UploadOutcome, fields: Record<string, unknown> = {}) => {
    ports.log.info('upload done', { key: source.key, eTag: source.eTag, sequencer: source.sequencer, outcome, ...keys, receiveCount: receiveCount(record.attributes), ...fields });
    return outcome;
  };
  if (item.kind === 'removed') {
    const signal = deadlines.within(settings.writeTimeoutMs);
    const deleted = await Promise.all([ports.uploads.deleteIfNotNewer(keys.outputKey, source, signal), ports.uploads.deleteIfNotNewer(keys.resultKey, source, signal)]);
    return log('removed', { deleted: deleted.filter(Boolean).length });
  }
  return processCreated(source, keys, ports, settings, deadlines, log);
}

async function processCreated<I>(
  source: UploadSource,
  keys: { outputKey: string; resultKey: string },
  ports: UploadPorts<I>,
  settings: UploadSettings,
  deadlines: Deadlines,
  log: (outcome: UploadOutcome, fields?: Record<string, unknown>) => UploadOutcome,
): Promise<UploadOutcome> {
  const { uploads } = ports;
  let writeSignal: AbortSignal | undefined;
  // One deadline for all of this photo's writes, from the first one.
  const writes = () => (writeSignal ??= deadlines.within(settings.writeTimeoutMs));
  let options: DetectRequestOptions | undefined;
  const writeRecord = async (body: UploadResultRecord | UploadErrorRecord) => {
    await uploads.putIfNotNewer(keys.resultKey, { body: Buffer.from(`${JSON.stringify(body)}\n`), contentType: 'application/json' }, source, writes());
  };
  try {
    let outcome: UploadOutcome;
    try {
      const result = await processImage(
        {
          ...ports,
          store: {
            put: async (key, jpeg, metadata) => {
              await uploads.putIfNotNewer(key, { body: jpeg, contentType: 'image/jpeg', metadata }, source, writes());
              return key;
            },
          },
        },
        settings,
        () => ({
          source: `s3://${source.bucket}/${source.key}`,
          key: keys.outputKey,
          fetch: async (limits) => {
            const read = await uploads.read(source, limits, deadlines.within(limits.timeoutMs));
            options = uploadRequest(read.metadata, settings.uploadDefaults);
            return { data: read.data, options };
          },
        }),
      );
      // The record names the output by key: a URL would expire before the record does.
      const record: UploadResultRecord = { ...result, outputKey: keys.outputKey, options: options ?? {}, source };
      delete (record as Partial<typeof result>).outputUrl;
      await writeRecord(record);
      outcome = 'processed';
    } catch (err) {
      if (err instanceof Settled) throw err;
      const error = asServiceError(err);
      if (RETRIED.has(error.code)) throw error;
      await writeRecord({ errorType: error.code, errorMessage: error.message, source });
      // A refused version keeps no output: an older version's goes.
      await uploads.deleteIfNotNewer(keys.outputKey, source, writes());
      outcome = 'refused';
    }
    // Deleted while we worked: its removal may have run before our writes; take them back.
    if ((await uploads.state(source, writes())) === 'gone') {
      await removeStale();
      return log('gone', { reason: 'deleted while it was processed' });
    }
    return log(outcome, outcome === 'processed' ? { options } : {});
  } catch (err) {
    if (!(err instanceof Settled)) throw err;
    // Settled at the read or at a write. Either way what this version wrote, in this delivery or in
    // an earlier one that failed after writing (a retry reads the same verdict), must not stay.
    if (err.outcome === 'gone') await removeStale();
    else await takeBack();
    return log(err.outcome, { reason: err.message });
  }

  /** The key was deleted: its removal may have run before this version's writes. What is there and not newer goes. */
  async function removeStale(): Promise<void> {
    const signal = writes();
    await Promise.all([uploads.deleteIfNotNewer(keys.outputKey, source, signal), uploads.deleteIfNotNewer(keys.resultKey, source, signal)]);
  }

  /** A newer version is there: this version's own products go; the newer one's (and its event's work) stay. */
  async function takeBack(): Promise<void> {
    const signal = writes();
    await Promise.all([uploads.deleteOwn(keys.outputKey, source, signal), uploads.deleteOwn(keys.resultKey, source, signal)]);
  }
}
