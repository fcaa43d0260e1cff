/** The event detect-faces accepts: `{"imageUrl": "http(s)://..."}`, validated into a URL. */
import { invalidInput } from '../common/errors';

export interface DetectRequest {
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
  return { imageUrl: url };
}
