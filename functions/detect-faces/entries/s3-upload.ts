/**
 * The upload entry: photos put under the input prefix reach detect-faces as S3 event notifications
 * in SQS messages (event source mapping, `ReportBatchItemFailures`). Each photo runs through the same
 * pipeline as a direct invocation, then a result record is written:
 *   inputs/a/b.jpg  ->  <image prefix><hash of key + ETag>.jpg   (the marked image)
 *                   ->  results/a/b.jpg.json                      (the result, or the typed error)
 * Outputs depend only on the key and the ETag, so a redelivered message rewrites the same two
 * objects: at-least-once delivery is harmless. A photo refused with a typed error (not an image,
 * too large...) gets an error record and is acknowledged, since a retry would fail the same way;
 * unexpected failures (Internal, StorageFailed, S3 reads, the record write) are reported in
 * `batchItemFailures`, so SQS delivers that message again and, after the queue's receive limit,
 * moves it to the dead-letter queue. One failed photo never fails the rest of its batch.
 */
import { createHash } from 'node:crypto';
import { asServiceError, ServiceError, type ErrorCode } from '../../common/errors';
import type { S3EventNotification, SqsBatchResponse, SqsEvent, SqsRecord, UploadErrorRecord, UploadResultRecord, UploadSource } from '../contract';
import { processImage, type FetchLimits, type PipelinePorts, type PipelineSettings } from '../pipeline';

/** The S3 side of uploads (s3-objects.ts on Lambda, fakes in tests). */
export interface UploadStore {
  /** The object's bytes, as uploaded at `source.eTag`, within the limits; UploadSuperseded when the key now holds another version. */
  read(source: UploadSource, limits: FetchLimits): Promise<Buffer>;
  /** Writes a JSON record; StorageFailed when it cannot. */
  writeJson(key: string, body: unknown): Promise<void>;
}

export interface UploadPorts<I> extends PipelinePorts<I> {
  readonly uploads: UploadStore;
}

export interface UploadSettings extends PipelineSettings {
  readonly bucket: string;
  readonly inputPrefix: string;
  readonly resultPrefix: string;
  /** No new message is started with less time than this left: the rest go back to the queue. */
  readonly reserveMs: number;
}

/**
 * The key was overwritten after the event: this version is gone and the newer version's own event
 * processes the key. Nothing is written for this message, and it is not retried.
 */
export class UploadSuperseded extends ServiceError {
  constructor(message: string) {
    super('StorageFailed', message);
  }
}

/** Failures worth another delivery: the photo may well work next time. Every other code is a verdict on the photo. */
const RETRIED: ReadonlySet<ErrorCode> = new Set(['Internal', 'StorageFailed', 'ConfigurationError']);

export type UploadOutcome = 'processed' | 'refused' | 'superseded' | 'ignored';

/** Is this an SQS event (as opposed to a direct `{imageUrl}` invocation)? */
export function isSqsEvent(event: unknown): event is SqsEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs');
}

/** S3 event keys are URL-encoded with spaces as "+". */
export function decodeEventKey(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

/** `inputs/a/b.jpg` -> `results/a/b.jpg.json`. */
export function resultKey(key: string, settings: Pick<UploadSettings, 'inputPrefix' | 'resultPrefix'>): string {
  return `${settings.resultPrefix}${key.slice(settings.inputPrefix.length)}.json`;
}

/** The marked image of one uploaded version: the same key for the same key and ETag, whatever the delivery. */
export function uploadImageKey(imagePrefix: string, source: UploadSource): string {
  const digest = createHash('sha256').update(`${source.bucket}\n${source.key}\n${source.eTag}`).digest('hex');
  return `${imagePrefix}upload-${digest.slice(0, 40)}.jpg`;
}

export async function handleUploads<I>(event: SqsEvent, ports: UploadPorts<I>, settings: UploadSettings, remainingMs: () => number): Promise<SqsBatchResponse> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  const counts: Record<UploadOutcome | 'failed' | 'deferred', number> = { processed: 0, refused: 0, superseded: 0, ignored: 0, failed: 0, deferred: 0 };
  const started = performance.now();
  for (const [i, record] of event.Records.entries()) {
    // A message started too late would time the whole batch out; unstarted ones go back to the queue.
    if (i > 0 && remainingMs() < settings.reserveMs) {
      for (const rest of event.Records.slice(i)) batchItemFailures.push({ itemIdentifier: rest.messageId });
      counts.deferred = event.Records.length - i;
      break;
    }
    try {
      for (const outcome of await handleMessage(record, ports, settings)) counts[outcome]++;
    } catch (err) {
      counts.failed++;
      batchItemFailures.push({ itemIdentifier: record.messageId });
      const error = asServiceError(err);
      ports.log.error('upload failed, will be retried', {
        messageId: record.messageId,
        receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
        code: error.code,
        error: error.code === 'Internal' ? (err as Error) : error.message,
      });
    }
  }
  ports.log.info('upload batch done', {
    messages: event.Records.length,
    ...counts,
    durationMs: Math.round(performance.now() - started),
    // Watched by the load run: a leak per photo shows here first.
    rssMb: Math.round(process.memoryUsage.rss() / 2 ** 20),
  });
  return { batchItemFailures };
}

