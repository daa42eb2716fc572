import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { FaultRules } from './faults.ts';
import { isResource, textReply, type Reply, type Resource, type RouteResult } from './reply.ts';
import type { StatsCounter } from './stats.ts';

/**
 * HTTP behaviour shared by every route: CORS, validators and 304s, gzip, counters, and the
 * injected faults. Listens on 127.0.0.1 only.
 */

export interface ServerDeps {
  route(pathname: string): Promise<RouteResult>;
  faults: FaultRules;
  stats: StatsCounter;
  gzip: boolean;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'ETag, Last-Modified, Link, Retry-After, Content-Length, Content-Encoding',
};

export class InstitutionServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly gzipCache = new Map<string, Buffer>();
  private closing?: Promise<void>;

  constructor(private readonly deps: ServerDeps) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) this.send(req, res, textReply(500, `institution bug: ${String(err)}`));
        else res.destroy();
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Also ends requests that a 'hang' fault is holding, which server.close() alone would wait for. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const pathname = new URL(req.url ?? '/', 'http://institution.invalid').pathname;
    const { stats } = this.deps;
    stats.request(pathname);

    if (method === 'OPTIONS') {
      return this.send(req, res, {
        status: 204,
        headers: {
          'access-control-allow-methods': 'GET, HEAD, OPTIONS',
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
          'access-control-max-age': '600',
        },
        body: Buffer.alloc(0),
      });
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return this.send(req, res, textReply(405, 'read-only institution', { allow: 'GET, HEAD, OPTIONS' }));
    }

    const fault = this.deps.faults.take(pathname);
    if (fault) {
      stats.fault();
      switch (fault.kind) {
        case 'hang':
          return; // answered by nobody; close() destroys the socket
        case 'reset':
          req.socket.resetAndDestroy();
          return;
        case '500':
        case '429':
        case '503': {
          const headers: Record<string, string> = {};
          if (fault.kind !== '500' && fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
          return this.send(req, res, textReply(Number(fault.kind), `injected fault ${fault.kind}`, headers));
        }
        case 'truncate':
          break; // applied to the body below
      }
    }

    const result = await this.deps.route(pathname);
    const truncate = fault?.kind === 'truncate';
    if (!isResource(result)) return this.send(req, res, result, truncate);

    const gzip = this.deps.gzip && acceptsGzip(req);
    if (isNotModified(req, result)) {
      const reply: Reply = { status: 304, headers: {}, body: Buffer.alloc(0) };
      return this.send(req, res, this.withValidators(reply, result, gzip), truncate);
    }
    const reply = await result.render();
    if (reply.status !== 200) return this.send(req, res, reply, truncate);
    return this.send(req, res, this.withValidators(reply, result, gzip), truncate);
  }

  /**
   * A gzipped body is another representation, so it gets its own strong ETag (as Apache does);
   * isNotModified accepts either spelling back.
   */
  private withValidators(reply: Reply, resource: Resource, gzip: boolean): Reply {
    const headers: Record<string, string> = {
      ...reply.headers,
      'last-modified': resource.lastModified.toUTCString(),
      // Revalidate every time: the institution changes under the harvester's feet.
      'cache-control': 'no-cache',
    };
    let { body } = reply;
    let etag = resource.etag;
    if (gzip && resource.compressible) {
      etag = `${etag.slice(0, -1)}-gzip"`;
      if (reply.status === 200 && body.length > 0) {
        let gz = this.gzipCache.get(etag);
        if (!gz) {
          gz = gzipSync(body);
          if (this.gzipCache.size > 1000) this.gzipCache.clear();
          this.gzipCache.set(etag, gz);
        }
        body = gz;
        headers['content-encoding'] = 'gzip';
      }
    }
    if (resource.compressible) headers.vary = 'Accept-Encoding';
    headers.etag = etag;
    return { ...reply, headers, body };
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply, truncate = false): void {
    if (res.destroyed) return;
    const head = req.method === 'HEAD';
    const headers: Record<string, string> = { ...CORS, ...reply.headers };
    if (reply.status !== 204 && reply.status !== 304) headers['content-length'] = String(reply.body.length);
    res.writeHead(reply.status, headers);
    this.deps.stats.response(req.method ?? 'GET', reply.status, reply.headers['content-type']);
    if (!truncate) {
      res.end(head ? undefined : reply.body);
      return;
    }
    // Content-Length promises the whole body; the connection dies halfway through it.
    const half = head ? Buffer.alloc(0) : reply.body.subarray(0, Math.floor(reply.body.length / 2));
    res.write(half, () => res.socket?.destroy());
    if (half.length === 0) res.socket?.destroy();
  }
}

function acceptsGzip(req: http.IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    if (coding?.trim().toLowerCase() !== 'gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function normalizeEtag(tag: string): string {
  return tag.trim().replace(/^W\//, '').replace(/-gzip"$/, '"');
}

function isNotModified(req: http.IncomingMessage, resource: Resource): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    // Weak comparison, as RFC 9110 asks for If-None-Match.
    return inm.split(',').some((t) => t.trim() === '*' || normalizeEtag(t) === resource.etag);
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(resource.lastModified.getTime() / 1000) <= Math.floor(since / 1000);
}
