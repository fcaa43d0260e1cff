/**
 * Where an upload's products go, as a rule of its key alone (the function, the stack's IAM, the
 * local stack and the web app all use this one):
 *   inputs/a/b.jpg  ->  outputs/a/b.jpg        the redacted image (a JPEG; other inputs get ".jpg"
 *                                              appended: inputs/a/b.png -> outputs/a/b.png.jpg)
 *                   ->  results/a/b.jpg.json   the result record (its `outputKey` names the image)
 * Dependency-free.
 */

/** The three prefixes of uploads (the DETECT_ENV / stack settings of the same names). */
export interface UploadPrefixes {
  readonly inputPrefix: string;
  readonly outputPrefix: string;
  readonly resultPrefix: string;
}

/** Keys the output keeps as they are: JPEG by their extension (any case). */
const JPEG_NAME = /\.jpe?g$/i;

/** Whether `key` is an upload: under the input prefix, not a folder marker. */
export function isUploadKey(key: string, prefixes: Pick<UploadPrefixes, 'inputPrefix'>): boolean {
  return key.startsWith(prefixes.inputPrefix) && key.length > prefixes.inputPrefix.length && !key.endsWith('/');
}

function pathOf(key: string, prefixes: Pick<UploadPrefixes, 'inputPrefix'>): string {
  if (!isUploadKey(key, prefixes)) throw new RangeError(`${JSON.stringify(key)} is not an upload under ${prefixes.inputPrefix}`);
  return key.slice(prefixes.inputPrefix.length);
}

/** `inputs/a/b.jpg` -> `outputs/a/b.jpg`; `inputs/a/b.png` -> `outputs/a/b.png.jpg`. */
export function outputKey(inputKey: string, prefixes: Pick<UploadPrefixes, 'inputPrefix' | 'outputPrefix'>): string {
  const path = pathOf(inputKey, prefixes);
  return `${prefixes.outputPrefix}${path}${JPEG_NAME.test(path) ? '' : '.jpg'}`;
}

/** `inputs/a/b.jpg` -> `results/a/b.jpg.json`. */
export function resultKey(inputKey: string, prefixes: Pick<UploadPrefixes, 'inputPrefix' | 'resultPrefix'>): string {
  return `${prefixes.resultPrefix}${pathOf(inputKey, prefixes)}.json`;
}
