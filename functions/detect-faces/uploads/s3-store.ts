/**
 * The uploads' S3 side: reads an uploaded version, and writes and deletes its products (the
 * redacted image, the result record) only in the order of the versions, with S3's conditional
 * requests. Every call takes the caller's abort signal (its deadline, retries included).
 *
 * Why the latest version always wins (README "Uploads"): every product carries the version it was
 * made from (user metadata: ETag and event sequencer). A write is a compare-and-swap: create with
 * `If-None-Match: *`, or replace with `If-Match: <the ETag just read>` only when what is there is
 * not newer; a 412 means another writer came between, and the loop reads again. So a product only
 * ever moves forward in sequencer order, whatever order the versions are processed in, and the
 * latest version's writes are never refused. Deletes are the same swap (`DeleteObject` with
 * `If-Match`). What a compare-and-swap cannot see (the key deleted after it was read) the caller
 * checks after writing (`current`), and takes back its own writes by the version they name.
 *
 * A missing key is 404 only for a role with `s3:ListBucket` (granted on these prefixes by the
 * stack); 403 stays StorageFailed (retried): it is a permission problem, not a verdict.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { ServiceError, Settled, storageFailed, tooLarge } from '../../common/errors';
import type { UploadSource } from '../contract';
import { compareSequencers, unquoteETag, versionFromMetadata, versionMetadata, type Version } from './versions';

/** An uploaded version's bytes and user metadata. */
export interface ReadUpload {
  readonly data: Buffer;
  readonly metadata: Record<string, string>;
}

export interface ProductBody {
  readonly body: Buffer;
  readonly contentType: string;
  /** More user metadata (the version's is added). */
  readonly metadata?: Record<string, string>;
}

/** The S3 side of uploads, as the batch entry uses it (this module on Lambda, fakes in tests). */
export interface UploadStore {
  /** The version the event names; Settled gone (404) or superseded (412: another version is there); TooLarge; StorageFailed. */
  read(source: UploadSource, limits: { maxBytes: number }, signal: AbortSignal): Promise<ReadUpload>;
  /** Writes `key` unless it holds a newer version's product (then Settled superseded); returns the ETag written. */
  putIfNotNewer(key: string, product: ProductBody, version: Version, signal: AbortSignal): Promise<string>;
  /** Deletes `key` unless it holds a newer version's product than `version`; returns whether it deleted. */
  deleteIfNotNewer(key: string, version: Pick<Version, 'sequencer'>, signal: AbortSignal): Promise<boolean>;
  /**
   * Deletes `key` only while it holds this version's own product (its metadata names the version):
   * taking back one's own write. Not by the ETag written: a newer version with the same bytes (a
   * retried PUT, the same photo again) writes the same product, so the same ETag. Returns whether it deleted.
   */
  deleteOwn(key: string, version: Version, signal: AbortSignal): Promise<boolean>;
  /** Whether the key still holds the version: `current`, `gone` (deleted) or `superseded`. */
  state(source: UploadSource, signal: AbortSignal): Promise<'current' | 'gone' | 'superseded'>;
}

type S3Error = Error & { $metadata?: { httpStatusCode?: number } };
const status = (err: unknown) => (err as S3Error).$metadata?.httpStatusCode;
const isMissing = (err: unknown) => status(err) === 404 || ['NoSuchKey', 'NotFound'].includes((err as Error).name);
/** 412, or 409 ConditionalRequestConflict (S3's answer to two conditional writes at once): read again. */
const isConflict = (err: unknown) => status(err) === 412 || status(err) === 409 || ['PreconditionFailed', 'ConditionalRequestConflict'].includes((err as Error).name);

/** A compare-and-swap that keeps meeting other writers gives up after this many rounds (StorageFailed: retried later). */
const MAX_ROUNDS = 5;

