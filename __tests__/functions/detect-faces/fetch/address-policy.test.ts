/**
 * Which addresses may be fetched: bypass attempts (odd notations, mapped forms, metadata) must be
 * refused, ordinary public addresses allowed. Hostnames go through the WHATWG URL parser first,
 * exactly as the handler does, so notations like 0x7f.1 or 2130706433 arrive canonical.
 */
import { judgeAddress, isLoopback, parseAddress } from '../../../../functions/detect-faces/fetch/address-policy';

/** The host the handler would judge for this URL (literal IPs as the URL parser normalises them). */
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

describe('refused', () => {
  test.each([
    // loopback, in every notation the URL parser accepts
    ['http://127.0.0.1/x.jpg'],
    ['http://127.1/x.jpg'],
    ['http://0x7f.1/x.jpg'],
    ['http://0177.0.0.1/x.jpg'],
    ['http://2130706433/x.jpg'],
    ['http://0x7f000001/x.jpg'],
    ['http://127.255.255.254/x.jpg'],
    ['http://[::1]/x.jpg'],
    ['http://[0:0:0:0:0:0:0:1]/x.jpg'],
    ['http://[::ffff:127.0.0.1]/x.jpg'],
    ['http://[::ffff:7f00:1]/x.jpg'],
    ['http://[::127.0.0.1]/x.jpg'],
    // unspecified
    ['http://0.0.0.0/x.jpg'],
    ['http://0/x.jpg'],
    ['http://[::]/x.jpg'],
    // instance metadata and link-local
    ['http://169.254.169.254/latest/meta-data/'],
    ['http://0xa9fea9fe/latest/meta-data/'],
    ['http://2852039166/latest/meta-data/'],
    ['http://[::ffff:169.254.169.254]/latest/'],
    ['http://[fd00:ec2::254]/latest/'],
    ['http://[fe80::1]/x.jpg'],
    // private and shared
    ['http://10.0.0.1/x.jpg'],
    ['http://012.1/x.jpg'],
    ['http://172.16.0.1/x.jpg'],
    ['http://172.31.255.255/x.jpg'],
    ['http://192.168.1.1/x.jpg'],
    ['http://100.64.0.1/x.jpg'],
    ['http://[::ffff:10.0.0.1]/x.jpg'],
    ['http://[::ffff:a00:1]/x.jpg'],
    ['http://[64:ff9b::10.0.0.1]/x.jpg'],
    ['http://[2002:a00:1::]/x.jpg'],
    ['http://[2002:7f00:1::1]/x.jpg'],
    // unique-local, multicast, reserved, documentation, Teredo
    ['http://[fc00::1]/x.jpg'],
    ['http://[fdff:ffff::1]/x.jpg'],
    ['http://[ff02::1]/x.jpg'],
    ['http://224.0.0.1/x.jpg'],
    ['http://239.255.255.250/x.jpg'],
    ['http://255.255.255.255/x.jpg'],
    ['http://240.0.0.1/x.jpg'],
    ['http://192.0.2.10/x.jpg'],
    ['http://198.18.0.1/x.jpg'],
    ['http://[2001:db8::1]/x.jpg'],
    ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x.jpg'],
    ['http://[fec0::1]/x.jpg'],
    ['http://[100::1]/x.jpg'],
  ])('%s', (url) => {
    const verdict = judgeAddress(hostOf(url));
    expect(verdict.allowed).toBe(false);
  });
});

describe('allowed', () => {
  test.each([
    ['http://93.184.215.14/x.jpg'],
    ['https://8.8.8.8/x.jpg'],
    ['http://172.15.255.255/x.jpg'],
    ['http://172.32.0.1/x.jpg'],
    ['http://100.63.255.255/x.jpg'],
    ['http://11.0.0.1/x.jpg'],
    ['http://[2606:4700:4700::1111]/x.jpg'],
    ['http://[2a00:1450:4001:81b::200e]/x.jpg'],
    ['http://[::ffff:8.8.8.8]/x.jpg'],
    ['http://[64:ff9b::808:808]/x.jpg'],
    ['http://[2002:808:808::1]/x.jpg'],
  ])('%s', (url) => {
    expect(judgeAddress(hostOf(url))).toEqual({ allowed: true });
  });
});

