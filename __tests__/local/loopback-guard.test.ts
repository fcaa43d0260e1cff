/**
 * The local servers' Host and Origin guard, without a server: which Host names count as loopback,
 * and what refuseForeign answers (421 for a foreign Host, 403 for another site's Origin on a
 * state-changing request) or lets through. The servers themselves: integration/local-aws.test.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopbackHost, refuseForeign } from '../../local/loopback-guard';

describe('isLoopbackHost', () => {
  test.each(['localhost', 'LOCALHOST', 'localhost:8080', '127.0.0.1', '127.0.0.1:4569', '127.255.255.254:1', '127.1.2.3', '[::1]', '[::1]:3000'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  test.each([
    undefined,
    '',
    'example.com',
    'localhost.attacker.example',
    'attacker.example:80',
    '127.0.0.1.nip.io',
    '127.0.0.1:80:80',
    '128.0.0.1',
    '0.0.0.0',
    '10.0.0.1',
    '::1',
    '[::2]',
    '[::ffff:127.0.0.1]',
    '1270.0.0.1',
    '127.0.0',
    ' localhost',
    'localhost:',
    'localhost:port',
  ])('%p is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('refuseForeign', () => {
  /** A request with these headers, and a response that records what was answered. */
  function exchange(headers: Record<string, string | undefined>) {
    const answered: { status?: number; headers?: Record<string, string>; body?: string } = {};
    const res = {
      writeHead(status: number, h: Record<string, string>) {
        answered.status = status;
        answered.headers = h;
        return res;
      },
      end(body?: string) {
        answered.body = body;
        return res;
      },
    };
    return { req: { headers } as unknown as IncomingMessage, res: res as unknown as ServerResponse, answered };
  }

  test('a loopback Host passes, and nothing is answered', () => {
    const { req, res, answered } = exchange({ host: '127.0.0.1:4569' });
    expect(refuseForeign(req, res)).toBe(false);
    expect(answered).toEqual({});
  });

  test('any other Host, or none: 421, plain text saying why', () => {
    for (const host of ['rebind.attacker.example:4569', undefined]) {
      const { req, res, answered } = exchange({ host });
      expect(refuseForeign(req, res, { checkOrigin: true })).toBe(true);
      expect(answered).toEqual({ status: 421, headers: { 'content-type': 'text/plain' }, body: expect.stringContaining('only requests for localhost') });
    }
  });

  test('without checkOrigin (GET, HEAD), another site\'s Origin is not looked at', () => {
    const { req, res, answered } = exchange({ host: 'localhost:3000', origin: 'https://attacker.example' });
    expect(refuseForeign(req, res)).toBe(false);
    expect(answered).toEqual({});
  });

  test.each([
    ['no Origin', undefined],
    ['the same host and port', 'http://localhost:3000'],
    ['another loopback name for the same port', 'http://127.0.0.1:3000'],
  ])('checkOrigin: %s passes', (_what, origin) => {
    const { req, res, answered } = exchange({ host: 'localhost:3000', origin });
    expect(refuseForeign(req, res, { checkOrigin: true })).toBe(false);
    expect(answered).toEqual({});
  });

  test.each([
    ['another site', 'https://attacker.example'],
    ['another site on the same port', 'http://attacker.example:3000'],
    ['a loopback page on another port', 'http://localhost:8080'],
    ['a loopback page without a port', 'http://localhost'],
    ['Origin null (a sandboxed iframe on any site can send it)', 'null'],
    ['not a URL', 'localhost:3000'],
    ['garbage', '%%%'],
  ])('checkOrigin: %s is refused with 403', (_what, origin) => {
    const { req, res, answered } = exchange({ host: 'localhost:3000', origin });
    expect(refuseForeign(req, res, { checkOrigin: true })).toBe(true);
    expect(answered).toEqual({ status: 403, headers: { 'content-type': 'text/plain' }, body: 'cross-origin requests are refused\n' });
  });

  test("allowedOrigins: the listed page's origin passes, exactly as listed; others are still refused", () => {
    const allowedOrigins = ['http://127.0.0.1:9001'];
    const verdict = (origin: string) => refuseForeign(exchange({ host: '127.0.0.1:4569', origin }).req, exchange({}).res, { checkOrigin: true, allowedOrigins });
    expect(verdict('http://127.0.0.1:9001')).toBe(false);
    for (const origin of ['http://localhost:9001', 'http://127.0.0.1:9002', 'https://evil.example', 'null']) expect([origin, verdict(origin)]).toEqual([origin, true]);
  });
});
