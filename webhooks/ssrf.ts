import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { withTimeout } from '../runtime/timeout';

/**
 * The SSRF guard: a webhook may only reach public addresses, checked when the endpoint
 * is created and again at every delivery against the very address the sender then
 * connects to (the sender pins the connection to the checked IP, so a DNS answer that
 * changes between check and connect cannot slip a private address in).
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Resolves a host name to every address (injectable, so tests can play DNS). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

/** Thrown when a URL or address is refused; `message` is safe to show the client. */
export class BlockedTarget extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockedTarget';
  }
}

type Range4 = [base: number, bits: number, label: string];

function v4(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

const BLOCKED_V4: Range4[] = [
  [v4('0.0.0.0'), 8, '"this network" (0.0.0.0/8)'],
  [v4('10.0.0.0'), 8, 'private (RFC 1918)'],
  [v4('100.64.0.0'), 10, 'carrier-grade NAT (100.64.0.0/10)'],
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('169.254.0.0'), 16, 'link-local (cloud metadata lives here)'],
  [v4('172.16.0.0'), 12, 'private (RFC 1918)'],
  [v4('192.0.0.0'), 24, 'IETF protocol assignments'],
  [v4('192.0.2.0'), 24, 'documentation (TEST-NET-1)'],
  [v4('192.168.0.0'), 16, 'private (RFC 1918)'],
  [v4('198.18.0.0'), 15, 'benchmarking'],
  [v4('198.51.100.0'), 24, 'documentation (TEST-NET-2)'],
  [v4('203.0.113.0'), 24, 'documentation (TEST-NET-3)'],
  [v4('224.0.0.0'), 4, 'multicast'],
  [v4('240.0.0.0'), 4, 'reserved'],
  // Azure's wireserver/metadata address sits in public space, so it is named explicitly.
  [v4('168.63.129.16'), 32, 'cloud metadata'],
];

function inRange(value: number, base: number, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return value >= base && value < base + size;
}

function classifyV4(address: string): string | undefined {
  const value = v4(address);
  for (const [base, bits, label] of BLOCKED_V4) if (inRange(value, base, bits)) return label;
  return undefined;
}

/** Sixteen bytes of an IPv6 address (`::` and a trailing dotted IPv4 handled). */
function v6Bytes(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16) || 0) : []);
  const front = groups(head);
  const back = rest === undefined ? [] : groups(rest);
  const all = [...front, ...new Array(Math.max(0, 8 - front.length - back.length)).fill(0), ...back].slice(0, 8);
  return all.flatMap((group) => [(group >> 8) & 0xff, group & 0xff]);
}

function prefixMatches(bytes: number[], prefix: number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((bytes[byte]! & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const BLOCKED_V6: Array<[prefix: string, bits: number, label: string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'IPv4-mapped IPv6'],
  ['::', 96, 'IPv4-compatible IPv6'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local (fc00::/7)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

function classifyV6(address: string): string | undefined {
  const bytes = v6Bytes(address);
  for (const [prefix, bits, label] of BLOCKED_V6) if (prefixMatches(bytes, v6Bytes(prefix), bits)) return label;
  // NAT64 and 6to4 embed an IPv4 address: judge the embedded one.
  if (prefixMatches(bytes, v6Bytes('64:ff9b::'), 96)) return classifyV4(bytes.slice(12).join('.'));
  if (prefixMatches(bytes, v6Bytes('2002::'), 16)) return classifyV4(bytes.slice(2, 6).join('.'));
  return undefined;
}

/** Why an address is refused (e.g. `loopback`), or undefined for a public address. */
export function blockedReason(address: string): string | undefined {
  switch (isIP(address.split('%')[0]!)) {
    case 4:
      return classifyV4(address);
    case 6:
      return classifyV6(address);
    default:
      return 'not an IP address';
  }
}

const BLOCKED_NAMES = /(^|\.)(localhost|localdomain|internal|local)$/i;

export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Checks a webhook URL as given by the client. `https` only and no credentials; unless
 * private targets are allowed, an IP literal or a name resolving to a blocked address
 * is refused. A name that cannot be resolved right now is accepted (DNS may not be set
 * up yet); the delivery-time check is the one that protects.
 */
export async function checkEndpointUrl(raw: string, options: { allowPrivate: boolean; resolve?: Resolver; timeoutMs?: number }): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BlockedTarget('url must be an absolute https:// URL.');
  }
  if (url.protocol !== 'https:' && !(options.allowPrivate && url.protocol === 'http:')) {
    throw new BlockedTarget(options.allowPrivate ? 'url must use https:// or http://.' : 'url must use https://.');
  }
  if (url.username || url.password) throw new BlockedTarget('url must not carry credentials (user:password@).');
  if (options.allowPrivate) return url;
  const host = hostOf(url);
  if (isIP(host)) {
    const reason = blockedReason(host);
    if (reason) throw new BlockedTarget(`url must not point at a ${reason} address (${host}).`);
    return url;
  }
  if (BLOCKED_NAMES.test(host.replace(/\.$/, ''))) throw new BlockedTarget(`url must not point at an internal host name (${host}).`);
  let addresses: ResolvedAddress[];
  try {
    addresses = await withTimeout((options.resolve ?? systemResolver)(host), options.timeoutMs ?? 3000, 'the DNS lookup did not answer');
  } catch {
    return url;
  }
  for (const { address } of addresses) {
    const reason = blockedReason(address);
    if (reason) throw new BlockedTarget(`url resolves to a ${reason} address (${address}); webhooks only go to public addresses.`);
  }
  return url;
}

/**
 * Resolves the host of a URL for one delivery and returns the address to connect to.
 * Every answer must be public: a name that mixes public and private answers is refused.
 */
export async function resolveDeliveryTarget(url: URL, options: { allowPrivate: boolean; resolve?: Resolver; timeoutMs?: number }): Promise<ResolvedAddress> {
  const host = hostOf(url);
  const family = isIP(host);
  if (family) {
    if (!options.allowPrivate) {
      const reason = blockedReason(host);
      if (reason) throw new BlockedTarget(`refused: ${host} is a ${reason} address`);
    }
    return { address: host, family: family === 6 ? 6 : 4 };
  }
  if (!options.allowPrivate && BLOCKED_NAMES.test(host.replace(/\.$/, ''))) throw new BlockedTarget(`refused: ${host} is an internal host name`);
  const addresses = await withTimeout((options.resolve ?? systemResolver)(host), options.timeoutMs ?? 5000, 'the DNS lookup did not answer');
  if (addresses.length === 0) throw new Error(`DNS: no address for ${host}`);
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const reason = blockedReason(address);
      if (reason) throw new BlockedTarget(`refused: ${host} resolves to ${address}, a ${reason} address`);
    }
  }
  return addresses.find((answer) => answer.family === 4) ?? addresses[0]!;
}

