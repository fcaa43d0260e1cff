/**
 * Serves chosen local files on loopback, so the real download path (HTTP, limits, sniffing) is
 * used for local images too. Only the files registered here are served, under random names.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { listenOnLoopback } from './listen';
import { refuseForeign } from './loopback-guard';

export interface LocalFileServer {
  readonly origin: string;
  /** Makes `data` fetchable and returns its URL. */
  add(data: Buffer, name?: string): string;
  close(): Promise<void>;
}

/** Dropped files kept at once; the oldest goes first (they are only needed until detection ran). */
const MAX_FILES = 50;

export async function startFileServer(port = 0): Promise<LocalFileServer> {
  const files = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    if (refuseForeign(req, res)) return;
    // Paths are looked up as sent: add() makes them of URL-safe characters only (a decode could
    // throw, on `%E0`, and end the process).
    const body = files.get((req.url ?? '').split('?')[0]);
    if (req.method !== 'GET' || !body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  const origin = `http://127.0.0.1:${await listenOnLoopback(server, port)}`;
  return {
    origin,
    add(data, name = 'image') {
      const path = `/files/${randomUUID()}/${encodeURIComponent(name.replace(/[^A-Za-z0-9._-]/g, '_'))}`;
      files.set(path, data);
      if (files.size > MAX_FILES) files.delete(files.keys().next().value!);
      return `${origin}${path}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
