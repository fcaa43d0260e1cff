/**
 * Which IP addresses the function may download from: global unicast only. Parsing and the names
 * of special-purpose ranges (IANA's IPv4 and IPv6 registries) come from ipaddr.js; of IPv6 only
 * 2000::/3 is considered at all, so whatever ipaddr.js does not name outside it is refused too.
 * Addresses that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that
 * IPv4 address. Pure: tested with a table of hostile inputs.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** ipaddr.js range names, as a reason reads them. */
const RANGE_NAMES: Record<string, string> = {
  unspecified: 'this-network / unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local (includes the instance metadata service)',
  loopback: 'loopback',
  carrierGradeNat: 'shared address space (CGNAT)',
  private: 'private',
  reserved: 'reserved, documentation or benchmarking',
  as112: 'AS112 DNS sink anycast',
  as112v6: 'AS112 DNS sink anycast',
  amt: 'AMT relay anycast',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local (deprecated)',
  discard: 'discard-only',
  teredo: 'Teredo',
  benchmarking: 'benchmarking',
  deprecatedOrchid: 'ORCHID',
  orchid2: 'ORCHIDv2',
  droneRemoteIdProtocolEntityTags: 'drone remote ID',
  segmentRouting: 'segment routing SIDs',
  rfc6052: 'local-use NAT64',
  rfc6145: 'IPv4-translated',
};

const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/**
 * Parses one address as the socket would connect to it, or undefined. Node's own strict parser
 * (isIP) decides what is an address, because ipaddr.js is lenient: it reads "1.2.3", "0x7f.1" and
 * "0177.0.0.1" as IPv4 and "::ffff:0177.0.0.1" as ::ffff:177.0.0.1 (decimal). URLs reach us
 * already normalised by the WHATWG parser, DNS answers canonical; anything else is refused.
 */
export function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const text = address.replace(/^\[|\]$/g, '');
  // A zone id ("fe80::1%eth0") names an interface of this host, never a server on the internet.
  if (text.includes('%')) return undefined;
  const family = isIP(text);
  if (family === 4) return ipaddr.IPv4.parse(text);
  if (family !== 6) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  // ipaddr.js reads the deprecated IPv4-compatible "::a.b.c.d" as IPv4-mapped "::ffff:a.b.c.d".
  if (/^::\d+\.\d+\.\d+\.\d+$/.test(text)) v6.parts[5] = 0;
  return v6;
}

function judgeV4(ip: ipaddr.IPv4, shown: string): AddressVerdict {
  const range = ip.range();
  if (range === 'unicast') return { allowed: true };
  if (range === 'broadcast') return { allowed: false, reason: `${shown} is the broadcast address` };
  return { allowed: false, reason: `${shown} is in a ${RANGE_NAMES[range] ?? range} range` };
}

/** The IPv4 address carried in the low 32 bits (or, for 6to4, bits 16-47). */
const embedded = (parts: number[], at: number) => ipaddr.fromByteArray([parts[at] >> 8, parts[at] & 0xff, parts[at + 1] >> 8, parts[at + 1] & 0xff]) as ipaddr.IPv4;

function judgeV6(ip: ipaddr.IPv6, shown: string): AddressVerdict {
  const range = ip.range();
  const p = ip.parts;
  if (range === 'unspecified') return { allowed: false, reason: `${shown} is the unspecified address` };
  if (range === 'loopback') return { allowed: false, reason: `${shown} is the loopback address` };
  // Forms that carry an IPv4 address: judged by it.
  if (range === 'ipv4Mapped') return judgeV4(ip.toIPv4Address(), `${shown} (IPv4-mapped)`);
  if (p.slice(0, 6).every((g) => g === 0)) return judgeV4(embedded(p, 6), `${shown} (IPv4-compatible)`);
  if (ip.match(NAT64)) return judgeV4(embedded(p, 6), `${shown} (NAT64)`);
  if (range === '6to4') return judgeV4(embedded(p, 1), `${shown} (6to4)`);
  // Only global unicast is considered further; everything else (ULA, link-local, multicast...) is refused.
  if (!ip.match(GLOBAL_UNICAST)) return { allowed: false, reason: `${shown} is not a global unicast address` };
  if (range === 'unicast') return { allowed: true };
  return { allowed: false, reason: `${shown} is in a ${RANGE_NAMES[range] ?? range} range` };
}

/** Judges one resolved or literal IP address. Anything that does not parse is refused. */
export function judgeAddress(address: string): AddressVerdict {
  const ip = parseAddress(address);
  if (!ip) return { allowed: false, reason: `${address} is not an IP address` };
  return ip.kind() === 'ipv4' ? judgeV4(ip as ipaddr.IPv4, address) : judgeV6(ip as ipaddr.IPv6, address);
}

/** 127.0.0.0/8, ::1, or an IPv4-mapped 127.0.0.0/8 address. */
export function isLoopback(address: string): boolean {
  const ip = parseAddress(address);
  if (!ip) return false;
  if (ip.kind() === 'ipv4') return ip.range() === 'loopback';
  const v6 = ip as ipaddr.IPv6;
  return v6.range() === 'loopback' || (v6.isIPv4MappedAddress() && v6.toIPv4Address().range() === 'loopback');
}
