/**
 * Which IP addresses the function may download from. A table of special-purpose ranges (IANA's
 * IPv4 and IPv6 special registries) is refused; of IPv6 only global unicast (2000::/3) is
 * considered at all, so whatever the table does not list outside it is refused too. Addresses
 * that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that IPv4 address.
 * Pure: tested with a table of hostile inputs.
 */
import { isIP } from 'node:net';

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

interface Range {
  readonly base: bigint;
  readonly bits: number;
  readonly name: string;
}

const V4_RANGES: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'this-network / unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (includes the instance metadata service)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const V6_RANGES: readonly [string, number, string][] = [
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 23, 'IETF protocol assignments (Teredo, benchmarking, ORCHID)'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'segment routing SIDs'],
];

const v4Table: Range[] = V4_RANGES.map(([ip, bits, name]) => ({ base: BigInt(parseIPv4(ip)!), bits, name }));
const v6Table: Range[] = V6_RANGES.map(([ip, bits, name]) => ({ base: parseIPv6(ip)!, bits, name }));

export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Parses a textual IPv6 address (with an optional trailing dotted IPv4, no zone) into 128 bits. */
export function parseIPv6(text: string): bigint | undefined {
  let s = text.toLowerCase();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.includes('%')) return undefined;
  let tailV4: number | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(tailV4 >>> 16).toString(16)}:${(tailV4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function inRange(value: bigint, width: number, range: Range): boolean {
  const shift = BigInt(width - range.bits);
  return value >> shift === range.base >> shift;
}

function judgeV4(value: number, shown: string): AddressVerdict {
  if (value === 0xffffffff) return { allowed: false, reason: `${shown} is the broadcast address` };
  const hit = v4Table.find((r) => inRange(BigInt(value), 32, r));
  return hit ? { allowed: false, reason: `${shown} is in a ${hit.name} range` } : { allowed: true };
}

function judgeV6(value: bigint, shown: string): AddressVerdict {
  const v4 = (from: bigint) => Number(from & 0xffffffffn);
  if (value === 0n) return { allowed: false, reason: `${shown} is the unspecified address` };
  if (value === 1n) return { allowed: false, reason: `${shown} is the loopback address` };
  // Forms that carry an IPv4 address: judged by it.
  if (value >> 32n === 0xffffn) return judgeV4(v4(value), `${shown} (IPv4-mapped)`);
  if (value >> 32n === 0n) return judgeV4(v4(value), `${shown} (IPv4-compatible)`);
  if (value >> 32n === 0x0064ff9b0000000000000000n) return judgeV4(v4(value), `${shown} (NAT64)`);
  if (value >> 112n === 0x2002n) return judgeV4(Number((value >> 80n) & 0xffffffffn), `${shown} (6to4)`);
  // Only global unicast is considered further; everything else (ULA, link-local, multicast...) is refused.
  if (value >> 125n !== 1n) return { allowed: false, reason: `${shown} is not a global unicast address` };
  const hit = v6Table.find((r) => inRange(value, 128, r));
  return hit ? { allowed: false, reason: `${shown} is in a ${hit.name} range` } : { allowed: true };
}

/** Judges one resolved or literal IP address. Anything that does not parse is refused. */
export function judgeAddress(address: string): AddressVerdict {
  const family = isIP(address.replace(/^\[|\]$/g, ''));
  if (family === 4) return judgeV4(parseIPv4(address)!, address);
  if (family === 6) {
    const value = parseIPv6(address);
    if (value !== undefined) return judgeV6(value, address);
  }
  return { allowed: false, reason: `${address} is not an IP address` };
}

export function isLoopback(address: string): boolean {
  const plain = address.replace(/^\[|\]$/g, '');
  if (isIP(plain) === 4) return plain.startsWith('127.');
  const v6 = parseIPv6(plain);
  return v6 === 1n || (v6 !== undefined && v6 >> 32n === 0xffffn && Number((v6 >> 24n) & 0xffn) === 127);
}
