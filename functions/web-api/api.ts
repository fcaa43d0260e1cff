/**
 * What each route does, over a port to the bucket (s3-bucket.ts on Lambda, a fake in tests). Every
 * key is built here from the caller's verified subject and an id checked by ids.ts; nothing in a
 * request is ever used as a key or prefix.
 */
import { invalidInput, tooLarge } from '../common/errors';
import { parseValue } from '../common/schema';
import type { FaceBox, MarkMode } from '../detect-faces/contract';
import { UPLOAD_TYPES, UPLOAD_URL_SECONDS, type ApiError, type UploadContentType, type UploadList, type UploadStatus, type UploadTicket } from './contract';
import { ApiFailure } from './failures';
import { inputKeyOf, newUploadId, UPLOAD_ID, userFolder } from './ids';
import { optionsToMetadata, outputKeyOf, resultKeyOf, type UploadPrefixes } from './upload-rules';

/** A presigned POST's policy, as the bucket port signs it. */
export interface UploadPolicy {
  readonly key: string;
  readonly contentType: UploadContentType;
  readonly maxBytes: number;
  /** User metadata (names without `x-amz-meta-`). */
  readonly metadata: Record<string, string>;
  readonly expiresSeconds: number;
}

export interface ListedObject {
  readonly key: string;
  readonly lastModified: Date;
  readonly size: number;
}

export interface UploadBucket {
  /**
   * Where presigned URLs point, as Content-Security-Policy sources: the bucket's origin
   * (`https://<bucket>.s3.<region>.amazonaws.com`), or, for path-style addresses (a bucket name
   * with dots, a local endpoint), the bucket's path on the endpoint: never a whole endpoint that
   * serves other buckets too.
   */
  cspSources(): Promise<string>;
  presignPost(policy: UploadPolicy): Promise<{ url: string; fields: Record<string, string> }>;
  /** The object's JSON, or undefined when there is no such key. */
  readJson(key: string): Promise<unknown>;
  presignGet(key: string, options: { expiresSeconds: number; attachmentName?: string }): Promise<string>;
  /** Keys under `prefix` after `startAfter`, in key order, at most `limit`; `truncated` when more follow. */
  list(prefix: string, options: { startAfter?: string; limit: number }): Promise<{ objects: ListedObject[]; truncated: boolean }>;
}

export interface ApiSettings extends UploadPrefixes {
  readonly maxImageBytes: number;
  /** The deployment's default mark of uploads (undefined: the request's, box). */
  readonly uploadMark?: MarkMode;
  readonly downloadUrlSeconds: number;
  readonly pageSize: number;
}

export interface ApiDeps {
  readonly bucket: UploadBucket;
  readonly settings: ApiSettings;
  readonly now: () => Date;
}

const CONTENT_TYPES = Object.keys(UPLOAD_TYPES) as UploadContentType[];

const UPLOAD_FIELDS = ['contentType', 'size', 'options'];

/** POST /uploads: a presigned POST for `inputs/<sub>/<uuid>.<ext>`, the options as the object's metadata. */
export async function createUpload(sub: string, body: unknown, { bucket, settings, now }: ApiDeps): Promise<UploadTicket> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidInput('the body must be a JSON object like {"contentType": "image/jpeg", "options": {"mark": "fill"}}');
  const request = body as Record<string, unknown>;
  // Refused, not ignored: {"contentType": ..., "mark": "fill"} would otherwise come back unredacted.
  const unknown = Object.keys(request).filter((name) => !UPLOAD_FIELDS.includes(name));
  if (unknown.length) throw invalidInput(`unknown field ${unknown.join(', ')}; the body has ${UPLOAD_FIELDS.join(', ')} (options such as mark go in options)`);
  // A media type is case-insensitive: IMAGE/JPEG is image/jpeg.
  const contentType = typeof request.contentType === 'string' ? request.contentType.toLowerCase() : request.contentType;
  if (typeof contentType !== 'string' || !(CONTENT_TYPES as string[]).includes(contentType)) {
    throw new ApiFailure(415, 'UnsupportedImage', `contentType must be one of ${CONTENT_TYPES.join(', ')}, got ${JSON.stringify(contentType ?? null)}`);
  }
  if (request.size !== undefined) {
    const size = request.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) throw invalidInput(`size must be the file's size in bytes, got ${JSON.stringify(size)}`);
    if (size > settings.maxImageBytes) throw tooLarge(`the file is ${size} bytes; uploads are at most ${settings.maxImageBytes} bytes`);
  }
  const metadata = optionsToMetadata(request.options, settings.uploadMark);
  const issued = now();
  const id = newUploadId(contentType as UploadContentType, issued.getTime());
  const post = await bucket.presignPost({
    key: `${userFolder(settings.inputPrefix, sub)}${id}`,
    contentType: contentType as UploadContentType,
    maxBytes: settings.maxImageBytes,
    metadata,
    expiresSeconds: UPLOAD_URL_SECONDS,
  });
  return { id, ...post, expiresAt: new Date(issued.getTime() + UPLOAD_URL_SECONDS * 1000).toISOString(), maxBytes: settings.maxImageBytes };
}

