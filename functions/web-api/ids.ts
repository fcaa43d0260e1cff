/**
 * Upload ids and the keys they stand for. An id is `<uuid>.<ext>` and means
 * `<input prefix><caller's sub>/<id>`: the user part comes only from the verified token, and an id
 * is accepted only in exactly the shape this API makes, so no id can name another folder ("..",
 * "/", "%2F", another user's prefix) or another user's object.
 */
import { randomBytes } from 'node:crypto';
import { invalidInput } from '../common/errors';
import { UPLOAD_TYPES, type UploadContentType } from './contract';

/** The last millisecond the 48-bit field holds (the year 10889). */
export const LAST_MS = 2 ** 48 - 1;

/**
 * An upload's UUID, newest first: RFC 9562's version 8 (the layout is the maker's) with version 7's
 * fields, but the 48-bit millisecond field holds 2^48 - 1 less the Unix time, then random bits. Its
 * text sorts by creation time, latest first, so S3's listing (ascending key order) gives a user's
 * most recent uploads first and each next page goes back in time. Node's crypto makes only version
 * 4; these lines are the whole of this one.
 */
export function newestFirstUuid(now: number = Date.now(), random: Buffer = randomBytes(10)): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(LAST_MS - now, 0, 6);
  random.copy(bytes, 6, 0, 10);
  bytes[6] = 0x80 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const EXTENSIONS = Object.values(UPLOAD_TYPES).join('|');
/** Exactly what newUploadId makes: a lower-case newest-first (version 8) UUID, a dot, one of the upload extensions. */
export const UPLOAD_ID = new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\\.(?:${EXTENSIONS})$`);

/**
 * A token's subject as a key segment. Cognito's are UUIDs; any issuer's subject made of these
 * characters works, and anything else (a "/", "..", or empty) is refused rather than escaped.
 */
const SUBJECT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function newUploadId(contentType: UploadContentType, now?: number): string {
  return `${newestFirstUuid(now)}.${UPLOAD_TYPES[contentType]}`;
}

/** The caller's folder under the input (or result, output) prefix. */
export function userFolder(prefix: string, sub: string): string {
  if (!SUBJECT.test(sub)) throw new UnusableSubject(sub);
  return `${prefix}${sub}/`;
}

/** The input key an id from a request names for this caller; InvalidInput for anything that is not an id. */
export function inputKeyOf(inputPrefix: string, sub: string, id: string): string {
  if (!UPLOAD_ID.test(id)) throw invalidInput(`${JSON.stringify(id.slice(0, 80))} is not an upload id (a UUID and an extension, as POST /uploads returns)`);
  return `${userFolder(inputPrefix, sub)}${id}`;
}

/** A token whose subject cannot be a key segment: refused as unauthorized, never mapped to a folder. */
export class UnusableSubject extends Error {
  constructor(sub: string) {
    super(`the token's subject cannot name a folder: ${JSON.stringify(sub.slice(0, 40))}`);
    this.name = 'UnusableSubject';
  }
}
