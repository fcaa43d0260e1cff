/**
 * A local stack whose start fails part way (a port another program holds) leaves nothing behind:
 * the servers it had started are closed and the function bundles it had unpacked are removed.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { listenOnLoopback } from '../../local/listen';
import { serve } from '../../local/serve';
import { tempDir } from '../helpers/temp';

jest.setTimeout(120_000);

const close = (server: net.Server) => new Promise((resolve) => server.close(resolve));

/** A port free now (taken and released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listenOnLoopback(server, 0);
  await close(server);
  return port;
}

test('the files port taken: serve rejects naming it, its S3 server and its own port are free again, no bundle folder is left', async () => {
  const holder = net.createServer();
  const taken = await listenOnLoopback(holder, 0);
  // The page server's and S3's ports, free now: both must be free again after the failure.
  const port = await freePort();
  const s3Port = await freePort();
  const tmp = tempDir('start-fails');
  const tmpBefore = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    await expect(serve({ port, s3Port, filesPort: taken, dataDir: tempDir('s3', { memory: true }), log: () => undefined })).rejects.toMatchObject({ name: 'PortInUseError', port: taken });
    expect(fs.readdirSync(tmp).filter((name) => name.startsWith('local-'))).toEqual([]);
    for (const free of [port, s3Port]) {
      const again = net.createServer();
      expect(await listenOnLoopback(again, free)).toBe(free);
      await close(again);
    }
  } finally {
    if (tmpBefore === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpBefore;
    await close(holder);
  }
});
