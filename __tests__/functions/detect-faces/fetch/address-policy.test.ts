/**
 * Which addresses may be fetched: bypass attempts (odd notations, mapped forms, metadata) must be
 * refused, ordinary public addresses allowed. Hostnames go through the WHATWG URL parser first,
 * exactly as the handler does, so notations like 0x7f.1 or 2130706433 arrive canonical.
 */
import { judgeAddress, isLoopback, parseIPv6 } from '../../../../functions/detect-faces/fetch/address-policy';

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

test('IPv6 parsing covers compressed, full and dotted forms', () => {
  expect(parseIPv6('::1')).toBe(1n);
  expect(parseIPv6('0:0:0:0:0:0:0:1')).toBe(1n);
  expect(parseIPv6('::ffff:1.2.3.4')).toBe(0xffff01020304n);
  expect(parseIPv6('1::2::3')).toBeUndefined();
  expect(parseIPv6('1:2:3:4:5:6:7:8:9')).toBeUndefined();
  expect(parseIPv6('12345::')).toBeUndefined();
});

test('isLoopback', () => {
  expect(['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '[::1]'].every(isLoopback)).toBe(true);
  expect(['10.0.0.1', '::2', '::ffff:10.0.0.1', '8.8.8.8'].some(isLoopback)).toBe(false);
});
