/** A loopback HTTP server serving the labelled images and every kind of bad answer a URL can give. */
import { EventEmitter, once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { FACES_DIR } from './paths';

export { FACES_DIR };
export { readLabels, type LabelledImage } from '../../bench/labelled-photos';

export interface ImageServer {
  origin: string;
  /** Bytes the endless-body routes have managed to send so far. */
  endlessBytes(): number;
  /** Resolves when the server receives its next request for `pathname` (call it before the request). */
  requested(pathname: string): Promise<void>;
  /** Resolves once `count` more endless-body responses have been closed by their clients. */
  endlessClosed(count: number): Promise<void>;
  url(pathname: string): string;
  close(): Promise<void>;
}

/** A PNG header claiming `width` x `height`, with nothing behind it: a decompression bomb's shape. */
export function pngBomb(width: number, height: number): Buffer {
  const png = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
  png.writeUInt32BE(13, 8);
  png.write('IHDR', 12, 'latin1');
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.write('IEND', 50, 'latin1');
  return png;
}

/** `jpeg` with an EXIF APP1 segment saying "rotate 90 degrees clockwise to display" (orientation 6). */
export function withExifOrientation6(jpeg: Buffer): Buffer {
  const tiff = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

export async function startImageServer(): Promise<ImageServer> {
  let endlessBytes = 0;
  let endlessClosed = 0;
  // Tests wait on these events instead of sleeping.
  const events = new EventEmitter();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    events.emit('request', p);
    if (p.startsWith('/faces/')) {
      const file = path.join(FACES_DIR, path.basename(p));
      if (!fs.existsSync(file)) return void res.writeHead(404).end();
      // A lying Content-Type: the function must sniff the bytes.
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(fs.readFileSync(file));
    }
    switch (p) {
      case '/truncated.jpg':
        return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')).subarray(0, 20_000));
      case '/exif-rotated.jpg':
        return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(withExifOrientation6(fs.readFileSync(path.join(FACES_DIR, '2008_001009.jpg'))));
      case '/empty.jpg':
        return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end();
      case '/page.html':
        return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end('<!doctype html><html><body>Not an image</body></html>');
      case '/huge.jpg': {
        // 12 MB, chunked (no Content-Length): the limit must hold while streaming.
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        const chunk = Buffer.alloc(1024 * 1024, 0xff);
        let sent = 0;
        const pump = () => {
          while (sent < 12 && res.write(chunk)) sent++;
          if (sent >= 12) return void res.end();
          res.once('drain', () => {
            sent++;
            pump();
          });
        };
        res.on('error', () => undefined);
        return pump();
      }
      case '/declared-huge.jpg':
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(50 * 1024 * 1024) });
        return void res.write(Buffer.alloc(10));
      case '/bomb.png':
        return void res.writeHead(200, { 'content-type': 'image/png' }).end(pngBomb(20_000, 20_000));
      case '/redirect-private':
        return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      case '/redirect-private-ip6':
        return void res.writeHead(302, { location: 'http://[::ffff:10.0.0.1]/x.jpg' }).end();
      case '/redirect-ok':
        return void res.writeHead(301, { location: '/faces/grace_hopper_512x512.jpg' }).end();
      case '/redirect-endless-body':
      case '/error-endless-body': {
        // A redirect or an error whose body never ends: must not be read.
        const redirect = p === '/redirect-endless-body';
        res.writeHead(redirect ? 302 : 500, redirect ? { location: '/faces/grace_hopper_512x512.jpg' } : {});
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = () => {
          while (!res.destroyed) {
            endlessBytes += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
        };
        res.on('error', () => undefined);
        res.on('close', () => events.emit('endless-closed', ++endlessClosed));
        return pump();
      }
      case '/redirect-loop':
        return void res.writeHead(302, { location: '/redirect-loop' }).end();
      case '/slow.jpg': {
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        res.write(Buffer.from([0xff, 0xd8, 0xff]));
        const timer = setInterval(() => res.write(Buffer.alloc(16)), 200);
        res.on('close', () => clearInterval(timer));
        return;
      }
      default:
        return void res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>404</h1>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    endlessBytes: () => endlessBytes,
    requested: async (pathname) => {
      while ((await once(events, 'request'))[0] !== pathname);
    },
    endlessClosed: async (count) => {
      const target = endlessClosed + count;
      while (endlessClosed < target) await once(events, 'endless-closed');
    },
    url: (pathname) => `${origin}${pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