test.each(['localhost', 'example.com', '', '1.2.3', '::1%lo', '1.2.3.4.5', '[::1'])('non-addresses are refused: %j', (text) => {
  expect(judgeAddress(text).allowed).toBe(false);
});

test('reasons name the range', () => {
  expect(judgeAddress('169.254.169.254')).toEqual({ allowed: false, reason: expect.stringMatching(/link-local.*metadata/) });
  expect(judgeAddress('::ffff:10.0.0.1')).toEqual({ allowed: false, reason: expect.stringMatching(/IPv4-mapped.*private/) });
});

/** An address's 128 (or 32) bits, to compare parses by value. */
const bits = (address: string) => {
  const ip = parseAddress(address);
  return ip && BigInt(`0x${ip.toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('')}`);
};

test('IPv6 parsing covers compressed, full and dotted forms', () => {
  expect(bits('::1')).toBe(1n);
  expect(bits('0:0:0:0:0:0:0:1')).toBe(1n);
  expect(bits('::ffff:1.2.3.4')).toBe(0xffff01020304n);
  expect(bits('1::2::3')).toBeUndefined();
  expect(bits('1:2:3:4:5:6:7:8:9')).toBeUndefined();
  expect(bits('12345::')).toBeUndefined();
  // ipaddr.js alone would read this as IPv4-mapped; it is the IPv4-compatible ::7f00:1.
  expect(bits('::127.0.0.1')).toBe(0x7f000001n);
});

test('only strict notations parse: what ipaddr.js alone accepts leniently is not an address', () => {
  // ipaddr.js reads these as 1.2.0.3, 127.0.0.1, 1.2.3.4, ::ffff:177.0.0.1 (sic) and fe80::1 on eth0.
  for (const text of ['1.2.3', '0x7f.1', '01.2.3.4', '::ffff:0177.0.0.1', '::ffff:0x7f.0.0.1', 'fe80::1%eth0', '2606:4700::1111%1']) {
    expect([text, parseAddress(text)]).toEqual([text, undefined]);
    expect(judgeAddress(text).allowed).toBe(false);
  }
});

