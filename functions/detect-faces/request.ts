/**
 * The event detect-faces accepts: `{"imageUrl": "http(s)://...", ...options}`, validated into a URL
 * and the options its contract lists (each named in the error with its accepted range).
 */
import { invalidInput } from '../common/errors';
import { accepted, kebabCase, parseValue, type ValueSpec } from '../common/schema';
import { DETECT_REQUEST, type DetectRequestOptions } from './contract';

export interface DetectRequest extends DetectRequestOptions {
  readonly imageUrl: URL;
}

const MAX_URL_LENGTH = 2048;

export function parseRequest(event: unknown): DetectRequest {
  if (typeof event === 'string') {
    // Some clients send the payload as a JSON string: parsed, it meets the same checks (and errors) as an object.
    let parsed: unknown;
    try {
      parsed = JSON.parse(event);
    } catch {
      throw invalidInput('the payload must be a JSON object like {"imageUrl": "https://example.com/photo.jpg"}');
    }
    return parseRequest(parsed);
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw invalidInput('the payload must be a JSON object like {"imageUrl": "https://example.com/photo.jpg"}');
  }
  const raw = (event as Record<string, unknown>).imageUrl;
  if (raw === undefined || raw === null || raw === '') throw invalidInput('imageUrl is required: {"imageUrl": "https://example.com/photo.jpg"}');
  if (typeof raw !== 'string') throw invalidInput(`imageUrl must be a string, got ${Array.isArray(raw) ? 'array' : typeof raw}`);
  const text = raw.trim();
  if (text.length > MAX_URL_LENGTH) throw invalidInput(`imageUrl is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidInput('imageUrl is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidInput(`imageUrl must use http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username || url.password) throw invalidInput('imageUrl must not carry a user name or password');
  if (!url.hostname) throw invalidInput('imageUrl has no host');
  refuseUnknownFields(event as Record<string, unknown>);
  return { imageUrl: url, ...parseOptions(event as Record<string, unknown>, JSON_EVENT) };
}

const REQUEST_FIELDS = ['imageUrl', ...Object.keys(DETECT_REQUEST)];
/** A name's letters and digits in lower case: minFaceSize, min-face-size, min_face_size and minfacesize fold alike. */
export const foldName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The name of `names` that `given` was likely meant as: the same letters in another case or with
 * other separators, else one letter off (added, dropped, changed, or two neighbours swapped; two
 * for names of eight letters or more): `Mark`, `min_face_size`, `mrak`, `shpe`, `paddng`,
 * `minfacsize`. None when no name is that close.
 */
export function meantName(given: string, names: readonly string[]): string | undefined {
  const folded = foldName(given);
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const target = foldName(name);
    const allowed = target.length >= 8 ? 2 : 1;
    // Lengths further apart than the edits allowed never match: skipped before the table, whose
    // size is the product of the lengths (a megabyte-long name took seconds and gigabytes).
    if (Math.abs(folded.length - target.length) > allowed) continue;
    const distance = editDistance(folded, target);
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** How a message quotes what a caller sent: as JSON (Infinity as itself), cut to 80 characters. */
export function shown(value: unknown): string {
  const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Edits from a to b (a letter added, dropped or changed, two neighbours swapped: optimal string alignment), for meantName's short names. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** A field the contract does not know is refused, not ignored: `"Mark": "fill"` would otherwise leave every face unredacted. */
function refuseUnknownFields(event: Record<string, unknown>): void {
  const unknown = Object.keys(event).find((name) => !REQUEST_FIELDS.includes(name));
  if (unknown === undefined) return;
  const meant = meantName(unknown, REQUEST_FIELDS);
  throw invalidInput(`unknown field ${shown(unknown)}${meant ? ` (did you mean ${meant}?)` : ''}; a request has ${REQUEST_FIELDS.join(', ')}`);
}

/**
 * Where options come from, and how that source names and types them: a direct call's JSON event
 * (`minFaceSize: 24`, JSON types as the contract says) or an upload's S3 user metadata (`min-face-size:
 * "24"`, the CLI's flag names, every value text, absent fields left to the deployment's defaults).
 */
export interface OptionSource {
  /** The field's name in this source, for reading and for error messages. */
  readonly name: (field: keyof typeof DETECT_REQUEST) => string;
  /** JSON: "24" for a number is a client bug worth naming. Text: every value is a string. */
  readonly typed: boolean;
  /** Whether an absent field takes the contract's default (a direct call) or stays absent (an upload: the deployment's default applies). */
  readonly defaults: boolean;
  /** Prefix of error messages ("" or "metadata "). */
  readonly what: string;
}

export const JSON_EVENT: OptionSource = { name: (field) => field, typed: true, defaults: true, what: '' };

/** The redact CLI's flag names are the S3 user metadata's (minFaceSize -> min-face-size). */
export { kebabCase };

export const S3_METADATA: OptionSource = { name: kebabCase, typed: false, defaults: false, what: 'metadata ' };

/** The contract's request fields, read from `fields` as `source` names them; InvalidInput names the field and its accepted range. */
export function parseOptions(fields: Record<string, unknown>, source: OptionSource = JSON_EVENT): DetectRequestOptions {
  const options: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(DETECT_REQUEST) as [keyof typeof DETECT_REQUEST, ValueSpec][]) {
    const name = source.name(field);
    const raw = fields[name];
    if (!source.defaults && (raw === undefined || raw === null)) continue;
    const fail = (expected: string): never => {
      throw invalidInput(`${source.what}${name} must be ${expected}, got ${shown(raw)}`);
    };
    // JSON types as the contract says: "24" in a request is a client bug worth naming, unlike in an environment.
    // An empty string is not "unset" in a request as it is in an environment: {"shape": ""} is named.
    if (raw === '' || (source.typed && raw !== undefined && raw !== null && typeof raw !== JSON_TYPE[spec.kind])) fail(accepted(spec));
    if (!source.typed && typeof raw !== 'string') fail(accepted(spec));
    const value = parseValue(spec, typeof raw === 'string' && !source.typed ? raw.trim() : raw, fail);
    if (value !== undefined) options[field] = value;
  }
  return options as DetectRequestOptions;
}

const JSON_TYPE: Record<ValueSpec['kind'], string> = { int: 'number', number: 'number', bool: 'boolean', enum: 'string', string: 'string' };

/** Shape or padding with `mark` box is InvalidInput: they apply only to a redaction. */
export function refuseShapeWithBox(options: DetectRequestOptions): void {
  if (options.mark !== 'box' || (options.shape === undefined && options.padding === undefined)) return;
  const given = [options.shape !== undefined && 'shape', options.padding !== undefined && 'padding'].filter(Boolean);
  throw invalidInput(`${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} only to a redaction: set mark to fill, pixelate or blur (mark is box)`);
}
