/**
 * The guarded download against a loopback server, with DNS answers substituted: the address that
 * is checked is the one connected to, and any bad answer in a set refuses the whole host.
 */
import { download, type DownloadOptions } from '../../../../functions/detect-faces/fetch/download';
import { startImageServer, type ImageServer } from '../../../helpers/image-server';

let server: ImageServer;
let port: string;
beforeAll(async () => {
  server = await startImageServer();
  port = new URL(server.origin).port;
});
afterAll(() => server.close());

const dns = (answers: Record<string, string[]>) => async (host: string) =>
  (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

const base = (over: Partial<DownloadOptions> = {}): DownloadOptions => ({ maxBytes: 10 * 1024 * 1024, timeoutMs: 3000, ...over });

test('a host resolving to loopback is refused unless its origin is allowed', async () => {
  const url = new URL(`http://images.test:${port}/faces/grace_hopper_512x512.jpg`);
  const resolve = dns({ 'images.test': ['127.0.0.1'] });
  await expect(download(url, base({ resolve }))).rejects.toMatchObject({ code: 'UrlNotAllowed', message: expect.stringMatching(/images.test resolves to 127.0.0.1, which is not allowed: 127.0.0.1 is in a loopback range/) });
  const ok = await download(url, base({ resolve, allowedLoopbackPrefixes: [`http://images.test:${port}/`] }));
  expect(ok.data.length).toBeGreaterThan(80_000);
});

test('one private address among public ones refuses the host (DNS rebinding)', async () => {
  const resolve = dns({ 'rebind.test': ['93.184.215.14', '10.0.0.7'] });
  await expect(download(new URL('http://rebind.test/x.jpg'), base({ resolve }))).rejects.toMatchObject({ code: 'UrlNotAllowed', message: expect.stringMatching(/10\.0\.0\.7/) });
});

test('a host that resolves to nothing fails as a download error', async () => {
  await expect(download(new URL('http://nothing.test/x.jpg'), base({ resolve: dns({}) }))).rejects.toMatchObject({ code: 'DownloadFailed' });
});

test('the allowed origin is exact: another port on loopback stays refused', async () => {
  const url = new URL(`http://127.0.0.1:${Number(port) + 1}/x.jpg`);
  await expect(download(url, base({ allowedLoopbackPrefixes: [`${server.origin}/`] }))).rejects.toMatchObject({ code: 'UrlNotAllowed' });
});

test('redirects are checked hop by hop and counted', async () => {
  const allowed = base({ allowedLoopbackPrefixes: [`${server.origin}/`] });
  const ok = await download(new URL(server.url('/redirect-ok')), allowed);
  expect(ok.redirects).toBe(1);
  expect(ok.finalUrl.pathname).toBe('/faces/grace_hopper_512x512.jpg');
  await expect(download(new URL(server.url('/redirect-private')), allowed)).rejects.toMatchObject({ code: 'UrlNotAllowed' });
  await expect(download(new URL(server.url('/redirect-loop')), allowed)).rejects.toMatchObject({ code: 'DownloadFailed', message: 'more than 3 redirects' });
});

test('limits: bytes while streaming, the declared length, and one deadline', async () => {
  const allowed = { allowedLoopbackPrefixes: [`${server.origin}/`] };
  await expect(download(new URL(server.url('/huge.jpg')), base(allowed))).rejects.toMatchObject({ code: 'TooLarge' });
  await expect(download(new URL(server.url('/declared-huge.jpg')), base(allowed))).rejects.toMatchObject({ code: 'TooLarge' });
  // The deadline on a fake clock (sockets and I/O stay real): a body that trickles forever.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  try {
    const started = Date.now();
    const requested = server.requested('/slow.jpg');
    let settled = false;
    const pending = download(new URL(server.url('/slow.jpg')), base({ ...allowed, timeoutMs: 800 })).finally(() => (settled = true));
    pending.catch(() => undefined);
    await requested;
    jest.advanceTimersByTime(799);
    await new Promise(setImmediate);
    expect(settled).toBe(false);
    jest.advanceTimersByTime(1);
    await expect(pending).rejects.toMatchObject({ code: 'DownloadFailed', message: expect.stringMatching(/longer than 0.8 s/) });
    expect(Date.now() - started).toBeLessThan(3000);
  } finally {
    jest.useRealTimers();
  }
});

