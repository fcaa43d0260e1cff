/** The local file server: registered files only, on loopback names only, and no request ends it. */
import * as http from 'node:http';
import { startFileServer } from '../../local/file-server';

/** A raw GET (the path sent as given, as a browser's `<img src>` on any page may send it). */
function get(origin: string, path: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${origin}${path}`, { headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.setEncoding('latin1').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

test('a registered file is served; a malformed escape, an unknown path and a foreign Host are refused, and the server goes on', async () => {
  const files = await startFileServer();
  try {
    const url = files.add(Buffer.from('jpeg bytes'), 'my photo (1).jpg');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f-]{36}\/my_photo__1_\.jpg$/);
    const path = new URL(url).pathname;
    expect(await get(files.origin, path)).toEqual({ status: 200, body: 'jpeg bytes' });
    // decodeURIComponent('%E0') throws: it ended the whole `npm run serve` process.
    expect(await get(files.origin, '/files/%E0')).toMatchObject({ status: 404 });
    expect(await get(files.origin, `${path}%E0`)).toMatchObject({ status: 404 });
    expect(await get(files.origin, '/files/other')).toMatchObject({ status: 404 });
    expect(await get(files.origin, path, 'rebound.example:80')).toMatchObject({ status: 421 });
    expect(await get(files.origin, `${path}?x=1`)).toEqual({ status: 200, body: 'jpeg bytes' });
  } finally {
    await files.close();
  }
});
