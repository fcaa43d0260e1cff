/**
 * The event detect-faces accepts: `{"imageUrl": "http(s)://...", ...options}`, validated into a URL
 * and the options its contract lists (each named in the error with its accepted range).
 */
import { invalidInput } from '../common/errors';
import { accepted, parseValue, type ValueSpec } from '../common/schema';
import { DETECT_REQUEST, type DetectRequestOptions } from './contract';

export interface DetectRequest extends DetectRequestOptions {
  readonly imageUrl: URL;
}

const MAX_URL_LENGTH = 2048;

export function parseRequest(event: unknown): DetectRequest {
  if (typeof event === 'string') {
    // Some clients send the payload as a JSON string.
    try {
      return parseRequest(JSON.parse(event));
    } catch {
      throw invalidInput('the payload must be a JSON object like {"imageUrl": "https://example.com/photo.jpg"}');
    }
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
  return { imageUrl: url, ...parseOptions(event as Record<string, unknown>) };
}

function parseOptions(event: Record<string, unknown>): DetectRequestOptions {
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(DETECT_REQUEST) as [string, ValueSpec][]) {
    const raw = event[name];
    const fail = (expected: string): never => {
      throw invalidInput(`${name} must be ${expected}, got ${JSON.stringify(raw)}`);
    };
    // JSON types as the contract says: "24" in a request is a client bug worth naming, unlike in an environment.
    // An empty string is not "unset" in a request as it is in an environment: {"shape": ""} is named.
    if (raw === '' || (raw !== undefined && raw !== null && typeof raw !== JSON_TYPE[spec.kind])) fail(accepted(spec));
    const value = parseValue(spec, raw, fail);
    if (value !== undefined) options[name] = value;
  }
  return options as DetectRequestOptions;
}

const JSON_TYPE: Record<ValueSpec['kind'], string> = { int: 'number', number: 'number', bool: 'boolean', enum: 'string', string: 'string' };
