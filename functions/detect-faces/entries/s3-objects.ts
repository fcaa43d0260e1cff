/**
 * The uploads' S3 side on Lambda: reads an uploaded version within the size and time limits, and
 * writes result records. Read failures are StorageFailed (retried by the queue); a body over the
 * limit is TooLarge (a verdict on the photo, not retried).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { ServiceError, storageFailed, tooLarge } from '../../common/errors';
import type { UploadSource } from '../contract';
import type { FetchLimits } from '../pipeline';
import { UploadSuperseded, type UploadStore } from './s3-upload';

const unquote = (eTag: string | undefined) => (eTag ?? '').replace(/"/g, '');

export function createS3UploadStore(s3: S3Client, bucket: string): UploadStore {
  return {
    read: (source, limits) => readUpload(s3, source, limits),
    writeJson: async (key, body) => {
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(`${JSON.stringify(body)}\n`), ContentType: 'application/json' }));
      } catch (err) {
        throw storageFailed(`writing the result record failed (${(err as Error).name ?? 'error'})`, err);
      }
    },
  };
}

export async function readUpload(s3: S3Client, source: UploadSource, limits: FetchLimits): Promise<Buffer> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const superseded = (now: string) => new UploadSuperseded(`s3://${source.bucket}/${source.key} changed after the event (ETag ${source.eTag}, now ${now}); its newer event processes it`);
  let body: Readable | undefined;
  try {
    // IfMatch: the version the event names, or nothing (a later upload has its own event).
    const out = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key, ...(source.eTag ? { IfMatch: `"${source.eTag}"` } : {}) }), { abortSignal: signal });
    body = out.Body as Readable;
    // S3 servers that ignore If-Match (s3rver) still say which version they sent.
    if (source.eTag && out.ETag && unquote(out.ETag) !== source.eTag) throw superseded(unquote(out.ETag));
    if (out.ContentLength !== undefined && out.ContentLength > limits.maxBytes) throw tooLarge(`the image is ${out.ContentLength} bytes; the limit is ${limits.maxBytes}`);
    const chunks: Buffer[] = [];
    let size = 0;
    // The length header is S3's word; the cap holds whatever arrives.
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limits.maxBytes) throw tooLarge(`the image is larger than the limit of ${limits.maxBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks, size);
  } catch (err) {
    body?.destroy();
    if (err instanceof ServiceError) throw err;
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    if (e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412) throw superseded('another version');
    const why = signal.aborted ? `took longer than ${limits.timeoutMs / 1000} s` : `${e.name ?? 'error'}`;
    throw storageFailed(`reading s3://${source.bucket}/${source.key} failed (${why}); it will be retried`, err);
  }
}
