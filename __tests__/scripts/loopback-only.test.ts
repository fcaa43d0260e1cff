/**
 * The suite runs where nothing but loopback exists (scripts/loopback-only.sh, as root): a test that
 * tried a hostile or public address would get a refused connection, not send a packet.
 */
import * as os from 'node:os';
import * as net from 'node:net';

const root = process.getuid?.() === 0;

(root ? test : test.skip)('as root, the tests run in a namespace whose only interface is loopback', async () => {
  expect(process.env.FACE_TEST_NETNS).toBe('loopback-only');
  expect(Object.keys(os.networkInterfaces())).toEqual(['lo']);
  // A connection to a public address fails at once: there is no route.
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
    const socket = net.connect({ host: '192.0.2.1', port: 80 });
    socket.once('error', resolve);
    socket.once('connect', () => resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' })));
  });
  expect(error.code).toBe('ENETUNREACH');
});
