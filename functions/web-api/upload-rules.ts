/**
 * What this API takes from the upload path (docs/uploads.md), in one place: where a key's result
 * record and redacted output are (functions/detect-faces/uploads/keys.ts, the one key rule), and
 * how per-upload options travel as S3 user metadata named like the CLI flags (`min-face-size`,
 * `mark`, ...), checked here by the same parser that reads them back from the metadata.
 */
import { invalidInput } from '../common/errors';
import { DETECT_REQUEST, type MarkMode } from '../detect-faces/contract';
import { JSON_EVENT, kebabCase, parseOptions, refuseShapeWithBox } from '../detect-faces/request';
import { outputKey, resultKey, type UploadPrefixes } from '../detect-faces/uploads/keys';

export type { UploadPrefixes };

/** `inputs/a/b.jpg` -> `results/a/b.jpg.json`. */
export const resultKeyOf = (inputKey: string, p: UploadPrefixes) => resultKey(inputKey, p);

/** `inputs/a/b.jpg` -> `outputs/a/b.jpg`; a non-JPEG input gets `.jpg` appended (`outputs/a/b.png.jpg`). */
export const outputKeyOf = (inputKey: string, p: UploadPrefixes) => outputKey(inputKey, p);

/** minFaceSize -> min-face-size: the CLI flag's and the metadata's name. */
export const metadataName = kebabCase;

/** The request's JSON as a direct call types it, but an absent option stays absent: the deployment's upload defaults apply. */
const OPTIONS = { ...JSON_EVENT, defaults: false, what: 'options.' };

/**
 * A request's options as an upload's user metadata, each checked against the request contract
 * first (a bad value is refused here, before anything is uploaded, naming the field and its range).
 */
export function optionsToMetadata(options: unknown, uploadMark?: MarkMode): Record<string, string> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw invalidInput('options must be an object such as {"mark": "fill"}');
  const known = Object.keys(DETECT_REQUEST);
  const unknown = Object.keys(options).filter((name) => !known.includes(name));
  if (unknown.length) throw invalidInput(`unknown option ${unknown.join(', ')}; the options are ${known.join(', ')}`);
  const parsed = parseOptions(options as Record<string, unknown>, OPTIONS);
  // Shape or padding with box would be refused once uploaded: refused now, with the mark the upload
  // will run with (its own, else the deployment's default).
  refuseShapeWithBox({ ...parsed, mark: parsed.mark ?? uploadMark ?? DETECT_REQUEST.mark.default });
  return Object.fromEntries(Object.entries(parsed).map(([name, value]) => [metadataName(name), String(value)]));
}
