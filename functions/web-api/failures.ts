/** Errors as HTTP answers: one class with the status and the body's code, and the one mapping from the shared typed errors. */
import { asServiceError, type ErrorCode } from '../common/errors';
import type { ApiError } from './contract';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = code;
  }

  get body(): ApiError {
    return { code: this.code, message: this.message };
  }
}

const STATUS: Record<ErrorCode, number> = {
  InvalidInput: 400,
  UrlNotAllowed: 400,
  UnsupportedImage: 415,
  TooLarge: 413,
  DownloadFailed: 502,
  StorageFailed: 503,
  ConfigurationError: 500,
  Internal: 500,
};

/** Any thrown value as an answer: unknown failures are 500 Internal without details (they are logged). */
export function asApiFailure(err: unknown): ApiFailure {
  if (err instanceof ApiFailure) return err;
  const e = asServiceError(err);
  return new ApiFailure(STATUS[e.code], e.code, e.message, e.cause ?? err);
}
