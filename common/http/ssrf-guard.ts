/**
 * Keeps Reprise's HTTP client from being turned against the network it runs in: manifests are
 * written by strangers, and an id pointing at 169.254.169.254 or an intranet host must not be fetched.
 *
 * The address check runs inside the DNS lookup that the connection itself uses, so a name cannot
 * resolve to a public address when checked and to a private one when connected (DNS rebinding).
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { HttpError, SsrfError } from './errors.ts';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface ResolvedAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/** Name resolution, injectable so that tests can map fake names to any address without a network. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true });

/**
 * Cloud metadata endpoints hand out credentials. They stay refused even when a range containing
 * them is allowed; only listing the exact address unlocks one.
 */
const METADATA_ADDRESSES = ['169.254.169.254', 'fd00:ec2::254'].map((a) => ipaddr.parse(a).toString());

export interface AddressVerdict {
  allowed: boolean;
  /** ipaddr.js range name ('unicast' for public addresses), 'metadata' or 'ipv4Compatible'. */
  range: string;
}

/**
 * The range an address falls in, looking through IPv6 forms that carry an IPv4 address (mapped,
 * translated, NAT64, 6to4): ::ffff:10.0.0.1 reaches 10.0.0.1 and must be judged as such.
 */
export function classifyAddress(address: string): string {
  const ip = parseAddress(address);
  if (!ip) throw new TypeError(`not an IP address: ${address}`);
  if (METADATA_ADDRESSES.includes(ip.toString())) return 'metadata';
  if (ip.kind() === 'ipv4') return ip.range();
  const v6 = ip as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) return classifyAddress(embedded.toString());
  const range = v6.range();
  // ::a.b.c.d (deprecated IPv4-compatible) is 'unicast' to ipaddr.js but is nobody's public server.
  if (range === 'unicast' && v6.parts.slice(0, 6).every((p) => p === 0)) return 'ipv4Compatible';
  return range;
}

function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = ip.parts;
  const fromWords = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  switch (ip.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
    case 'rfc6052':
      return fromWords(p[6]!, p[7]!);
    case '6to4':
      return fromWords(p[1]!, p[2]!);
    default:
      return undefined;
  }
}

/** Accepts bracketed IPv6 ("[::1]" as URL.hostname gives it) and drops zone ids. */
function parseAddress(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const noZone = bare.split('%')[0]!;
  // Only dotted quads: ipaddr.js would also read "127.1" or "0x7f.1", which are host names to a URL parser.
  if (ipaddr.IPv4.isValidFourPartDecimal(noZone)) return ipaddr.IPv4.parse(noZone);
  if (ipaddr.IPv6.isValid(noZone)) return ipaddr.IPv6.parse(noZone);
  return undefined;
}

/** Mapped IPv6 compares as the IPv4 address it reaches, so "127.0.0.1/8" also allows ::ffff:127.0.0.1. */
function normalise(ip: Address): Address {
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) return (ip as ipaddr.IPv6).toIPv4Address();
  return ip;
}

interface AllowList {
  ranges: Array<[Address, number]>;
  /** Exact addresses listed, the only way to unlock a metadata address. */
  exact: Set<string>;
  hosts: Set<string>;
}

function normaliseHostname(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function parseAllowList(entries: readonly string[]): AllowList {
  const list: AllowList = { ranges: [], exact: new Set(), hosts: new Set() };
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry.includes('/')) {
      let cidr: [Address, number];
      try {
        const [addr, bits] = ipaddr.parseCIDR(entry);
        cidr = addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96
          ? [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96]
          : [addr, bits];
      } catch {
        throw new RangeError(`allowPrivate: "${raw}" is not a valid CIDR range (e.g. "10.0.0.0/8", "fd00::/8")`);
      }
      list.ranges.push(cidr);
      continue;
    }
    const ip = parseAddress(entry);
    if (ip) {
      const n = normalise(ip);
      list.ranges.push([n, n.kind() === 'ipv4' ? 32 : 128]);
      list.exact.add(n.toString());
      continue;
    }
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.?$/i.test(entry)) {
      throw new RangeError(`allowPrivate: "${raw}" is neither an IP address, a CIDR range nor a host name`);
    }
    list.hosts.add(normaliseHostname(entry));
  }
  return list;
}

export interface SsrfGuard {
  /** Whether a connection to `address`, reached through `hostname` if given, may be made. */
  verdict(address: string, hostname?: string): AddressVerdict;
  /**
   * Throws unless the URL is http: or https: and, when its host is an IP literal, that address may be
   * fetched. Literals never reach `lookup`, so every hop must pass through here.
   */
  checkUrl(url: URL): void;
  /** For undici's `connect.lookup`: resolves, then refuses the connection if any address is not allowed. */
  lookup: LookupFunction;
}

export function createSsrfGuard(allowPrivate: readonly string[], resolve: Resolver = systemResolver): SsrfGuard {
  const allow = parseAllowList(allowPrivate);

  function verdict(address: string, hostname?: string): AddressVerdict {
    const range = classifyAddress(address);
    if (range === 'unicast') return { allowed: true, range };
    const ip = normalise(parseAddress(address)!);
    if (range === 'metadata') return { allowed: allow.exact.has(ip.toString()), range };
    if (hostname !== undefined && allow.hosts.has(normaliseHostname(hostname))) return { allowed: true, range };
    const inRange = allow.ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
    return { allowed: inRange, range };
  }

  function checkUrl(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new HttpError(`refusing to fetch ${url.href}: only http: and https: URLs are fetched`, url.href, false);
    }
    const literal = parseAddress(url.hostname);
    if (literal && !verdict(url.hostname).allowed) throw new SsrfError(url.href, literal.toString());
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (resolved) => {
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const candidates = family ? resolved.filter((r) => r.family === family) : resolved;
        if (candidates.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = 'ENOTFOUND';
          callback(err, '');
          return;
        }
        // Any refused address refuses the name: a host that answers with both a public and a
        // private address is more likely an attack than a misconfiguration.
        const refused = candidates.find((r) => !verdict(r.address, hostname).allowed);
        if (refused) {
          // The URL is not known here; the client replaces the host name with it.
          callback(new SsrfError(hostname, refused.address), '');
          return;
        }
        if (options.all) callback(null, candidates);
        else callback(null, candidates[0]!.address, candidates[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };

  return { verdict, checkUrl, lookup };
}