/** One SQS message: S3's test event, or a notification with (usually) one record. Throws to have it retried. */
async function handleMessage<I>(record: SqsRecord, ports: UploadPorts<I>, settings: UploadSettings): Promise<UploadOutcome[]> {
  let body: S3EventNotification;
  try {
    body = JSON.parse(record.body) as S3EventNotification;
  } catch {
    // Only S3 can send to the queue; an unreadable message is kept (dead-letter queue), not dropped.
    throw new Error(`message ${record.messageId} is not JSON`);
  }
  if (body.Event === 's3:TestEvent') {
    ports.log.info('S3 test event acknowledged', { messageId: record.messageId });
    return ['ignored'];
  }
  if (!Array.isArray(body.Records)) throw new Error(`message ${record.messageId} is not an S3 event notification`);
  const outcomes: UploadOutcome[] = [];
  for (const s3Record of body.Records) {
    const object = s3Record.s3?.object;
    const bucket = s3Record.s3?.bucket?.name;
    if (!s3Record.eventName?.startsWith('ObjectCreated:') || !object?.key || !bucket) {
      outcomes.push('ignored');
      continue;
    }
    const key = decodeEventKey(object.key);
    // The notification's filter sends only this bucket's input prefix; anything else is not ours to read.
    if (bucket !== settings.bucket || !key.startsWith(settings.inputPrefix) || key.endsWith('/')) {
      ports.log.warn('upload ignored: not a photo under the input prefix', { bucket, key, eventName: s3Record.eventName });
      outcomes.push('ignored');
      continue;
    }
    outcomes.push(await processUpload({ bucket, key, eTag: (object.eTag ?? '').replace(/"/g, '') }, ports, settings, record));
  }
  return outcomes;
}

async function processUpload<I>(source: UploadSource, ports: UploadPorts<I>, settings: UploadSettings, record: SqsRecord): Promise<UploadOutcome> {
  const recordKey = resultKey(source.key, settings);
  const imageKey = uploadImageKey(settings.imagePrefix, source);
  const log = (outcome: UploadOutcome, fields: Record<string, unknown> = {}) =>
    ports.log.info('upload done', { key: source.key, eTag: source.eTag, outcome, resultKey: recordKey, receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1), ...fields });
  let result;
  try {
    result = await processImage(ports, settings, () => ({
      source: `s3://${source.bucket}/${source.key}`,
      fetch: async (limits) => ({ data: await ports.uploads.read(source, limits) }),
      key: imageKey,
      options: {},
    }));
  } catch (err) {
    if (err instanceof UploadSuperseded) {
      log('superseded', { reason: err.message });
      return 'superseded';
    }
    const error = asServiceError(err);
    if (RETRIED.has(error.code)) throw error;
    // ConfigurationError, the one code outside the contract's list, is among the retried ones.
    const refused: UploadErrorRecord = { errorType: error.code as UploadErrorRecord['errorType'], errorMessage: error.message, source };
    await ports.uploads.writeJson(recordKey, refused);
    log('refused', { code: error.code });
    return 'refused';
  }
  const done: UploadResultRecord = { ...result, source };
  await ports.uploads.writeJson(recordKey, done);
  log('processed', { faces: result.faces, imageKey });
  return 'processed';
}
