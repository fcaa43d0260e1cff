/**
 * What one SQS message of the upload queue asks, read without throwing: S3 event notifications
 * become `created` / `removed` items for keys under the input prefix; S3's test event, other
 * events, folders, other buckets and prefixes are `ignored`; what cannot be read (not JSON, not a
 * notification, a key S3 could not have encoded so) is `poison`: dead-lettered once with its
 * reason, never retried. Message bodies are typed by @types/aws-lambda's S3 event.
 */
import type { S3Event, S3EventRecord } from 'aws-lambda';
import type { UploadSource } from '../contract';
import { isUploadKey, outputKey, resultKey, type UploadPrefixes } from './keys';
import { unquoteETag } from './versions';

export type UploadItem =
  | { readonly kind: 'created'; readonly source: UploadSource }
  | { readonly kind: 'removed'; readonly source: UploadSource }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'poison'; readonly reason: string };

/** S3's longest key, in bytes. */
const MAX_KEY_BYTES = 1024;

/** S3 event keys are URL-encoded with spaces as "+"; undefined for a malformed `%` sequence. */
export function decodeEventKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export function uploadItems(body: string, settings: { readonly bucket: string } & UploadPrefixes): UploadItem[] {
  let message: Partial<S3Event> & { Event?: string };
  try {
    message = JSON.parse(body);
  } catch {
    return [{ kind: 'poison', reason: 'the message is not JSON' }];
  }
  if (message?.Event === 's3:TestEvent') return [{ kind: 'ignored', reason: "S3's test event" }];
  if (!message || !Array.isArray(message.Records)) return [{ kind: 'poison', reason: 'the message is not an S3 event notification (no Records)' }];
  return message.Records.map((record) => item(record, settings));
}

function item(record: S3EventRecord, settings: { readonly bucket: string } & UploadPrefixes): UploadItem {
  const name = record?.eventName;
  const bucket = record?.s3?.bucket?.name;
  const rawKey = record?.s3?.object?.key;
  if (typeof name !== 'string' || typeof bucket !== 'string' || typeof rawKey !== 'string') {
    return { kind: 'poison', reason: 'an S3 record without eventName, bucket or key' };
  }
  const created = name.startsWith('ObjectCreated:');
  if (!created && !name.startsWith('ObjectRemoved:')) return { kind: 'ignored', reason: `event ${name}` };
  const key = decodeEventKey(rawKey);
  if (key === undefined) return { kind: 'poison', reason: `the key ${JSON.stringify(rawKey)} is not URL-encoded as S3 encodes keys` };
  // The notification's filter sends only this bucket's input prefix; anything else is not ours to touch.
  if (bucket !== settings.bucket || !isUploadKey(key, settings)) return { kind: 'ignored', reason: `s3://${bucket}/${key} is not a photo under ${settings.inputPrefix}` };
  // S3 keys are at most 1,024 bytes: an input near that has products no key can hold.
  const tooLong = [outputKey(key, settings), resultKey(key, settings)].find((k) => Buffer.byteLength(k) > MAX_KEY_BYTES);
  if (tooLong !== undefined) {
    const why = `its products would need a key of ${Buffer.byteLength(tooLong)} bytes, over S3's ${MAX_KEY_BYTES}`;
    // Created: nothing can be written, not even a refusal; retries would only fail again. Removed: nothing to delete.
    return created ? { kind: 'poison', reason: `the key ${JSON.stringify(`${key.slice(0, 64)}...`)}: ${why}` } : { kind: 'ignored', reason: why };
  }
  const object = record.s3.object as { eTag?: string; sequencer?: string };
  const sequencer = typeof object.sequencer === 'string' && /^[0-9A-Fa-f]+$/.test(object.sequencer) ? object.sequencer : undefined;
  const source: UploadSource = { bucket, key, eTag: created ? unquoteETag(object.eTag) : '', ...(sequencer ? { sequencer } : {}) };
  return { kind: created ? 'created' : 'removed', source };
}
