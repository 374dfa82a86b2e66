/**
 * Where destinations may connect. A webhook URL is chosen by a user, so without a guard it is a
 * way to make the server reach its own loopback services, the private network or a cloud
 * metadata endpoint (SSRF). Every address a destination would connect to must be public, unless
 * the operator listed its host, the address or a CIDR holding it in CDP_EGRESS_ALLOW.
 *
 * Addresses are compared as 128-bit numbers where an IPv4 address a.b.c.d is ::ffff:a.b.c.d, so
 * an IPv4-mapped IPv6 address is the same value as its IPv4 address for every check and entry.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A CIDR over the 128-bit address space (IPv4 ranges sit inside ::ffff:0:0/96). */
export interface AddressRange {
  readonly base: bigint;
  readonly bits: number;
}

export interface EgressAllowList {
  /** Lower-case host names without a trailing dot. */
  readonly hosts: ReadonlySet<string>;
  /** Listed addresses (as /32 or /128) and CIDRs. */
  readonly ranges: readonly AddressRange[];
  /** Entries that are neither a host name, an IP address nor a CIDR; they allow nothing. */
  readonly ignored: readonly string[];
}

export type Resolver = (hostname: string) => Promise<readonly { address: string; family: 4 | 6 }[]>;

export type UrlCheck = { ok: true; url: URL } | { ok: false; message: string };

/**
 * `retryable` tells a refusal (the answer is not allowed: retrying changes nothing) from a
 * resolution failure (DNS may answer later).
 */
export type EgressDecision =
  { ok: true; address: string; family: 4 | 6 } | { ok: false; message: string; retryable: boolean };

export const MAX_URL_LENGTH = 2048;

const V4_MAPPED_PREFIX = 0xffffn << 32n;
const LOW_32 = 0xffff_ffffn;
const HOST_NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

/** Parses an IP address (IPv4 dotted quad, IPv6 with an optional zone, or [IPv6]) to 128 bits. */
function parseIp(text: string): bigint | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const version = isIP(bare);
  if (version === 4) return V4_MAPPED_PREFIX | BigInt(parseIpv4(bare));
  if (version === 6) return parseIpv6(bare);
  return null;
}

/** Only called on text node:net accepted as IPv4: four decimal parts without leading zeros. */
function parseIpv4(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Only called on text node:net accepted as IPv6; returns null if it still does not add up. */
function parseIpv6(text: string): bigint | null {
  const zone = text.indexOf('%');
  let rest = zone === -1 ? text : text.slice(0, zone);
  let tail: number[] = [];
  const lastColon = rest.lastIndexOf(':');
  if (rest.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(rest.slice(lastColon + 1));
    tail = [v4 >>> 16, v4 & 0xffff];
    rest = rest.slice(0, lastColon + 1);
    if (rest.endsWith(':') && !rest.endsWith('::')) rest = rest.slice(0, -1);
  }
  const halves = rest.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string | undefined): number[] =>
    half === undefined || half === '' ? [] : half.split(':').map((g) => parseInt(g, 16));
  const head = groups(halves[0]);
  const after = [...groups(halves[1]), ...tail];
  const missing = 8 - head.length - after.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...after];
  if (all.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function range(address: string, bits: number): AddressRange {
  const value = parseIp(address);
  if (value === null) throw new Error(`bad built-in range ${address}`);
  const total = address.includes(':') ? bits : bits + 96;
  return { base: value, bits: total };
}

function inRange(value: bigint, r: AddressRange): boolean {
  const shift = BigInt(128 - r.bits);
  return value >> shift === r.base >> shift;
}

/** Special-purpose IPv4 ranges (RFC 6890 and successors) that are not for the public internet. */
const NON_PUBLIC_V4: readonly AddressRange[] = [
  range('0.0.0.0', 8), // "this network"
  range('10.0.0.0', 8),
  range('100.64.0.0', 10), // carrier-grade NAT
  range('127.0.0.0', 8),
  range('169.254.0.0', 16), // link-local, home of cloud metadata endpoints
  range('172.16.0.0', 12),
  range('192.0.0.0', 24), // IETF protocol assignments
  range('192.0.2.0', 24), // documentation
  range('192.168.0.0', 16),
  range('198.18.0.0', 15), // benchmarking
  range('198.51.100.0', 24), // documentation
  range('203.0.113.0', 24), // documentation
  range('224.0.0.0', 4), // multicast
  range('240.0.0.0', 4), // reserved, includes 255.255.255.255
];

/**
 * Non-public IPv6 ranges. Most lie outside 2000::/3 and are refused by that rule anyway; they
 * are listed so the intent reads here.
 */
const NON_PUBLIC_V6: readonly AddressRange[] = [
  range('::', 128),
  range('::1', 128),
  range('fc00::', 7), // unique local
  range('fe80::', 10), // link-local
  range('fec0::', 10), // deprecated site-local, still routed by some stacks
  range('ff00::', 8), // multicast
  range('100::', 64), // discard-only
  range('2001:db8::', 32), // documentation
  range('3fff::', 20), // documentation (RFC 9637)
  range('2001:2::', 48), // benchmarking
  range('64:ff9b:1::', 48), // local-use NAT64
];

/** The only IPv6 block IANA allocates for global unicast. */
const GLOBAL_UNICAST = range('2000::', 3);
const NAT64 = range('64:ff9b::', 96);
const IPV4_COMPATIBLE = range('::', 96);
const SIX_TO_FOUR = range('2002::', 16);
const TEREDO = range('2001::', 32);

function isPublicV4(v4: bigint): boolean {
  const value = V4_MAPPED_PREFIX | v4;
  return !NON_PUBLIC_V4.some((r) => inRange(value, r));
}

function isPublicValue(value: bigint): boolean {
  // Forms that carry an IPv4 address reach that address (directly, through a NAT64 gateway or a
  // tunnel), so they are only as public as the address they carry.
  if (value >> 32n === 0xffffn) return isPublicV4(value & LOW_32);
  if (inRange(value, IPV4_COMPATIBLE)) return isPublicV4(value & LOW_32);
  if (inRange(value, NAT64)) return isPublicV4(value & LOW_32);
  if (inRange(value, SIX_TO_FOUR)) return isPublicV4((value >> 80n) & LOW_32);
  if (inRange(value, TEREDO)) return isPublicV4(~value & LOW_32);
  if (!inRange(value, GLOBAL_UNICAST)) return false;
  return !NON_PUBLIC_V6.some((r) => inRange(value, r));
}

/** True only for an IP address the public internet routes; anything else (or not an IP) is false. */
export function isPublicAddress(ip: string): boolean {
  const value = parseIp(ip);
  return value !== null && isPublicValue(value);
}

function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

function parseCidr(entry: string): AddressRange | null {
  const [address = '', bitsText = '', ...extra] = entry.split('/');
  if (extra.length > 0 || !/^\d{1,3}$/.test(bitsText)) return null;
  const value = parseIp(address);
  if (value === null) return null;
  const bits = Number(bitsText);
  const isV4 = isIP(address) === 4;
  const total = isV4 ? bits + 96 : bits;
  if ((isV4 && bits > 32) || total > 128) return null;
  // Bits set below the prefix (10.1.2.3/8) are dropped, as routers do.
  const shift = BigInt(128 - total);
  return { base: (value >> shift) << shift, bits: total };
}

export function parseEgressAllow(entries: readonly string[]): EgressAllowList {
  const hosts = new Set<string>();
  const ranges: AddressRange[] = [];
  const ignored: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry.includes('/')) {
      const cidr = parseCidr(entry);
      if (cidr === null) ignored.push(raw);
      else ranges.push(cidr);
      continue;
    }
    const address = parseIp(entry);
    if (address !== null) {
      ranges.push({ base: address, bits: 128 });
      continue;
    }
    const host = normalizeHost(entry);
    if (HOST_NAME.test(host)) hosts.add(host);
    else ignored.push(raw);
  }
  return { hosts, ranges, ignored };
}

