/**
 * Against real node:http servers on 127.0.0.1. Nothing here connects anywhere else: names that map to
 * private or metadata addresses come from an injected resolver, and the guard refuses them before any
 * connection is attempted (each such test first checks the guard's verdict on its own).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import { createHttpClient, type CreateHttpClientOptions } from '../../../common/http/client.ts';
import {
  ContentTypeError,
  HttpError,
  HttpStatusError,
  NetworkError,
  SsrfError,
  TimeoutError,
  TooLargeError,
  TooManyRedirectsError,
} from '../../../common/http/errors.ts';
import { createSsrfGuard, type Resolver } from '../../../common/http/ssrf-guard.ts';
import type { HttpClient, HttpClientOptions } from '../../../common/http/types.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

interface TestServer {
  port: number;
  url(path?: string): string;
  requests: Array<{ path: string; headers: http.IncomingHttpHeaders }>;
  connections: number;
  /** Highest number of requests being answered at once. */
  maxConcurrent: number;
}

const servers: http.Server[] = [];
const clients: HttpClient[] = [];

async function startServer(handler: Handler, host = '127.0.0.1'): Promise<TestServer> {
  const state: TestServer = { port: 0, url: () => '', requests: [], connections: 0, maxConcurrent: 0 };
  let concurrent = 0;
  const server = http.createServer((req, res) => {
    state.requests.push({ path: req.url ?? '', headers: req.headers });
    concurrent++;
    state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);
    res.on('close', () => concurrent--);
    handler(req, res, state.requests.length);
  });
  server.on('connection', (_socket: Socket) => state.connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = (path = '/') => `http://${host}:${state.port}${path}`;
  return state;
}

const BASE: HttpClientOptions = {
  userAgent: 'Reprise-test/0.1 (+https://example.org/reprise; harvest@example.org)',
  concurrency: 8,
  perHostConcurrency: 4,
  perHostRatePerSecond: 1000,
  connectTimeoutMs: 1000,
  totalTimeoutMs: 1000,
  retries: 2,
  retryBaseDelayMs: 10,
  retryMaxDelayMs: 2000,
  maxRedirects: 3,
  maxJsonBytes: 64 * 1024,
  maxImageBytes: 256 * 1024,
  allowPrivate: ['127.0.0.1'],
};

function client(overrides: Partial<CreateHttpClientOptions> = {}): HttpClient {
  const c = createHttpClient({ ...BASE, ...overrides });
  clients.push(c);
  return c;
}

function json(res: http.ServerResponse, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { 'content-type': 'application/ld+json', ...headers });
  res.end(JSON.stringify(body));
}

function elapsedSince(start: number): number {
  return performance.now() - start;
}

