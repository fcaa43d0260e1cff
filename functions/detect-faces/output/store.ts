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
  /** Base of public URLs; default `https://<bucket>.s3.amazonaws.com`, a local endpoint's path-style base locally. */
  readonly publicBaseUrl?: string;
}

export async function storeImage(s3: S3Client, key: string, jpeg: Buffer, options: StoreOptions, metadata: Record<string, string> = {}): Promise<string> {
  // The URL first (signing is local): a failure there must not leave an object behind.
  const url = await outputUrl(s3, key, options);
  try {
    await s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: jpeg, ContentType: 'image/jpeg', CacheControl: 'max-age=3600', Metadata: metadata }));
  } catch (err) {
    throw storageFailed(`storing the marked image failed (${(err as Error).name ?? 'error'}); try again later`, err);
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
  const base = (options.publicBaseUrl ?? `https://${options.bucket}.s3.amazonaws.com`).replace(/\/+$/, '');
  return `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** The pipeline's image store: S3, with the URL the settings ask for. */
export function createS3Store(s3: S3Client, options: StoreOptions): ImageStore {
  return { put: (key, jpeg, metadata) => storeImage(s3, key, jpeg, options, metadata) };
}
