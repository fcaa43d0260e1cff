/** What `npm run serve` checks before and while it starts: its settings, and ports another program holds. */
import * as net from 'node:net';
import { listenOnLoopback, PortInUseError } from '../../local/listen';
import { localSchedules, portSettings, startFailure } from '../../local/serve';

const close = (server: net.Server) => new Promise((resolve) => server.close(resolve));

test('listenOnLoopback resolves with the port it took (0: a free one), and a taken port rejects with PortInUseError naming it', async () => {
  const first = net.createServer();
  const port = await listenOnLoopback(first, 0);
  expect(port).toBeGreaterThan(0);
  expect(first.address()).toMatchObject({ address: '127.0.0.1', port });
  const second = net.createServer();
  const taken = listenOnLoopback(second, port);
  await expect(taken).rejects.toThrow(PortInUseError);
  await expect(taken).rejects.toMatchObject({ port, message: expect.stringContaining(`127.0.0.1:${port} is in use`) });
  await close(first);
  // Once released, the same server object listens there.
  expect(await listenOnLoopback(second, port)).toBe(port);
  await close(second);
});

test("serve's port settings: the defaults, a whole number from 0 to 65535, anything else refused by name", () => {
  expect(portSettings({})).toEqual({ FACE_LOCAL_PORT: 9001, FACE_LOCAL_S3_PORT: 4569, FACE_LOCAL_FILES_PORT: 9002 });
  expect(portSettings({ FACE_LOCAL_PORT: ' 0 ', FACE_LOCAL_S3_PORT: '65535', FACE_LOCAL_FILES_PORT: '' })).toEqual({ FACE_LOCAL_PORT: 0, FACE_LOCAL_S3_PORT: 65535, FACE_LOCAL_FILES_PORT: 9002 });
  expect(() => portSettings({ FACE_LOCAL_S3_PORT: '9001' })).toThrow('FACE_LOCAL_PORT and FACE_LOCAL_S3_PORT are both 9001: each local server needs its own port');
  expect(portSettings({ FACE_LOCAL_PORT: '0', FACE_LOCAL_S3_PORT: '0', FACE_LOCAL_FILES_PORT: '0' })).toEqual({ FACE_LOCAL_PORT: 0, FACE_LOCAL_S3_PORT: 0, FACE_LOCAL_FILES_PORT: 0 });
  for (const bad of ['abc', '65536', '-1', '90.5', '0x10', '1e3']) {
    expect(() => portSettings({ FACE_LOCAL_S3_PORT: bad })).toThrow(`FACE_LOCAL_S3_PORT=${bad}: expected a port`);
  }
});

test('a taken port at start names the setting that moves it; other failures keep their message', () => {
  const ports = portSettings({ FACE_LOCAL_FILES_PORT: '9100' });
  expect(startFailure(new PortInUseError(9100), ports)).toBe('127.0.0.1:9100 is in use (another npm run serve, or another program): stop it, or set FACE_LOCAL_FILES_PORT to another port (0 picks a free one)');
  expect(startFailure(new PortInUseError(4569), ports)).toContain('set FACE_LOCAL_S3_PORT');
  expect(startFailure(new PortInUseError(1234), ports)).toBe('127.0.0.1:1234 is in use (another npm run serve, or another program)');
  expect(startFailure(new Error('layer/dist/x.zip not found'), ports)).toBe('layer/dist/x.zip not found');
});

test("serve's local cleanup rate and upload visibility: checked, not silently off or immediate", () => {
  expect(localSchedules({})).toEqual({ cleanupRate: undefined, visibilityTimeoutMs: undefined });
  expect(localSchedules({ FACE_LOCAL_CLEANUP_RATE: 'rate(5 minutes)', FACE_LOCAL_UPLOAD_VISIBILITY_SECONDS: '2.5' })).toEqual({ cleanupRate: 'rate(5 minutes)', visibilityTimeoutMs: 2500 });
  expect(localSchedules({ FACE_LOCAL_CLEANUP_RATE: 'cron(0 * * * ? *)' }).cleanupRate).toBe('cron(0 * * * ? *)');
  for (const rate of ['5 minutes', 'rate(0 minutes)', 'rate(5 minute)x']) expect(() => localSchedules({ FACE_LOCAL_CLEANUP_RATE: rate })).toThrow(`FACE_LOCAL_CLEANUP_RATE=${rate}: expected rate(`);
  for (const seconds of ['abc', '0', '-1', '5s']) expect(() => localSchedules({ FACE_LOCAL_UPLOAD_VISIBILITY_SECONDS: seconds })).toThrow(`FACE_LOCAL_UPLOAD_VISIBILITY_SECONDS=${seconds}: expected seconds`);
});
