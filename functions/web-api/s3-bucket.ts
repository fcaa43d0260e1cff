/** The bucket port on S3: presigned POSTs and GETs (signed locally, no call to S3), result reads and listings. */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { storageFailed } from '../common/errors';
import type { UploadBucket, UploadPolicy } from './api';

/**
 * The form POST's fields and conditions. createPresignedPost makes each field an exact-match
 * condition (with the key, the bucket and the signing fields) and sets the expiry; added here is
 * the size range, 1 byte to `maxBytes`. A form that changes the key, the content type or any
 * metadata value, or sends a larger file, is refused by S3.
 */
export function postConditions(policy: UploadPolicy): Required<Pick<PresignedPostOptions, 'Fields' | 'Conditions'>> {
  const metadata = Object.fromEntries(Object.entries(policy.metadata).map(([name, value]) => [`x-amz-meta-${name}`, value]));
  return { Fields: { 'Content-Type': policy.contentType, ...metadata }, Conditions: [['content-length-range', 1, policy.maxBytes]] };
}

export function s3UploadBucket(s3: S3Client, bucket: string): UploadBucket {
  let sources: Promise<string> | undefined;
  return {
    cspSources() {
      // Signing is local: the client's own endpoint resolution, once per container. The key's
      // place in the signed URL says the style: `/probe` (the bucket in the host), or `/<bucket>/probe`.
      sources ??= getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'probe' }), { expiresIn: 60 }).then(
        (signed) => {
          const url = new URL(signed);
          const base = url.pathname.slice(0, -'probe'.length);
          // A path ending in "/" matches what is under it; the presigned POST goes to the path itself.
          return base === '/' ? url.origin : `${url.origin}${base.slice(0, -1)} ${url.origin}${base}`;
        },
        (err: unknown) => {
          sources = undefined;
          throw storageFailed("resolving the bucket's address failed", err);
        },
      );
      return sources;
    },

    async presignPost(policy) {
      try {
        const { url, fields } = await createPresignedPost(s3, { Bucket: bucket, Key: policy.key, Expires: policy.expiresSeconds, ...postConditions(policy) });
        return { url, fields };
      } catch (err) {
        throw storageFailed('signing the upload failed', err);
      }
    },

    async readJson(key) {
      let text: string;
      try {
        const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        text = await answer.Body!.transformToString();
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'NoSuchKey') return undefined;
        // Without s3:ListBucket for this key, S3 says AccessDenied for a missing key: look before concluding.
        if (name === 'AccessDenied' && !(await exists(key))) return undefined;
        throw storageFailed(`reading the result failed (${name}); try again`, err);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw storageFailed('the result record is not JSON', err);
      }
    },

    async presignGet(key, { expiresSeconds, attachmentName }) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(attachmentName ? { ResponseContentDisposition: `attachment; filename="${attachmentName}"` } : {}),
      });
      try {
        return await getSignedUrl(s3, command, { expiresIn: expiresSeconds });
      } catch (err) {
        throw storageFailed('signing the link to the redacted image failed', err);
      }
    },

    async list(prefix, { startAfter, limit }) {
      try {
        const answer = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: limit }));
        return {
          objects: (answer.Contents ?? []).map((o) => ({ key: o.Key!, lastModified: o.LastModified ?? new Date(0), size: o.Size ?? 0 })),
          truncated: answer.IsTruncated === true,
        };
      } catch (err) {
        throw storageFailed(`listing uploads failed (${(err as Error).name}); try again`, err);
      }
    },
  };

  async function exists(key: string): Promise<boolean> {
    try {
      const answer = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
      return (answer.Contents ?? []).some((o) => o.Key === key);
    } catch (err) {
      throw storageFailed(`reading the result failed (${(err as Error).name}); try again`, err);
    }
  }
}
