/**
 * An upload's request: the deployment's defaults for uploads (UPLOAD_* settings), overridden per
 * upload by S3 user metadata named like the CLI's flags, parsed by the same parser as a direct
 * call's options (request.ts):
 *   aws s3 cp photo.jpg s3://<bucket>/inputs/x.jpg --metadata mark=fill,padding=0.5,min-face-size=24
 * An invalid value is InvalidInput naming the metadata field and its range (a refused record).
 */
import { invalidInput } from '../../common/errors';
import { DECIMAL } from '../../common/schema';
import { DETECT_REQUEST, type DetectRequestOptions } from '../contract';
import { foldName, kebabCase, meantName, parseOptions, S3_METADATA } from '../request';

export { kebabCase as metadataName } from '../request';

/** Each option's metadata name by its folded spelling. */
const OPTION_BY_FOLDED = new Map(Object.keys(DETECT_REQUEST).map((field) => [foldName(field), kebabCase(field)]));
const OPTION_NAMES = [...OPTION_BY_FOLDED.values()];

/** Two spellings' values agree: the same text, or the same decimal number (30 and 30.0, .5 and 0.5). */
const sameText = (a: string, b: string) => a.trim() === b.trim() || (DECIMAL.test(a.trim()) && DECIMAL.test(b.trim()) && Number(a) === Number(b));

/**
 * The options an upload runs with. A deployment default for `shape` or `padding` applies only
 * when the upload is redacted: an upload asking `mark=box` on a deployment whose default is `fill`
 * with padding 0.5 gets boxes, not a refusal. Shape or padding the upload itself names with `box`
 * is still refused (as in a direct call).
 */
export function uploadRequest(metadata: Readonly<Record<string, string>>, defaults: DetectRequestOptions): DetectRequestOptions {
  // S3 returns user metadata keys lower-case, so `minFaceSize=24` arrives as `minfacesize`: a key
  // names the option its letters spell (min-face-size, min_face_size, minfacesize), in any case.
  const fields: Record<string, string> = {};
  const givenAs: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    const name = OPTION_BY_FOLDED.get(foldName(key));
    if (name === undefined) {
      // Other tools' metadata (rclone's mtime, say) is ignored; a misspelt option is refused: its
      // upload would otherwise run with the deployment's default, unredacted where that is box.
      const meant = meantName(key, OPTION_NAMES);
      if (meant !== undefined) throw invalidInput(`metadata ${key} is not an option (did you mean ${meant}?); an upload's options are ${OPTION_NAMES.join(', ')}, other metadata is ignored`);
      continue;
    }
    if (givenAs[name] !== undefined && !sameText(fields[name], value)) throw invalidInput(`metadata ${givenAs[name]} and ${key} both set ${name}, to different values`);
    fields[name] = value;
    givenAs[name] = key;
  }
  // An output copied back under inputs/ (aws s3 cp and CopyObject keep metadata) says of itself
  // output=reencoded, the result's word: read as the request's reencode, what was done to it.
  if (fields.output?.trim() === 'reencoded') fields.output = 'reencode';
  const own = parseOptions(fields, S3_METADATA);
  const merged: DetectRequestOptions = { ...defaults, ...own };
  if ((merged.mark ?? 'box') === 'box') {
    if (own.shape === undefined) delete merged.shape;
    if (own.padding === undefined) delete merged.padding;
  }
  return merged;
}
