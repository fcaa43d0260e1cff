/**
 * What this API takes from the upload path (issue 21), in one place: where a key's result record
 * and redacted output are, and how per-upload options travel as S3 user metadata (named like the
 * CLI flags: `min-face-size`, `mark`, ...). The upload path owns these rules; this module is the
 * one to point at its code when it is on main.
 */
import { invalidInput } from '../common/errors';
import { accepted, parseValue, type ValueSpec } from '../common/schema';
import { DETECT_REQUEST, type DetectRequestOptions } from '../detect-faces/contract';

export interface UploadPrefixes {
  readonly inputPrefix: string;
  readonly resultPrefix: string;
  readonly outputPrefix: string;
}

/** `inputs/a/b.jpg` -> `results/a/b.jpg.json`. */
export function resultKeyOf(inputKey: string, p: UploadPrefixes): string {
  return `${p.resultPrefix}${relative(inputKey, p)}.json`;
}

/** `inputs/a/b.jpg` -> `outputs/a/b.jpg`; a non-JPEG input gets `.jpg` appended (`outputs/a/b.png.jpg`). */
export function outputKeyOf(inputKey: string, p: UploadPrefixes): string {
  const rest = relative(inputKey, p);
  return `${p.outputPrefix}${rest}${/\.jpe?g$/i.test(rest) ? '' : '.jpg'}`;
}

function relative(inputKey: string, p: UploadPrefixes): string {
  if (!inputKey.startsWith(p.inputPrefix)) throw new Error(`${inputKey} is not under ${p.inputPrefix}`);
  return inputKey.slice(p.inputPrefix.length);
}

/** minFaceSize -> min-face-size: the CLI flag's and the metadata's name. */
export const metadataName = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * A request's options as an upload's user metadata, each checked against the request contract
 * first (a bad value is refused here, before anything is uploaded, naming the field and its range).
 */
export function optionsToMetadata(options: unknown): Record<string, string> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw invalidInput('options must be an object such as {"mark": "fill"}');
  const given = options as Record<string, unknown>;
  const known = new Set(Object.keys(DETECT_REQUEST));
  const unknown = Object.keys(given).filter((name) => !known.has(name));
  if (unknown.length) throw invalidInput(`unknown option ${unknown.join(', ')}; the options are ${[...known].join(', ')}`);
  const metadata: Record<string, string> = {};
  for (const [name, spec] of Object.entries(DETECT_REQUEST) as [keyof DetectRequestOptions, ValueSpec][]) {
    const raw = given[name];
    if (raw === undefined || raw === null) continue;
    const fail = (expected: string): never => {
      throw invalidInput(`${name} must be ${expected}, got ${JSON.stringify(raw)}`);
    };
    // JSON types as the contract says, as a direct invocation checks them.
    if (raw === '' || typeof raw !== (spec.kind === 'enum' || spec.kind === 'string' ? 'string' : spec.kind === 'bool' ? 'boolean' : 'number')) fail(accepted(spec));
    const value = parseValue(spec, raw, fail);
    if (value !== undefined) metadata[metadataName(name)] = String(value);
  }
  return metadata;
}