test('isLoopback', () => {
  expect(['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '[::1]'].every(isLoopback)).toBe(true);
  expect(['10.0.0.1', '::2', '::ffff:10.0.0.1', '8.8.8.8'].some(isLoopback)).toBe(false);
});

/**
 * The address forms of two public SSRF bypass lists: PayloadsAllTheThings "Server Side Request
 * Forgery" (bypass sections, cloud metadata URLs) and cujanovic/SSRF-Testing (ip.py's encodings of
 * 169.254.169.254 and 127.0.0.1, cloud-metadata.txt). Each goes through the WHATWG URL parser as
 * in the handler; it either fails to parse (never fetched) or normalises to an address refused here.
 */
describe('hostile SSRF lists: normalised by the URL parser, then refused', () => {
  test.each([
    // localhost and its /8, any port or scheme
    ['http://127.0.0.1:80', '127.0.0.1'],
    ['http://127.0.0.1:22', '127.0.0.1'],
    ['https://127.0.0.1/', '127.0.0.1'],
    ['http://127.127.127.127', '127.127.127.127'],
    ['http://127.0.1.3', '127.0.1.3'],
    ['http://127.0.0.0', '127.0.0.0'],
    ['http://127.0.1', '127.0.0.1'],
    ['http://127.000000000000000.1/', '127.0.0.1'],
    ['http://127.0.0.1/%61dmin', '127.0.0.1'],
    ['http://127.0.0.1:9001/2018-06-01/runtime/invocation/next', '127.0.0.1'],
    // decimal, octal, hex, dotless and mixed
    ['http://3232235521/', '192.168.0.1'],
    ['http://3232235777/', '192.168.1.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://0177.1/', '127.0.0.1'],
    ['http://00000177.00000000.00000000.00000001/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://0x7f.0x0.0x0.0x1/', '127.0.0.1'],
    ['http://0x0000007f.0x00000000.0x00000000.0x00000001/', '127.0.0.1'],
    ['http://0xa9.0xfe.0xa9.0xfe:80/', '169.254.169.254'],
    ['http://0xa9fea9fe:80/', '169.254.169.254'],
    ['http://0251.0376.0251.0376:80/', '169.254.169.254'],
    ['http://025177524776:80/', '169.254.169.254'],
    ['http://0xa9.254.0251.0376/', '169.254.169.254'],
    ['http://169.254.43518/', '169.254.169.254'],
    ['http://169.16689662/', '169.254.169.254'],
    // Unicode and percent-encoded hosts
    ['http://①②⑦.⓪.⓪.①', '127.0.0.1'],
    ['http://127。0。0。1/', '127.0.0.1'],
    ['http://127%E3%80%820%E3%80%820%E3%80%821/', '127.0.0.1'],
    ['http://%31%32%37%2e%30%2e%30%2e%31/', '127.0.0.1'],
    // the part before "@", "?" or "#" is not the host (weak-parser tricks)
    ['http://www.google.com@0xa9.0xfe.0xa9.0xfe:80/', '169.254.169.254'],
    ['http://0xa9.0xfe.0xa9.0xfe:80?@www.google.com/', '169.254.169.254'],
    ['http://0xa9.0xfe.0xa9.0xfe:80#@www.google.com/', '169.254.169.254'],
    ['http://127.1.1.1:80\\@127.2.2.2:80/', '127.1.1.1'],
    ['http://127.1.1.1:80\\@@127.2.2.2:80/', '127.1.1.1'],
    ['http://127.1.1.1:80#\\@127.2.2.2:80/', '127.1.1.1'],
    // 0.0.0.0 and [::] (Linux connects both to this host)
    ['http://0.0.0.0:80', '0.0.0.0'],
    ['http://0/', '0.0.0.0'],
    ['http://0x0/', '0.0.0.0'],
    ['http://0000/', '0.0.0.0'],
    ['http://[::]:80/', '::'],
    ['http://[0:0:0:0:0:0:0:0]/', '::'],
    ['http://[::ffff:0.0.0.0]/', '::ffff:0:0'],
    // IPv6, and IPv6 carrying IPv4
    ['http://[0000::1]:80/', '::1'],
    ['http://[::0:1]/', '::1'],
    ['http://[0:0:0:0:0:ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['http://[::ffff:7f00:1]:9001/', '::ffff:7f00:1'],
    ['http://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe'],
    ['http://[0:0:0:0:0:ffff:169.254.169.254]/', '::ffff:a9fe:a9fe'],
    ['http://[0::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe'],
    ['http://[0:0:0:0:0:0:127.0.0.1]/', '::7f00:1'],
    ['http://[::ffff:0:127.0.0.1]/', '::ffff:0:7f00:1'],
    ['http://[64:ff9b::127.0.0.1]/', '64:ff9b::7f00:1'],
    ['http://[64:ff9b::a9fe:a9fe]/', '64:ff9b::a9fe:a9fe'],
    ['http://[2002:a9fe:a9fe::]/', '2002:a9fe:a9fe::'],
    // cloud and container metadata endpoints
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', '169.254.169.254'],
    ['http://169.254.170.2/v2/credentials/', '169.254.170.2'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'fd00:ec2::254'],
    ['http://100.100.100.200/latest/meta-data/', '100.100.100.200'],
    ['http://192.0.0.192/latest/', '192.0.0.192'],
    ['http://172.17.0.1/', '172.17.0.1'],
  ])('%s', (url, canonical) => {
    const host = hostOf(url);
    expect(host).toBe(canonical);
    expect(judgeAddress(host).allowed).toBe(false);
  });
});

describe('hostile SSRF lists: not URLs at all (never fetched)', () => {
  test.each([
    ['http://0000::1:80/'],
    ['http://o177.0.0.1/'],
    ['http://0o177.0.0.1/'],
    ['http://q177.0.0.1/'],
    ['http://425.510.425.510:80/'],
    ['http://4294967296/'],
    ['http://6425673729/'],
    ['http://0x41414141A9FEA9FE/'],
    ['http://0xa9.0xfe.0xa9.0xfe:80\twww.google.com/'],
    ['http://0xa9.0xfe.0xa9.0xfe:80%09www.google.com/'],
    ['http://0xa9.0xfe.0xa9.0xfe:80:80/'],
    ['http://127.1.1.1:80:\\@@127.2.2.2:80/'],
    ['http://[fe80::1%25eth0]/'],
    ['http://[::1%25lo]/'],
    ['http://[::%2501]/'],
    ['http://[::ffff:0177.0.0.1]/'],
    ['http://[::ffff:127.1]/'],
  ])('%s', (url) => {
    expect(() => new URL(url)).toThrow('Invalid URL');
  });
});
