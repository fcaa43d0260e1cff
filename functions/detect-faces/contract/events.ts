/** Uploads: the result records detect-faces writes for them (the SQS and S3 events are @types/aws-lambda's). */
import type { DetectError, DetectRequestOptions, DetectResult } from './request';

/** An S3 object as an upload names it: the key (decoded), the ETag of the version that was uploaded, and the event's sequencer (S3's order of events on one key). */
export interface UploadSource {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  /** Absent in events that carry none (then the version is ordered before any that does). */
  readonly sequencer?: string;
}

/**
 * `results/<path>.json` of a processed upload: the direct invocation's result, with the key of the
 * redacted image (`outputs/<path>`, kept as long as the record) in place of a URL that would expire
 * before the record does (sign one on read, or read the object with the bucket's credentials), the
 * options applied (deployment defaults and the upload's metadata), and where it came from.
 */
export interface UploadResultRecord extends Omit<DetectResult, 'outputUrl'> {
  outputKey: string;
  options: DetectRequestOptions;
  source: UploadSource;
}

/** `results/<path>.json` of an upload refused with a typed error (not retried); no output is kept for it. */
export interface UploadErrorRecord extends DetectError {
  source: UploadSource;
}