/** Whether a destination named `host` may connect to `address`. */
export function egressAllowed(host: string, address: string, allow: EgressAllowList): boolean {
  const value = parseIp(address);
  if (value === null) return false;
  if (isPublicValue(value)) return true;
  if (allow.hosts.has(normalizeHost(host))) return true;
  return allow.ranges.some((r) => inRange(value, r));
}

function portOutOfRange(text: string): boolean {
  // new URL rejects ports above 65535 as a whole; find them to say so.
  const port = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(text.trim())?.[1];
  return port !== undefined && Number(port) > 65535;
}

/** The shape of a destination URL, before any DNS: what a user may type at all. */
export function checkDestinationUrl(text: string): UrlCheck {
  if (text.length > MAX_URL_LENGTH) {
    return { ok: false, message: `the URL is longer than ${MAX_URL_LENGTH} characters` };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    if (portOutOfRange(text)) return { ok: false, message: 'the URL port must be between 1 and 65535' };
    return { ok: false, message: 'the URL is not a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: `the URL must use http or https, not ${url.protocol.slice(0, -1)}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, message: 'the URL must not contain a user name or password' };
  }
  // Checked again once normalized: percent-encoding can lengthen it, and it is stored normalized.
  if (url.href.length > MAX_URL_LENGTH) {
    return { ok: false, message: `the URL is longer than ${MAX_URL_LENGTH} characters` };
  }
  if (url.hostname === '') return { ok: false, message: 'the URL has no host' };
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) {
    return { ok: false, message: 'the URL port must be between 1 and 65535' };
  }
  return { ok: true, url };
}

function familyOf(address: string): 4 | 6 {
  return isIP(address) === 4 ? 4 : 6;
}

function refusal(address: string, host: string | null): EgressDecision {
  const subject = host === null ? address : `"${host}" resolves to ${address}, which`;
  return {
    ok: false,
    message: `${subject} is not a public address and is not allowed by CDP_EGRESS_ALLOW`,
    retryable: false,
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? code : error.message;
  }
  return String(error);
}

/**
 * The address to connect to for `url`, checked against the policy. Every address of the DNS
 * answer must be allowed: connecting code may pick any of them, and an attacker can mix a public
 * and a private answer. The caller connects to the returned address and never resolves again, so
 * a second answer (DNS rebinding) never reaches a socket.
 */
export async function resolveEgress(
  url: URL,
  allow: EgressAllowList,
  resolve: Resolver,
): Promise<EgressDecision> {
  const hostname = url.hostname;
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) {
    return egressAllowed(bare, bare, allow)
      ? { ok: true, address: bare, family: familyOf(bare) }
      : refusal(bare, null);
  }
  let answers: readonly { address: string; family: 4 | 6 }[];
  try {
    answers = await resolve(bare);
  } catch (error) {
    return { ok: false, message: `could not resolve "${bare}": ${describeError(error)}`, retryable: true };
  }
  const first = answers[0];
  if (first === undefined) {
    return { ok: false, message: `could not resolve "${bare}": no address`, retryable: true };
  }
  const denied = answers.find((answer) => !egressAllowed(bare, answer.address, allow));
  if (denied !== undefined) return refusal(denied.address, bare);
  return { ok: true, address: first.address, family: familyOf(first.address) };
}

export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 4 ? 4 : 6 }));
};
