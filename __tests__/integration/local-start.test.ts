/**
 * A local stack whose start fails part way (a port another program holds) leaves nothing behind:
 * the servers it had started are closed and the function bundles it had unpacked are removed; nor
 * does `npm run serve` stopped by Ctrl-C, during its start or after it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
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

/** Bundle folders the local stack unpacked under `tmp`. */
const bundlesIn = (tmp: string) => fs.readdirSync(tmp).filter((name) => name.startsWith('local-'));

describe('npm run serve stopped by Ctrl-C (SIGINT to its process group, as a terminal sends it)', () => {
  async function serveThenCtrlC(when: 'during the start' | 'after the start'): Promise<{ output: string; left: string[] }> {
    const tmp = tempDir('serve-ctrl-c');
    // As `npm run serve` runs it: `node --import tsx`, no tsx CLI whose relay would SIGKILL it mid-close on a busy machine.
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '..', '..', 'local', 'serve.ts')], {
      env: { ...process.env, TMPDIR: tmp, FACE_LOCAL_PORT: '0', FACE_LOCAL_S3_PORT: '0', FACE_LOCAL_FILES_PORT: '0' },
      // As npm runs it: from the project's folder (its layer and its local/.data).
      cwd: path.resolve(__dirname, '..', '..'),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // During the start: once its bundles are unpacked. After it: once it prints its commands.
    const ready = () => (when === 'during the start' ? bundlesIn(tmp).length > 0 : output.includes('aws lambda invoke'));
    while (!ready()) {
      if (child.exitCode !== null) throw new Error(`serve ended before the signal: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(-child.pid!, 'SIGINT');
    await exited;
    // Its S3 server's child leaves the group last, as it closes: wait for the group to end.
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { output, left: bundlesIn(tmp) };
  }

  test('during the start: it stops, and leaves no bundle folder', async () => {
    // Its esbuild and S3 children, in the same group, may end first and fail the start: it stops
    // either way.
    const { left } = await serveThenCtrlC('during the start');
    expect(left).toEqual([]);
  });

  test('after the start: it closes the stack and leaves no bundle folder', async () => {
    // The exit code is tsx's, which the signal reaches too (0 or 130): what serve did is checked.
    const { output, left } = await serveThenCtrlC('after the start');
    expect(output).toContain('stopping...');
    expect(output).not.toContain('serve:');
    expect(left).toEqual([]);
  });
});
