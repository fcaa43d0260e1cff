/**
 * The upload queue's side the function writes to: a deferred message is sent again as a new
 * message (its receives start over, so deferring never dead-letters a photo that was never
 * tried), a poison message is sent to the dead-letter queue once with its reason (message
 * attribute `reason`), and a failed one is given when to come back (ChangeMessageVisibility). A send ends after SEND_TIMEOUT_MS or at the invocation's deadline, whichever
 * comes first (then the message goes back by `batchItemFailures`: the batch still answers in time). Without a queue URL (a deployment without the trigger) both throw, and the
 * message goes back by `batchItemFailures` instead.
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { storageFailed } from '../../common/errors';
import type { UploadQueue } from './batch';
import { receiveCount } from './versions';
import { regionOf } from '../../common/contract';

export interface QueueUrls {
  readonly queueUrl?: string;
  readonly deadLetterQueueUrl?: string;
}

/** Sends are small: a few seconds, retries included, or the message goes back the other way. */
const SEND_TIMEOUT_MS = 3_000;

export function createSqsUploadQueue(sqs: SQSClient, urls: QueueUrls): UploadQueue {
  const send = async (queueUrl: string | undefined, record: SQSRecord, attributes: Record<string, string>, what: string, signal: AbortSignal) => {
    if (!queueUrl) throw storageFailed(`no queue to ${what} to (UPLOAD_QUEUE_URL / DEAD_LETTER_QUEUE_URL unset)`);
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: record.body,
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
        }),
        { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]) },
      );
    } catch (err) {
      throw storageFailed(`sending message ${record.messageId} to ${what} failed (${signal.aborted ? 'out of time' : ((err as Error).name ?? 'error')})`, err);
    }
  };
  return {
    retryIn: async (record, seconds, signal) => {
      if (!urls.queueUrl) throw storageFailed('no queue to change a message\'s visibility on (UPLOAD_QUEUE_URL unset)');
      try {
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: urls.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }), {
          abortSignal: AbortSignal.any([signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]),
        });
      } catch (err) {
        throw storageFailed(`setting when message ${record.messageId} comes back failed (${signal.aborted ? 'out of time' : ((err as Error).name ?? 'error')})`, err);
      }
    },
    requeue: (record, signal) => send(urls.queueUrl, record, { deferredFrom: record.messageId }, 'requeue', signal),
    deadLetter: (record, reason, signal) =>
      send(urls.deadLetterQueueUrl, record, { reason: reason.slice(0, 1000), sourceMessageId: record.messageId, receiveCount: String(receiveCount(record.attributes)) }, 'the dead-letter queue', signal),
  };
}

export function sqsClientFromEnv(endpoint: string | undefined): SQSClient {
  return new SQSClient({
    region: regionOf(process.env),
    maxAttempts: 3,
    ...(endpoint ? { endpoint } : {}),
  });
}
