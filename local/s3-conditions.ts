/**
 * S3's conditional requests, which s3rver lacks: `If-Match` on GetObject/HeadObject/PutObject/
 * DeleteObject and `If-None-Match: *` on PutObject answer 412 PreconditionFailed when they fail
 * (a PutObject with `If-Match` on a missing key: 404), as S3 does. Writes to one key (PUT and
 * DELETE, conditional or not) run one at a time, from the check to the end of the response, so a
 * check and its write are one step as on S3. The uploads' version order (functions/detect-faces/
 * uploads/s3-store.ts) depends on this locally.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The object a path-style request names, or undefined (bucket requests, multipart and sub-resources pass through). */
export function objectOf(req: Pick<IncomingMessage, 'url' | 'method'>): { bucket: string; key: string } | undefined {
  if (!['GET', 'HEAD', 'PUT', 'DELETE'].includes(req.method ?? '')) return undefined;
  const url = new URL(req.url ?? '/', 'http://local');
  // The SDK adds ?x-id=<Command>; any other parameter is a sub-resource or a multipart step.
  if ([...url.searchParams.keys()].some((k) => k !== 'x-id')) return undefined;
  const [, bucket, ...rest] = url.pathname.split('/');
  if (!bucket || !rest.length || !rest.join('/')) return undefined;
  try {
    return { bucket, key: decodeURIComponent(rest.join('/')) };
  } catch {
    return undefined;
  }
}

/** What a conditional request gets, given the object's current ETag (quoted; undefined when missing). */
export function conditionOutcome(method: string, headers: { ifMatch?: string; ifNoneMatch?: string }, current: string | undefined): 'proceed' | 'precondition-failed' | 'no-such-key' {
  const { ifMatch, ifNoneMatch } = headers;
  if (ifMatch !== undefined) {
    if (current === undefined) return method === 'PUT' || method === 'DELETE' ? 'no-such-key' : 'proceed';
    const wanted = ifMatch.split(',').map((t) => t.trim());
    if (!wanted.includes('*') && !wanted.includes(current)) return 'precondition-failed';
  }
  if (method === 'PUT' && ifNoneMatch === '*' && current !== undefined) return 'precondition-failed';
  return 'proceed';
}

const xmlError = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;

/**
 * Wraps s3rver's handler: `etagOf` reads an object's current ETag (quoted) or undefined. Requests
 * without conditions pass through unchanged, writes in per-key order.
 */
export function withConditions(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  etagOf: (bucket: string, key: string) => Promise<string | undefined>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const tails = new Map<string, Promise<void>>();
  return (req, res) => {
    const target = objectOf(req);
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    const write = req.method === 'PUT' || req.method === 'DELETE';
    if (!target || (!write && ifMatch === undefined)) return handle(req, res);
    const id = `${target.bucket}/${target.key}`;
    const before = tails.get(id) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => done);
    tails.set(id, tail);
    res.once('close', () => {
      release();
      if (tails.get(id) === tail) tails.delete(id);
    });
    // The body waits in the request until s3rver reads it (nothing reads it before).
    void before.then(async () => {
      try {
        const outcome = ifMatch === undefined && ifNoneMatch === undefined ? 'proceed' : conditionOutcome(req.method!, { ifMatch, ifNoneMatch: write ? ifNoneMatch : undefined }, await etagOf(target.bucket, target.key));
        if (outcome !== 'proceed') {
          req.resume();
          const [status, code, message] = outcome === 'no-such-key' ? [404, 'NoSuchKey', 'The specified key does not exist.'] : [412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'];
          res.writeHead(status, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : xmlError(code, message));
          return;
        }
        // s3rver would apply If-None-Match to a read itself (304); on a write it is ours, answered above.
        if (write) delete req.headers['if-none-match'];
        delete req.headers['if-match'];
        handle(req, res);
      } catch (err) {
        req.resume();
        res.writeHead(500, { 'content-type': 'application/xml' }).end(xmlError('InternalError', (err as Error).message));
      }
    });
  };
}
