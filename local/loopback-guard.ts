/**
 * Local servers answer only requests meant for loopback. A Host header with any other name is
 * refused (a public name rebound to 127.0.0.1 would otherwise let a web page read the local page
 * and API), and so is a state-changing request from another origin (cross-site requests), or from
 * an opaque one (`Origin: null`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** localhost, 127.x.x.x or [::1], with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.toLowerCase().replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export interface GuardOptions {
  /** Whether the Origin is checked (a state-changing request). @default false */
  readonly checkOrigin?: boolean;
  /** Origins besides the server's own that may make such requests (the local web app's page, on the S3 server). @default [] */
  readonly allowedOrigins?: readonly string[];
}

/** Refuses (and answers) a request whose Host is not loopback, or whose Origin is another site. Returns true when refused. */
export function refuseForeign(req: IncomingMessage, res: ServerResponse, options: GuardOptions = {}): boolean {
  if (!isLoopbackHost(req.headers.host)) {
    res.writeHead(421, { 'content-type': 'text/plain' }).end('this local server answers only requests for localhost / 127.0.0.1\n');
    return true;
  }
  const origin = req.headers.origin;
  // `Origin: null` is refused too: a sandboxed iframe on any site sends it.
  if (options.checkOrigin && origin && !options.allowedOrigins?.includes(origin)) {
    let sameSite: boolean;
    try {
      const o = new URL(origin);
      sameSite = isLoopbackHost(o.host) && o.host.replace(/^[^:]+/, '') === String(req.headers.host).replace(/^[^:]+/, '');
    } catch {
      sameSite = false;
    }
    if (!sameSite) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('cross-origin requests are refused\n');
      return true;
    }
  }
  return false;
}
