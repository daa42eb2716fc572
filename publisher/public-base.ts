/**
 * Where the publisher says it lives: the origin and mount path that start every id in info.json,
 * the manifests and the collections. Those documents are kept by clients, harvesters and shared
 * caches (Cache-Control public), so the base never comes from what a client sends: a request with
 * `Host: attacker.example` would otherwise have that host cached as the ids everybody is served.
 * The base is, in order: the configured `baseUrl`; the Host header when `allowedHosts` lists it;
 * else the address and port the request arrived on, which is the server's own listening address.
 */
import type { TLSSocket } from 'node:tls';
import type { Request } from 'express';

export interface PublicBaseOptions {
  baseUrl?: string;
  allowedHosts?: readonly string[];
}

interface HostAndPort {
  /** Lower case; IPv6 addresses in brackets. */
  hostname: string;
  /** '' when none is given. */
  port: string;
}

/** The configured base URL, checked, without a trailing slash. */
export function normaliseBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new RangeError(`baseUrl "${baseUrl}" is not a URL: give the public address, e.g. https://images.example.org`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`baseUrl "${baseUrl}" must be http or https`);
  return url.toString().replace(/\/+$/, '');
}

const HOST_AND_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/;

/** A Host header value (`host` or `host:port`), or undefined when it is not one. */
export function parseHost(value: string): HostAndPort | undefined {
  const match = HOST_AND_PORT.exec(value.trim().toLowerCase());
  if (!match || (match[2] !== undefined && Number(match[2]) > 65535)) return undefined;
  return { hostname: match[1]!, port: match[2] ?? '' };
}

function checkedAllowedHosts(allowedHosts: readonly string[]): HostAndPort[] {
  return allowedHosts.map((entry) => {
    const parsed = typeof entry === 'string' ? parseHost(entry) : undefined;
    if (!parsed) {
      throw new RangeError(`allowedHosts entry "${String(entry)}" is not a host name or host:port (e.g. images.example.org or 192.168.1.20:8182; no scheme, no path)`);
    }
    return parsed;
  });
}

/** The address the connection came in on, as an origin: what this server listens on, whatever the client says. */
function ownOrigin(req: Request): string {
  const socket = req.socket;
  let address = socket.localAddress ?? '127.0.0.1';
  // A dual-stack socket reports IPv4 clients as IPv4-mapped IPv6.
  if (address.startsWith('::ffff:') && address.includes('.')) address = address.slice('::ffff:'.length);
  const host = address.includes(':') ? `[${address}]` : address;
  const scheme = (socket as TLSSocket).encrypted ? 'https' : 'http';
  const port = socket.localPort;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return `${scheme}://${host}${port && port !== defaultPort ? `:${port}` : ''}`;
}

/**
 * The function that gives a request's base URL (origin and mount path, no trailing slash).
 * Throws a RangeError naming the option when `baseUrl` or an `allowedHosts` entry is malformed.
 */
export function publicBase(options: PublicBaseOptions): (req: Request) => string {
  if (options.baseUrl !== undefined) {
    const fixed = normaliseBaseUrl(options.baseUrl);
    return () => fixed;
  }
  const allowed = checkedAllowedHosts(options.allowedHosts ?? []);
  return (req) => {
    const sent = parseHost(req.get('host') ?? '');
    // An entry without a port allows the host on any port; one with a port, that port only.
    const named = sent && allowed.some((a) => a.hostname === sent.hostname && (a.port === '' || a.port === sent.port));
    const origin = named ? `${req.protocol}://${sent.hostname}${sent.port ? `:${sent.port}` : ''}` : ownOrigin(req);
    return `${origin}${req.baseUrl}`;
  };
}
