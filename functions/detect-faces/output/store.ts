/** Stores the marked image and says where it can be fetched (public URL or presigned URL). */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { storageFailed } from '../../common/errors';
import type { OutputAccess } from '../contract';
import type { ImageStore } from '../pipeline';

export interface StoreOptions {
  readonly bucket: string;
  readonly access: OutputAccess;
  readonly presignExpiresSeconds: number;
  /** Base of public URLs; default S3's own for the bucket in the client's region (publicS3Base), a local endpoint's path-style base locally. */
  readonly publicBaseUrl?: string;
}

/** Puts the marked image; `signal` bounds the call, the SDK's retries included (aborted: StorageFailed, "out of time"). */
export async function storeImage(s3: S3Client, key: string, jpeg: Buffer, options: StoreOptions, metadata: Record<string, string> = {}, signal?: AbortSignal): Promise<string> {
  // The URL first (signing is local): a failure there must not leave an object behind.
  const url = await outputUrl(s3, key, options);
  try {
    await s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: jpeg, ContentType: 'image/jpeg', CacheControl: 'max-age=3600', Metadata: metadata }), { abortSignal: signal });
  } catch (err) {
    throw storageFailed(`storing the marked image failed (${signal?.aborted ? 'out of time' : ((err as Error).name ?? 'error')}); try again later`, err);
  }
  return url;
}

export async function outputUrl(s3: S3Client, key: string, options: StoreOptions): Promise<string> {
  if (options.access === 'presigned') {
    try {
      return await getSignedUrl(s3, new GetObjectCommand({ Bucket: options.bucket, Key: key }), { expiresIn: options.presignExpiresSeconds });
    } catch (err) {
      throw storageFailed('signing the output URL failed', err);
    }
  }
  const base = (options.publicBaseUrl ?? publicS3Base(options.bucket, await s3.config.region())).replace(/\/+$/, '');
  return `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * S3's public URL base of a bucket: virtual-hosted on the regional endpoint, or path style when the
 * name has dots (S3's certificate covers `*.s3.<region>.amazonaws.com`, one label: `a.b.s3...` fails TLS).
 */
export function publicS3Base(bucket: string, region: string): string {
  const host = `s3.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
  return bucket.includes('.') ? `https://${host}/${bucket}` : `https://${bucket}.${host}`;
}

/** The pipeline's image store: S3, with the URL the settings ask for; each write bounded by a fresh `deadline()` when given. */
export function createS3Store(s3: S3Client, options: StoreOptions, deadline?: () => AbortSignal): ImageStore {
  return { put: (key, jpeg, metadata) => storeImage(s3, key, jpeg, options, metadata, deadline?.()) };
}
