/** Uploads: the SQS and S3 events detect-faces receives, and the result records it writes for them. */
import type { DetectError, DetectResult } from './request';

/** An S3 object as an upload names it: the key (decoded) and the ETag of the version that was uploaded. */
export interface UploadSource {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
}

/** `results/<path>.json` of a processed upload: the direct invocation's result plus where it came from. */
export interface UploadResultRecord extends DetectResult {
  source: UploadSource;
}

/** `results/<path>.json` of an upload refused with a typed error (not retried). */
export interface UploadErrorRecord extends DetectError {
  source: UploadSource;
}

/** The SQS event Lambda's event source mapping delivers (the fields used here). */
export interface SqsEvent {
  Records: SqsRecord[];
}

export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle?: string;
  /** An S3 event notification (`{"Records":[...]}`) or S3's `s3:TestEvent`, as JSON. */
  readonly body: string;
  readonly attributes?: { ApproximateReceiveCount?: string; [name: string]: string | undefined };
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN?: string;
}

/** With `ReportBatchItemFailures`: the messages to receive again; every other one is deleted. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The S3 event notification in a message body (the fields used here). Keys are URL-encoded, spaces as "+". */
export interface S3EventNotification {
  Records?: {
    eventSource?: string;
    eventName?: string;
    s3?: { bucket?: { name?: string }; object?: { key?: string; eTag?: string; size?: number } };
  }[];
  /** "s3:TestEvent", sent once when the notification is configured. */
  Event?: string;
}
