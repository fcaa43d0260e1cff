/**
 * Typed errors with stable codes. Callers branch on `code`; `message` says what to do about it.
 * Everything thrown by the pipeline is one of these or becomes `Internal` at the edge.
 */
import type { ErrorCode } from './contract';

export type { ErrorCode };

export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    // The Lambda runtime answers a thrown error as { errorType: name, errorMessage: message }.
    super(message, options);
    this.name = code;
  }
}

export const invalidInput = (message: string) => new ServiceError('InvalidInput', message);
export const urlNotAllowed = (message: string) => new ServiceError('UrlNotAllowed', message);
export const downloadFailed = (message: string, cause?: unknown) => new ServiceError('DownloadFailed', message, { cause });
export const tooLarge = (message: string) => new ServiceError('TooLarge', message);
export const unsupportedImage = (message: string, cause?: unknown) => new ServiceError('UnsupportedImage', message, { cause });
export const storageFailed = (message: string, cause?: unknown) => new ServiceError('StorageFailed', message, { cause });
export const configurationError = (message: string) => new ServiceError('ConfigurationError', message);

/**
 * Work that ends with neither a result nor a failure: an upload `gone` (deleted before it was
 * read) or `superseded` (a newer version of its key is there; that version's own event covers
 * it). Entries log it with its own outcome; it is never counted as a failure, never retried.
 */
export class Settled extends Error {
  constructor(
    readonly outcome: 'gone' | 'superseded',
    message: string,
  ) {
    super(message);
    this.name = 'Settled';
  }
}

/** Any thrown value as a ServiceError: unknown failures are `Internal`, without leaking details. */
export function asServiceError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  return new ServiceError('Internal', 'internal error; see the function logs for the request id', { cause: err });
}