describe('createHttpClient', function () {
  this.timeout(10_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    })));
  });

  describe('success and headers', () => {
    it('fetches JSON with its type, validators, final URL and attempt count', async () => {
      const srv = await startServer((_req, res) => json(res, { id: 'x' }, { etag: '"v1"' }));
      const result = await client().fetchJson(srv.url('/manifest.json#frag'));
      assert.equal(result.status, 'ok');
      if (result.status !== 'ok') return;
      assert.deepEqual(JSON.parse(result.body.toString()), { id: 'x' });
      assert.equal(result.contentType, 'application/ld+json');
      assert.equal(result.finalUrl, srv.url('/manifest.json'));
      assert.equal(result.url, srv.url('/manifest.json#frag'));
      assert.deepEqual(result.validators, { etag: '"v1"' });
      assert.equal(result.attempts, 1);
    });

    it('sends an identifying User-Agent and IIIF-aware Accept headers', async () => {
      const srv = await startServer((req, res) => {
        if (req.url === '/img') {
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          res.end(Buffer.from([0xff, 0xd8, 0xff]));
        } else json(res, {});
      });
      const c = client();
      await c.fetchJson(srv.url('/m'));
      await c.fetchImage(srv.url('/img'));
      const [m, img] = srv.requests;
      assert.equal(m!.headers['user-agent'], BASE.userAgent);
      assert.equal(img!.headers['user-agent'], BASE.userAgent);
      assert.match(m!.headers.accept!, /^application\/ld\+json;profile="http:\/\/iiif\.io\/api\/presentation\/3\/context\.json", application\/json/);
      assert.match(img!.headers.accept!, /image\/\*/);
      assert.equal(m!.headers['accept-encoding'], 'gzip, deflate, br');
      assert.equal(m!.headers['if-none-match'], undefined);
    });
  });

  describe('retries', () => {
    it('retries 500 twice, then succeeds on the third attempt', async () => {
      const srv = await startServer((_req, res, n) => {
        if (n <= 2) { res.writeHead(500); res.end('oops'); } else json(res, { ok: true });
      });
      const result = await client().fetchJson(srv.url());
      assert.equal(result.status, 'ok');
      assert.equal(result.status === 'ok' && result.attempts, 3);
      assert.equal(srv.requests.length, 3);
    });

    it('gives up after the configured retries with the last status', async () => {
      const srv = await startServer((_req, res) => { res.writeHead(502); res.end(); });
      await assert.rejects(client({ retries: 1 }).fetchJson(srv.url('/m')), (err: unknown) =>
        err instanceof HttpStatusError && err.status === 502 && err.retryable && err.url === srv.url('/m'));
      assert.equal(srv.requests.length, 2);
    });

    it('does not retry 404', async () => {
      const srv = await startServer((_req, res) => { res.writeHead(404); res.end('no'); });
      await assert.rejects(client().fetchJson(srv.url('/missing')), (err: unknown) =>
        err instanceof HttpStatusError && err.status === 404 && !err.retryable && /HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/missing/.test(err.message));
      assert.equal(srv.requests.length, 1);
    });

    it('waits for Retry-After on 429, then succeeds', async () => {
      const srv = await startServer((_req, res, n) => {
        if (n === 1) { res.writeHead(429, { 'retry-after': '1' }); res.end(); } else json(res, {});
      });
      const start = performance.now();
      const result = await client().fetchJson(srv.url());
      const elapsed = elapsedSince(start);
      assert.equal(result.status === 'ok' && result.attempts, 2);
      assert.ok(elapsed >= 900, `retried after ${elapsed} ms`);
      assert.ok(elapsed < 3000, `retried after ${elapsed} ms`);
    });

    it('fails fast when Retry-After asks for longer than retryMaxDelayMs', async () => {
      const srv = await startServer((_req, res) => { res.writeHead(503, { 'retry-after': '3600' }); res.end(); });
      const start = performance.now();
      await assert.rejects(client().fetchJson(srv.url()), (err: unknown) =>
        err instanceof HttpStatusError && err.status === 503 && err.retryable && err.retryAfterMs === 3_600_000 &&
        /retry after 3600 s, longer than retryMaxDelayMs/.test(err.message));
      assert.ok(elapsedSince(start) < 500);
      assert.equal(srv.requests.length, 1);
    });

    it('reports a refused connection as a retryable NetworkError', async () => {
      const srv = await startServer(() => {});
      const url = srv.url('/gone');
      await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
      await assert.rejects(client({ retries: 1 }).fetchJson(url), (err: unknown) =>
        err instanceof NetworkError && err.retryable && err.url === url && /network error fetching/.test(err.message));
    });

    it('stops at once when the caller aborts, without retrying', async () => {
      const srv = await startServer(() => { /* never answers */ });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('harvest cancelled')), 100);
      const start = performance.now();
      await assert.rejects(client().fetchJson(srv.url(), { signal: controller.signal }), /harvest cancelled/);
      assert.ok(elapsedSince(start) < 800);
      assert.equal(srv.requests.length, 1);
    });
  });

  describe('timeouts', () => {
    it('times out a server that never answers, retrying within the budget', async () => {
      const srv = await startServer(() => { /* never answers */ });
      const start = performance.now();
      await assert.rejects(client({ totalTimeoutMs: 250, retries: 1 }).fetchJson(srv.url()), (err: unknown) =>
        err instanceof TimeoutError && err.phase === 'total' && err.retryable && /took longer than 250 ms/.test(err.message));
      const elapsed = elapsedSince(start);
      // Two attempts of 250 ms and a backoff of at most 10 ms.
      assert.ok(elapsed >= 490 && elapsed < 1200, `gave up after ${elapsed} ms`);
      assert.equal(srv.requests.length, 2);
    });

    it('times out a body that stalls after the headers', async () => {
      const srv = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"items": [');
      });
      const start = performance.now();
      await assert.rejects(client({ totalTimeoutMs: 300, retries: 0 }).fetchJson(srv.url()), TimeoutError);
      const elapsed = elapsedSince(start);
      assert.ok(elapsed >= 290 && elapsed < 1000, `gave up after ${elapsed} ms`);
    });

    it('times out a body that trickles in without ever stalling', async () => {
      const srv = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        const timer = setInterval(() => res.write('x'), 20);
        res.on('close', () => clearInterval(timer));
      });
      const start = performance.now();
      await assert.rejects(client({ totalTimeoutMs: 300, retries: 0 }).fetchImage(srv.url()), TimeoutError);
      assert.ok(elapsedSince(start) < 1000);
    });

    it('times out a connection that cannot be set up', async () => {
      // A resolver that never answers holds the connect step open without leaving loopback.
      const lookup: Resolver = () => new Promise(() => {});
      const start = performance.now();
      const c = client({ lookup, connectTimeoutMs: 200, totalTimeoutMs: 5000, retries: 0 });
      await assert.rejects(c.fetchJson('http://stuck.test/'), (err: unknown) =>
        err instanceof TimeoutError && err.phase === 'connect' && /connecting to http:\/\/stuck\.test\/ took longer than 200 ms/.test(err.message));
      // undici checks connect timeouts on a coarse (~0.5 s) tick.
      assert.ok(elapsedSince(start) < 2000);
    });

    it('reports a name that does not resolve as a NetworkError, without retrying it in this run', async () => {
      let lookups = 0;
      const lookup: Resolver = async (hostname) => {
        lookups++;
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      };
      await assert.rejects(client({ lookup, retries: 2 }).fetchJson('http://nowhere.test/'), (err: unknown) =>
        err instanceof NetworkError && err.code === 'ENOTFOUND' && err.retryable && /ENOTFOUND nowhere\.test/.test(err.message));
      assert.equal(lookups, 1);
    });
  });

  describe('conditional requests', () => {
    it('round-trips an ETag into not-modified', async () => {
      const srv = await startServer((req, res) => {
        if (req.headers['if-none-match'] === '"abc"') { res.writeHead(304, { etag: '"abc"' }); res.end(); } else json(res, {}, { etag: '"abc"' });
      });
      const c = client();
      const first = await c.fetchJson(srv.url());
      assert.equal(first.status, 'ok');
      const second = await c.fetchJson(srv.url(), { validators: first.validators });
      assert.deepEqual(second, { status: 'not-modified', url: srv.url(), finalUrl: srv.url(), validators: { etag: '"abc"' } });
    });

    it('round-trips Last-Modified into not-modified', async () => {
      const stamp = 'Tue, 01 Apr 2025 10:00:00 GMT';
      const srv = await startServer((req, res) => {
        if (req.headers['if-modified-since'] === stamp) { res.writeHead(304); res.end(); } else json(res, {}, { 'last-modified': stamp });
      });
      const c = client();
      const first = await c.fetchJson(srv.url());
      assert.deepEqual(first.validators, { lastModified: stamp });
      const second = await c.fetchJson(srv.url(), { validators: first.validators });
      assert.equal(second.status, 'not-modified');
      assert.deepEqual(second.validators, { lastModified: stamp });
      assert.equal(srv.requests[1]!.headers['if-none-match'], undefined);
    });

    it('treats a 304 to an unconditional request as an error', async () => {
      const srv = await startServer((_req, res) => { res.writeHead(304); res.end(); });
      await assert.rejects(client().fetchJson(srv.url()), (err: unknown) => err instanceof HttpStatusError && err.status === 304);
    });
  });

  describe('content encodings and size limits', () => {
    const doc = Buffer.from(JSON.stringify({ label: 'x'.repeat(2000) }));

    it('decodes gzip, deflate (zlib-wrapped and raw) and br', async () => {
      const bodies: Record<string, [string, Buffer]> = {
        '/gzip': ['gzip', zlib.gzipSync(doc)],
        '/deflate': ['deflate', zlib.deflateSync(doc)],
        '/raw-deflate': ['deflate', zlib.deflateRawSync(doc)],
        '/br': ['br', zlib.brotliCompressSync(doc)],
      };
      const srv = await startServer((req, res) => {
        const [encoding, body] = bodies[req.url!]!;
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': body.length });
        res.end(body);
      });
      const c = client();
      for (const path of Object.keys(bodies)) {
        const result = await c.fetchJson(srv.url(path));
        assert.ok(result.status === 'ok' && result.body.equals(doc), path);
      }
    });

    it('refuses an announced Content-Length over the limit without reading the body', async () => {
      const srv = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1024 * 1024 });
        res.write(Buffer.alloc(1024));
      });
      await assert.rejects(client().fetchJson(srv.url('/big')), (err: unknown) =>
        err instanceof TooLargeError && err.limitBytes === BASE.maxJsonBytes && !err.retryable && /65536-byte limit/.test(err.message));
      assert.equal(srv.requests.length, 1);
    });

    it('stops a chunked body without a length at the limit', async () => {
      let sent = 0;
      const srv = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'image/png' });
        const chunk = Buffer.alloc(16 * 1024);
        const push = () => {
          // Far more than the limit if nobody stops it.
          while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
          if (sent < 64 * 1024 * 1024 && !res.destroyed) res.once('drain', push);
        };
        res.on('error', () => {});
        push();
      });
      await assert.rejects(client().fetchImage(srv.url()), (err: unknown) =>
        err instanceof TooLargeError && err.limitBytes === BASE.maxImageBytes);
      assert.ok(sent < 16 * 1024 * 1024, `server managed to send ${sent} bytes`);
    });

    const compressors: Record<string, (b: Buffer) => Buffer> = {
      gzip: (b) => zlib.gzipSync(b),
      br: (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }),
    };
    for (const [encoding, compress] of Object.entries(compressors)) {
      it(`stops a ${encoding} bomb at the decoded limit`, async () => {
        const bomb = compress(Buffer.alloc(4 * 1024 * 1024));
        assert.ok(bomb.length < BASE.maxJsonBytes, 'compressed size must pass the raw check');
        const srv = await startServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': bomb.length });
          res.end(bomb);
        });
        await assert.rejects(client().fetchJson(srv.url()), TooLargeError);
      });
    }

    it('reports a corrupt gzip body without retrying', async () => {
      const srv = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end('definitely not gzip');
      });
      await assert.rejects(client().fetchJson(srv.url()), (err: unknown) =>
        err instanceof HttpError && !err.retryable && /corrupt gzip body/.test(err.message));
      assert.equal(srv.requests.length, 1);
    });
  });

  describe('content types', () => {
    const types: Record<string, string | undefined> = {
      '/html': 'text/html; charset=utf-8',
      '/plain': 'text/plain; charset=utf-8',
      '/json': 'application/json',
      '/octet': 'application/octet-stream',
      '/jpeg': 'image/jpeg',
      '/none': undefined,
    };
    let srv: TestServer;
    beforeEach(async () => {
      srv = await startServer((req, res) => {
        const type = types[req.url!];
        res.writeHead(200, type ? { 'content-type': type } : {});
        res.end('{}');
      });
    });

    it('accepts JSON as application/json, text/plain or untyped, and refuses HTML', async () => {
      const c = client();
      for (const path of ['/json', '/plain', '/none']) assert.equal((await c.fetchJson(srv.url(path))).status, 'ok', path);
      await assert.rejects(c.fetchJson(srv.url('/html')), (err: unknown) =>
        err instanceof ContentTypeError && err.contentType === 'text/html; charset=utf-8' && !err.retryable && /expected JSON/.test(err.message));
      await assert.rejects(c.fetchJson(srv.url('/jpeg')), ContentTypeError);
    });

    it('accepts images as image/* or application/octet-stream, and refuses HTML', async () => {
      const c = client();
      for (const path of ['/jpeg', '/octet']) assert.equal((await c.fetchImage(srv.url(path))).status, 'ok', path);
      await assert.rejects(c.fetchImage(srv.url('/html')), (err: unknown) =>
        err instanceof ContentTypeError && /expected an image/.test(err.message));
      await assert.rejects(c.fetchImage(srv.url('/json')), ContentTypeError);
    });
  });

  describe('redirects', () => {
    let srv: TestServer;
    beforeEach(async () => {
      srv = await startServer((req, res) => {
        const m = /^\/hop\/(\d+)$/.exec(req.url!);
        if (m) {
          const left = Number(m[1]);
          // Relative and absolute Location headers, both legal.
          const location = left === 0 ? '/final' : left % 2 ? `/hop/${left - 1}` : srv.url(`/hop/${left - 1}`);
          res.writeHead(left % 2 ? 302 : 301, { location });
          res.end();
        } else if (req.url === '/elsewhere') {
          res.writeHead(307, { location: `http://127.0.0.2:${srv.port}/final` });
          res.end();
        } else if (req.url === '/file') {
          res.writeHead(302, { location: 'file:///etc/passwd' });
          res.end();
        } else json(res, { final: true });
      });
    });

    it('follows a chain within maxRedirects and reports the final URL', async () => {
      const result = await client().fetchJson(srv.url('/hop/2'));
      assert.equal(result.status, 'ok');
      assert.equal(result.finalUrl, srv.url('/final'));
      assert.equal(srv.requests.length, 4);
    });

    it('refuses a chain longer than maxRedirects', async () => {
      await assert.rejects(client().fetchJson(srv.url('/hop/3')), (err: unknown) =>
        err instanceof TooManyRedirectsError && err.max === 3 && err.url === srv.url('/hop/3') && !err.retryable);
      assert.equal(srv.requests.length, 4);
    });

    it('checks every hop: a redirect to a loopback address not allowed is refused', async () => {
      await assert.rejects(client({ allowPrivate: ['127.0.0.1/32'] }).fetchJson(srv.url('/elsewhere')), (err: unknown) =>
        err instanceof SsrfError && err.address === '127.0.0.2' && err.url === `http://127.0.0.2:${srv.port}/final`);
      assert.equal(srv.requests.length, 1);
    });

    it('refuses a redirect to another scheme', async () => {
      await assert.rejects(client().fetchJson(srv.url('/file')), /only http: and https:/);
    });
  });

  describe('SSRF', () => {
    it('refuses loopback unless allowed, before connecting', async () => {
      const srv = await startServer((_req, res) => json(res, {}));
      await assert.rejects(client({ allowPrivate: [] }).fetchJson(srv.url()), (err: unknown) =>
        err instanceof SsrfError && err.address === '127.0.0.1' && !err.retryable && /allowPrivate/.test(err.message));
      assert.equal(srv.connections, 0);
    });

    it('allows a private host by name', async () => {
      const srv = await startServer((_req, res) => json(res, {}));
      const lookup: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
      const c = client({ allowPrivate: ['harvest-source.test'], lookup });
      assert.equal((await c.fetchJson(`http://harvest-source.test:${srv.port}/`)).status, 'ok');
      await assert.rejects(client({ allowPrivate: [], lookup }).fetchJson(`http://harvest-source.test:${srv.port}/`), SsrfError);
    });

    const names: Record<string, string[]> = {
      'metadata.test': ['169.254.169.254'],
      'intranet.test': ['10.0.0.1'],
      'mapped.test': ['::ffff:10.0.0.1'],
      'ec2v6.test': ['fd00:ec2::254'],
      // The allowed loopback address must not carry the private one through.
      'mixed.test': ['127.0.0.1', '10.0.0.1'],
    };
    const lookup: Resolver = async (hostname) =>
      (names[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

    for (const [name, addresses] of Object.entries(names)) {
      const refused = addresses.find((a) => a !== '127.0.0.1')!;
      it(`refuses ${name} resolving to ${refused} without connecting`, async () => {
        // Never hand the client an address the guard would let through: that would leave loopback.
        assert.equal(createSsrfGuard(BASE.allowPrivate, lookup).verdict(refused, name).allowed, false);
        const srv = await startServer((_req, res) => json(res, {}));
        const url = `http://${name}:${srv.port}/manifest`;
        await assert.rejects(client({ lookup }).fetchJson(url), (err: unknown) =>
          err instanceof SsrfError && err.address === refused && err.url === url && !err.retryable);
        assert.equal(srv.connections, 0);
      });
    }
  });

  describe('politeness', () => {
    it('never exceeds the per-host concurrency', async () => {
      const srv = await startServer((_req, res) => setTimeout(() => json(res, {}), 60));
      const c = client({ perHostConcurrency: 2, concurrency: 8 });
      await Promise.all(Array.from({ length: 6 }, (_, i) => c.fetchJson(srv.url(`/${i}`))));
      assert.equal(srv.requests.length, 6);
      assert.equal(srv.maxConcurrent, 2);
    });

    it('respects the per-host rate', async () => {
      const srv = await startServer((_req, res) => json(res, {}));
      const rate = 10;
      const n = 5;
      const c = client({ perHostRatePerSecond: rate });
      const start = performance.now();
      await Promise.all(Array.from({ length: n }, (_, i) => c.fetchJson(srv.url(`/${i}`))));
      const elapsed = elapsedSince(start);
      assert.ok(elapsed >= ((n - 1) / rate) * 1000, `${n} requests took ${elapsed} ms`);
    });

    it('rejects invalid options with the option name', () => {
      assert.throws(() => createHttpClient({ ...BASE, perHostConcurrency: 0 }), /harvest\.http\.perHostConcurrency/);
      assert.throws(() => createHttpClient({ ...BASE, userAgent: ' ' }), /userAgent/);
      assert.throws(() => createHttpClient({ ...BASE, allowPrivate: ['10.0.0.0/99'] }), /allowPrivate/);
    });
  });
});
