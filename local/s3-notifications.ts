/** What S3 sends to the upload queue, made from s3rver's events (the bucket notification of stack/upload-trigger.ts). */
import { randomUUID } from 'node:crypto';
import { s3EventName, type S3rverNotification } from './s3-server';

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
