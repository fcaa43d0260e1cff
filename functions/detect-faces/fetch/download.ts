/**
 * Downloads an image from an arbitrary URL without becoming an SSRF proxy:
 * - http and https only, no credentials in URLs;
 * - every address a host resolves to is judged (address-policy.ts) inside the socket's DNS lookup
 *   hook, and the socket connects to the address that was judged (no second lookup); literal IPs
 *   are judged before connecting;
 * - at most `maxRedirects` redirects, each hop checked the same way;
 * - one deadline for the whole download, and a byte limit enforced while streaming.
 */
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { downloadFailed, ServiceError, tooLarge, urlNotAllowed } from '../../common/errors';
import { isLoopback, judgeAddress } from './address-policy';

export interface DownloadOptions {
  /** Largest body accepted. */
  readonly maxBytes: number;
  /** Deadline for the whole download, redirects included. */
  readonly timeoutMs: number;
  /** @default 3 */
  readonly maxRedirects?: number;
  /**
   * URL prefixes (`http://127.0.0.1:4569/my-bucket/`, ending with "/") under which a loopback
   * address may be fetched. Empty in the deployed stack; only tests and the local server set it,
   * for their own servers' paths.
   */
  readonly allowedLoopbackPrefixes?: readonly string[];
  /** DNS resolution (tests substitute it). @default dns.lookup */
  readonly resolve?: (hostname: string) => Promise<{ address: string; family: number }[]>;
}

export interface Downloaded {
  readonly data: Buffer;
  readonly finalUrl: URL;
  readonly redirects: number;
}

const defaultResolve = (hostname: string) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** Refuses an address unless it is public, or loopback of an explicitly allowed origin. */
function checkAddress(address: string, url: URL, options: DownloadOptions): void {
  const verdict = judgeAddress(address);
  if (verdict.allowed) return;
  // url.href is normalised by the URL parser (dot segments resolved); an escaped / or \ it keeps,
  // and a server that decodes it (s3rver, into a file path) would read `..%2F` as a way out.
  if (isLoopback(address) && !/%(2f|5c)/i.test(url.pathname) && options.allowedLoopbackPrefixes?.some((prefix) => prefix.endsWith('/') && url.href.startsWith(prefix))) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const where = host === address ? '' : `${host} resolves to ${address}, which is not allowed: `;
  throw urlNotAllowed(`${where}${verdict.reason}; only public addresses may be fetched`);
}

function guardedLookup(url: URL, options: DownloadOptions): LookupFunction {
  const resolve = options.resolve ?? defaultResolve;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname)
      .then((answers) => {
        if (answers.length === 0) throw downloadFailed(`${hostname} did not resolve to any address`);
        // Every answer must pass: a mixed answer is how DNS rebinding slips a private address in.
        for (const a of answers) checkAddress(a.address, url, options);
        if (lookupOptions.all) callback(null, answers);
        else callback(null, answers[0].address, answers[0].family);
      })
      .catch((err: unknown) => {
        const error = err instanceof ServiceError ? err : downloadFailed(`cannot resolve ${hostname}: ${(err as Error).message}`, err);
        callback(error as NodeJS.ErrnoException, '', 0);
      });
  };
}

function checkUrl(url: URL, options: DownloadOptions): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw urlNotAllowed(`only http and https URLs may be fetched, not ${url.protocol}`);
  if (url.username || url.password) throw urlNotAllowed('URLs with credentials are not fetched');
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal)) checkAddress(literal, url, options);
}

export async function download(start: URL, options: DownloadOptions): Promise<Downloaded> {
  const maxRedirects = options.maxRedirects ?? 3;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    let url = start;
    for (let redirects = 0; ; redirects++) {
      checkUrl(url, options);
      const response = await fetchOnce(url, options, controller.signal);
      if (response.redirect) {
        if (redirects >= maxRedirects) throw downloadFailed(`more than ${maxRedirects} redirects`);
        try {
          url = new URL(response.redirect, url);
        } catch {
          throw downloadFailed(`the server redirected to an invalid URL`);
        }
        continue;
      }
      return { data: response.body!, finalUrl: url, redirects };
    }
  } catch (err) {
    if (controller.signal.aborted) throw downloadFailed(`the download took longer than ${options.timeoutMs / 1000} s`);
    throw err;
  } finally {
    clearTimeout(timer);
    // Ends whatever is still open (a response being drained, a socket being set up).
    controller.abort();
  }
}

function fetchOnce(url: URL, options: DownloadOptions, signal: AbortSignal): Promise<{ redirect?: string; body?: Buffer }> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { 'user-agent': 'face-detection/1.0', accept: 'image/jpeg,image/png,image/webp,image/*;q=0.8' },
        lookup: guardedLookup(url, options),
        agent: false,
        signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        // Bodies of redirects and errors are never read: the socket is closed instead, so a
        // server cannot stream past the deadline or the byte limit through them.
        if (status >= 300 && status < 400 && res.headers.location) {
          resolve({ redirect: res.headers.location });
          return void res.destroy();
        }
        if (status !== 200) {
          reject(downloadFailed(`the image server answered HTTP ${status}${status === 404 ? ' (not found)' : ''}`));
          return void res.destroy();
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > options.maxBytes) {
          // Reject before destroying: destroying emits 'aborted', which would report a broken download.
          reject(tooLarge(`the image is ${declared} bytes; the limit is ${options.maxBytes}`));
          return void res.destroy();
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > options.maxBytes) {
            reject(tooLarge(`the image is larger than the limit of ${options.maxBytes} bytes`));
            return void res.destroy();
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ body: Buffer.concat(chunks, total) }));
        res.on('error', (err) => reject(signal.aborted ? err : downloadFailed(`the download broke off: ${err.message}`, err)));
        res.on('aborted', () => reject(downloadFailed('the server closed the connection mid-download')));
      },
    );
    req.on('error', (err) => reject(err instanceof ServiceError ? err : downloadFailed(`cannot download the image: ${err.message}`, err)));
    req.end();
  });
}