export function createS3UploadStore(s3: S3Client, bucket: string): UploadStore {
  const failed = (what: string, err: unknown, signal: AbortSignal): Error =>
    err instanceof ServiceError || err instanceof Settled
      ? err
      : storageFailed(`${what} failed (${signal.aborted ? 'out of time' : ((err as Error).name ?? 'error')}); it will be retried`, err);

  /** The product at `key`: its ETag and the version it was made from; undefined when there is none. */
  const head = async (key: string, signal: AbortSignal) => {
    try {
      const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return { eTag: unquoteETag(out.ETag), of: versionFromMetadata(out.Metadata) };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  };

  /**
   * Deletes `key` while the product there is one `ours` accepts (by the version its metadata names),
   * as a compare-and-swap on what was read: a 412 means another writer came between, and it reads
   * again. Whether it deleted; nothing there, or not ours, is false.
   */
  const deleteWhile = async (key: string, ours: (of: Version) => boolean, signal: AbortSignal): Promise<boolean> => {
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const there = await head(key, signal);
        if (!there || !ours(there.of)) return false;
        try {
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: `"${there.eTag}"` }), { abortSignal: signal });
          return true;
        } catch (err) {
          if (isMissing(err)) return false;
          if (!isConflict(err)) throw err;
        }
      }
      throw storageFailed(`deleting ${key} met other writers ${MAX_ROUNDS} times; it will be retried`);
    } catch (err) {
      throw failed(`deleting ${key}`, err, signal);
    }
  };

  return {
    read: async (source, limits, signal) => {
      let body: Readable | undefined;
      try {
        // IfMatch: the version the event names, or nothing (a later upload has its own event).
        const out = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key, ...(source.eTag ? { IfMatch: `"${source.eTag}"` } : {}) }), { abortSignal: signal });
        body = out.Body as Readable;
        // A server that ignores If-Match still says which version it sent.
        if (source.eTag && out.ETag && unquoteETag(out.ETag) !== source.eTag) throw new Settled('superseded', `s3://${source.bucket}/${source.key} holds another version than ${source.eTag}; its own event processes it`);
        if (out.ContentLength !== undefined && out.ContentLength > limits.maxBytes) throw tooLarge(`the image is ${out.ContentLength} bytes; the limit is ${limits.maxBytes}`);
        const chunks: Buffer[] = [];
        let size = 0;
        // The length header is S3's word; the cap holds whatever arrives.
        for await (const chunk of body) {
          size += (chunk as Buffer).length;
          if (size > limits.maxBytes) throw tooLarge(`the image is larger than the limit of ${limits.maxBytes} bytes`);
          chunks.push(chunk as Buffer);
        }
        return { data: Buffer.concat(chunks, size), metadata: out.Metadata ?? {} };
      } catch (err) {
        body?.destroy();
        if (err instanceof Settled) throw err;
        if (isMissing(err)) throw new Settled('gone', `s3://${source.bucket}/${source.key} was deleted before it was read`);
        if (isConflict(err)) throw new Settled('superseded', `s3://${source.bucket}/${source.key} holds another version than ${source.eTag}; its own event processes it`);
        throw failed(`reading s3://${source.bucket}/${source.key}`, err, signal);
      }
    },

    putIfNotNewer: async (key, product, version, signal) => {
      try {
        // Most keys are new: try a create first, and read what is there only when that is refused.
        let condition: { IfNoneMatch: string } | { IfMatch: string } = { IfNoneMatch: '*' };
        for (let round = 0; round < MAX_ROUNDS; round++) {
          try {
            const out = await s3.send(
              new PutObjectCommand({ Bucket: bucket, Key: key, Body: product.body, ContentType: product.contentType, Metadata: { ...product.metadata, ...versionMetadata(version) }, ...condition }),
              { abortSignal: signal },
            );
            return unquoteETag(out.ETag);
          } catch (err) {
            // A replace of a key deleted since it was read is refused with 404 (NoSuchKey), not 412: read again too.
            if (!isConflict(err) && !('IfMatch' in condition && isMissing(err))) throw err;
          }
          const there = await head(key, signal);
          if (there && compareSequencers(there.of.sequencer, version.sequencer) > 0) {
            throw new Settled('superseded', `${key} already holds a newer version's product (${there.of.eTag})`);
          }
          condition = there ? { IfMatch: `"${there.eTag}"` } : { IfNoneMatch: '*' };
        }
        throw storageFailed(`writing ${key} met other writers ${MAX_ROUNDS} times; it will be retried`);
      } catch (err) {
        throw failed(`writing ${key}`, err, signal);
      }
    },

    deleteIfNotNewer: (key, version, signal) => deleteWhile(key, (of) => compareSequencers(of.sequencer, version.sequencer) <= 0, signal),

    deleteOwn: (key, version, signal) => deleteWhile(key, (of) => of.eTag === version.eTag && compareSequencers(of.sequencer, version.sequencer) === 0, signal),

    state: async (source, signal) => {
      try {
        const out = await s3.send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key }), { abortSignal: signal });
        return !source.eTag || unquoteETag(out.ETag) === source.eTag ? 'current' : 'superseded';
      } catch (err) {
        if (isMissing(err)) return 'gone';
        throw failed(`checking s3://${source.bucket}/${source.key}`, err, signal);
      }
    },
  };
}