/** The shape of a result record this reads (written by detect-faces for the upload). */
interface ResultRecord {
  faces?: unknown;
  boxes?: unknown;
  width?: unknown;
  height?: unknown;
  minFaceSize?: unknown;
  mark?: unknown;
  errorType?: unknown;
  errorMessage?: unknown;
}

/** GET /uploads/{id}: the result once there is one (404 while processing), with short-lived links to the redacted image. */
export async function getUpload(sub: string, id: string, { bucket, settings }: ApiDeps): Promise<UploadStatus> {
  const inputKey = inputKeyOf(settings.inputPrefix, sub, id);
  const record = (await bucket.readJson(resultKeyOf(inputKey, settings))) as ResultRecord | undefined;
  if (record === undefined) throw new ApiFailure(404, 'NotFound', `no result for ${id} yet: it is still being processed, or there is no such upload of yours`);
  if (typeof record.errorType === 'string') {
    const error: ApiError = { code: record.errorType, message: typeof record.errorMessage === 'string' ? record.errorMessage : '' };
    return { id, status: 'failed', error };
  }
  // The output's key follows from the input's (one rule), never from the record's contents.
  const outputKey = outputKeyOf(inputKey, settings);
  const expiresSeconds = settings.downloadUrlSeconds;
  const [outputUrl, downloadUrl] = await Promise.all([
    bucket.presignGet(outputKey, { expiresSeconds }),
    bucket.presignGet(outputKey, { expiresSeconds, attachmentName: `${id.replace(/\.[a-z]+$/, '')}-redacted.jpg` }),
  ]);
  return {
    id,
    status: 'done',
    faces: record.faces as number,
    boxes: record.boxes as FaceBox[],
    width: record.width as number,
    height: record.height as number,
    minFaceSize: record.minFaceSize as number,
    mark: record.mark as MarkMode,
    outputUrl,
    downloadUrl,
  };
}

/** GET /uploads?limit=N&after=<next>: the caller's uploads, most recent first (ids are UUIDs that sort newest first). */
export async function listUploads(sub: string, query: Record<string, string | undefined>, { bucket, settings }: ApiDeps): Promise<UploadList> {
  const limit = parseValue({ kind: 'int', default: settings.pageSize, min: 1, max: settings.pageSize, doc: '' }, query.limit, (expected) => {
    throw invalidInput(`limit must be ${expected}, got ${JSON.stringify(query.limit)}`);
  });
  const folder = userFolder(settings.inputPrefix, sub);
  // The listing's prefix keeps it in the caller's folder whatever `after` says; a "/" would only skip within it.
  if (query.after !== undefined && !/^[^/]{1,1024}$/.test(query.after)) throw invalidInput(`after must be the previous page's next, got ${JSON.stringify(query.after.slice(0, 80))}`);
  const { objects, truncated } = await bucket.list(folder, { startAfter: query.after === undefined ? undefined : `${folder}${query.after}`, limit });
  const uploads = objects
    // Only this API's own ids: anything else in the folder (put there by hand) is not an upload of the app.
    .filter((o) => o.key.startsWith(folder) && UPLOAD_ID.test(o.key.slice(folder.length)))
    .map((o) => ({ id: o.key.slice(folder.length), uploadedAt: o.lastModified.toISOString(), size: o.size }));
  const last = objects.at(-1);
  return truncated && last ? { uploads, next: last.key.slice(folder.length) } : { uploads };
}
