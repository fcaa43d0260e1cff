/**
 * Fault mode of the local S3 (FACE_LOCAL_S3_FAULTS=0.2): that fraction of requests fails as S3
 * and networks fail, in four equal parts: 503 SlowDown, 500 InternalError, a reset connection,
 * or no answer until after the client's timeout (then a reset). Faults come before the request
 * reaches the store, so nothing is half-written. Only the functions' endpoint has them (the
 * local stack gives the functions a second port): uploads and checks by the user or a bench
 * see a healthy S3.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rng } from './rng';

export type FaultKind = 'slow-down' | 'internal-error' | 'reset' | 'timeout';
export const FAULT_KINDS: readonly FaultKind[] = ['slow-down', 'internal-error', 'reset', 'timeout'];

export interface FaultOptions {
  /** Fraction of requests that fail, 0 to 1. */
  readonly rate: number;
  /** How long a `timeout` fault holds the request before resetting it (past the client's timeout). */
  readonly holdMs: number;
  /** Draws the same faults in the same order of requests each run (mulberry32, local/rng.ts). @default unseeded (Math.random) */
  readonly seed?: number;
  /** Told of each fault (counts for the bench). */
  readonly onFault?: (kind: FaultKind, req: IncomingMessage) => void;
}

/** The fault, if any, for one request. */
export function pickFault(rate: number, random: () => number): FaultKind | undefined {
  const r = random();
  if (r >= rate) return undefined;
  return FAULT_KINDS[Math.min(FAULT_KINDS.length - 1, Math.floor((r / rate) * FAULT_KINDS.length))];
}

const xmlError = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;

export function withFaults(handle: (req: IncomingMessage, res: ServerResponse) => void, options: FaultOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const random = options.seed === undefined ? Math.random : rng(options.seed);
  return (req, res) => {
    const fault = pickFault(options.rate, random);
    if (!fault) return handle(req, res);
    options.onFault?.(fault, req);
    req.resume();
    switch (fault) {
      case 'slow-down':
        res.writeHead(503, { 'content-type': 'application/xml' }).end(xmlError('SlowDown', 'Please reduce your request rate.'));
        return;
      case 'internal-error':
        res.writeHead(500, { 'content-type': 'application/xml' }).end(xmlError('InternalError', 'We encountered an internal error. Please try again.'));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'timeout': {
        const timer = setTimeout(() => req.socket.destroy(), options.holdMs);
        req.socket.once('close', () => clearTimeout(timer));
        return;
      }
    }
  };
}