test('bodies of redirects and errors are not read: the connection is closed at once', async () => {
  const allowed = base({ allowedLoopbackPrefixes: [`${server.origin}/`], timeoutMs: 2000 });
  const closed = server.endlessClosed(2);
  const ok = await download(new URL(server.url('/redirect-endless-body')), allowed);
  expect(ok.finalUrl.pathname).toBe('/faces/grace_hopper_512x512.jpg');
  await expect(download(new URL(server.url('/error-endless-body')), allowed)).rejects.toMatchObject({ code: 'DownloadFailed', message: expect.stringMatching(/HTTP 500/) });
  // Both endless responses end only when the client closes them (their pump runs until then).
  await closed;
  const sent = server.endlessBytes();
  await new Promise(setImmediate);
  // Nothing more flows once the connections closed (only socket buffers' worth went out at all).
  expect(server.endlessBytes()).toBe(sent);
  expect(sent).toBeLessThan(16 * 1024 * 1024);
});

test('a loopback prefix allows only what is under it, whatever the path tricks', async () => {
  const allowed = base({ allowedLoopbackPrefixes: [`${server.origin}/faces/`] });
  expect((await download(new URL(server.url('/faces/grace_hopper_512x512.jpg')), allowed)).data.length).toBeGreaterThan(0);
  for (const p of ['/page.html', '/faces/../page.html', '/faces/%2e%2e/page.html', '/facesX/a.jpg', '/redirect-ok', '/faces/..%2Fpage.html', '/faces/..%2fpage.html', '/faces/..%5Cpage.html']) {
    await expect(download(new URL(server.url(p)), allowed)).rejects.toMatchObject({ code: 'UrlNotAllowed' });
  }
  // A prefix that does not end with "/" never matches (it could be a prefix of a sibling).
  await expect(download(new URL(server.url('/faces/grace_hopper_512x512.jpg')), base({ allowedLoopbackPrefixes: [`${server.origin}/faces`] }))).rejects.toMatchObject({ code: 'UrlNotAllowed' });
});

/**
 * Hostile URLs from the public SSRF bypass lists, end to end. Every answer and literal here is a
 * loopback form, so even a broken policy would only reach this host.
 */
describe('hostile SSRF lists through download()', () => {
  test.each([
    ['http://0x7f.1/x.jpg'],
    ['http://2130706433/x.jpg'],
    ['http://①②⑦.⓪.⓪.①/x.jpg'],
    ['http://127。0。0。1/x.jpg'],
    ['http://%31%32%37%2e%30%2e%30%2e%31/x.jpg'],
    ['http://[::ffff:7f00:1]/x.jpg'],
    ['http://[0:0:0:0:0:ffff:127.0.0.1]/x.jpg'],
    ['http://0/x.jpg'],
    ['http://[::]/x.jpg'],
  ])('literal %s is refused before connecting', async (url) => {
    const resolve = jest.fn(dns({}));
    await expect(download(new URL(url), base({ resolve }))).rejects.toMatchObject({ code: 'UrlNotAllowed' });
    expect(resolve).not.toHaveBeenCalled();
  });

  test.each([
    ['http://localtest.me/x.jpg', ['127.0.0.1']],
    ['http://customer1.app.localhost.my.company.127.0.0.1.nip.io/x.jpg', ['127.0.0.1']],
    ['http://spoofed.burpcollaborator.net/x.jpg', ['::1']],
    ['http://bugbounty.dod.network/x.jpg', ['127.0.0.2']],
    ['http://metadata.google.internal/computeMetadata/v1/', ['::ffff:127.0.0.1']],
    // DNS rebinding (1u.ms): whichever answer this lookup gets, a bad one is refused
    ['http://make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms/x.jpg', ['127.0.0.1']],
  ])('%s resolving to %j is refused at lookup', async (url, answers) => {
    const resolve = dns({ [new URL(url).hostname]: answers });
    await expect(download(new URL(url), base({ resolve }))).rejects.toMatchObject({ code: 'UrlNotAllowed', message: expect.stringMatching(/resolves to/) });
  });

  test.each([
    ['http://1.1.1.1 &@2.2.2.2# @3.3.3.3/'],
    ['http://0x7f.0.0.1:80@evil.com/'],
    ['http://www.google.com@127.0.0.1/x.jpg'],
  ])('%s (credentials in the URL) is refused before any lookup', async (url) => {
    const resolve = jest.fn(dns({}));
    await expect(download(new URL(url), base({ resolve }))).rejects.toMatchObject({ code: 'UrlNotAllowed', message: expect.stringMatching(/credentials/) });
    expect(resolve).not.toHaveBeenCalled();
  });
});
