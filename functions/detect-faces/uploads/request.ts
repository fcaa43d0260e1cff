/**
 * An upload's request: the deployment's defaults for uploads (UPLOAD_* settings), overridden per
 * upload by S3 user metadata named like the CLI's flags, parsed by the same parser as a direct
 * call's options (request.ts):
 *   aws s3 cp photo.jpg s3://<bucket>/inputs/x.jpg --metadata mark=fill,padding=0.5,min-face-size=24
 * An invalid value is InvalidInput naming the metadata field and its range (a refused record).
 */
import type { DetectRequestOptions } from '../contract';
import { parseOptions, S3_METADATA } from '../request';

export { kebabCase as metadataName } from '../request';

/**
 * The options an upload runs with. A deployment default for `shape` or `padding` applies only
 * when the upload is redacted: an upload asking `mark=box` on a deployment whose default is `fill`
 * with padding 0.5 gets boxes, not a refusal. Shape or padding the upload itself names with `box`
 * is still refused (as in a direct call).
 */
export function uploadRequest(metadata: Readonly<Record<string, string>>, defaults: DetectRequestOptions): DetectRequestOptions {
  // S3 returns user metadata keys lower-case; other tools may send any case.
  const fields = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
  const own = parseOptions(fields, S3_METADATA);
  const merged: DetectRequestOptions = { ...defaults, ...own };
  if ((merged.mark ?? 'box') === 'box') {
    if (own.shape === undefined) delete merged.shape;
    if (own.padding === undefined) delete merged.padding;
  }
  return merged;
}
