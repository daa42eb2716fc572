/**
 * The HTTP client's resumable download, against real node:http servers on 127.0.0.1 that cut,
 * stall, ignore Range, change the resource between attempts and redirect to another origin.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHttpClient, type CreateHttpClientOptions } from '../../../common/http/client.ts';
import { HttpStatusError, NetworkError, TimeoutError, TooLargeError } from '../../../common/http/errors.ts';
import type { DownloadOptions, HttpClient } from '../../../common/http/types.ts';
import { PACKAGE_ROOT } from '../../../common/package-root.ts';

interface Seen {
  path: string;
  range?: string;
  ifRange?: string;
  authorization?: string;
  acceptEncoding?: string;
}

/** Serves one resource with Range and If-Range as a CDN does, and the faults a long download meets. */
class ResourceServer {
  body: Buffer;
  etag = '"v1"';
  readonly seen: Seen[] = [];
  /** The next full or ranged transfer sends this many bytes, then the connection is cut. */
  cutAfter?: number;
  /** The next transfer sends this many bytes, then goes silent. */
  stallAfter?: number;
  ignoreRange = false;
  /** Sent without Content-Length (chunked), so only counting can bound it. */
  chunked = false;
  /** Answers every request with a redirect to this URL. */
  redirectTo?: string;
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  url = '';

  constructor(body: Buffer) {
    this.body = body;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const h = req.headers;
    this.seen.push({
      path: req.url!,
      ...(h.range ? { range: h.range } : {}),
      ...(h['if-range'] ? { ifRange: h['if-range'] as string } : {}),
      ...(h.authorization ? { authorization: h.authorization } : {}),
      ...(h['accept-encoding'] ? { acceptEncoding: h['accept-encoding'] as string } : {}),
    });
    if (this.redirectTo) return void res.writeHead(302, { location: this.redirectTo }).end();
    const range = /^bytes=(\d+)-$/.exec(h.range ?? '');
    // If-Range: the range only while the resource is still the one the client has the start of.
    const rangeHolds = range && !this.ignoreRange && (h['if-range'] === undefined || h['if-range'] === this.etag);
    let start = 0;
    const headers: http.OutgoingHttpHeaders = { etag: this.etag, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    if (rangeHolds) {
      start = Number(range[1]);
      if (start >= this.body.length) return void res.writeHead(416, { 'content-range': `bytes */${this.body.length}` }).end();
      headers['content-range'] = `bytes ${start}-${this.body.length - 1}/${this.body.length}`;
    }
    if (!this.chunked) headers['content-length'] = this.body.length - start;
    res.writeHead(rangeHolds ? 206 : 200, headers);
    const rest = this.body.subarray(start);
    if (this.cutAfter !== undefined) {
      const n = this.cutAfter;
      this.cutAfter = undefined;
      res.write(rest.subarray(0, n), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (this.stallAfter !== undefined) {
      const n = this.stallAfter;
      this.stallAfter = undefined;
      res.write(rest.subarray(0, n));
      return; // never ends: the stall limit must drop it
    }
    res.end(rest);
  }
}

const BASE: CreateHttpClientOptions = {
  userAgent: 'Reprise-test/0.1 (+https://example.org/reprise)',
  concurrency: 4,
  perHostConcurrency: 2,
  perHostRatePerSecond: 1000,
  connectTimeoutMs: 1000,
  totalTimeoutMs: 1000,
  stallTimeoutMs: 2000,
  retries: 3,
  retryBaseDelayMs: 5,
  retryMaxDelayMs: 1000,
  maxRedirects: 3,
  maxJsonBytes: 1024,
  maxImageBytes: 1024,
  allowPrivate: ['127.0.0.1'],
};

describe('HttpClient.download', function () {
  this.timeout(20_000);
  const servers: ResourceServer[] = [];
  const clients: HttpClient[] = [];
  let dir: string;
  let file: string;

  async function serve(body: Buffer): Promise<ResourceServer> {
    const s = await new ResourceServer(body).start();
    servers.push(s);
    return s;
  }

  function client(overrides: Partial<CreateHttpClientOptions> = {}): HttpClient {
    const c = createHttpClient({ ...BASE, ...overrides });
    clients.push(c);
    return c;
  }

  /** The callbacks' story of one download. */
  function record() {
    const log = { starts: [] as number[], retries: [] as unknown[], chunks: [] as number[] };
    const opts: Partial<DownloadOptions> = {
      onResponse: ({ offset }) => log.starts.push(offset),
      onRetry: ({ error }) => log.retries.push(error),
      onChunk: (_chunk, fileBytes) => log.chunks.push(fileBytes),
    };
    return { log, opts };
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-download-'));
    file = path.join(dir, 'sub', 'weights.bin.partial');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a body into a file, with progress, and names what it got', async () => {
    const srv = await serve(randomBytes(200_000));
    const { log, opts } = record();
    const result = await client().download(`${srv.url}/w`, { file, maxBytes: 1_000_000, ...opts });
    assert.deepEqual(readFileSync(file), srv.body);
    assert.equal(result.bytes, 200_000);
    assert.equal(result.attempts, 1);
    assert.equal(result.validator, '"v1"');
    assert.deepEqual(log.starts, [0]);
    assert.equal(log.chunks.at(-1), 200_000);
    assert.ok(log.chunks.every((n, i) => i === 0 || n > log.chunks[i - 1]!), 'progress only grows');
    assert.equal(srv.seen[0]!.acceptEncoding, 'identity', 'a byte range counts the bytes as stored');
  });

  it('resumes a transfer cut mid-body with Range and If-Range, and completes it', async () => {
    const srv = await serve(randomBytes(300_000));
    srv.cutAfter = 120_000;
    const { log, opts } = record();
    const result = await client().download(`${srv.url}/w`, { file, maxBytes: 300_000, ...opts });
    assert.deepEqual(readFileSync(file), srv.body);
    assert.equal(result.attempts, 2);
    assert.equal(log.retries.length, 1);
    assert.ok(log.retries[0] instanceof NetworkError, String(log.retries[0]));
    const resumedAt = log.starts[1]!;
    assert.ok(resumedAt >= 100_000 && resumedAt <= 120_000, `resumed at ${resumedAt}`);
    assert.deepEqual(log.starts, [0, resumedAt]);
    assert.equal(srv.seen.length, 2);
    assert.equal(srv.seen[0]!.range, undefined);
    assert.equal(srv.seen[1]!.range, `bytes=${resumedAt}-`);
    assert.equal(srv.seen[1]!.ifRange, '"v1"', 'the resume names the version it continues');
  });

  it('resumes a file left by an earlier call, and sends the validator that call returned', async () => {
    const srv = await serve(randomBytes(100_000));
    const earlier = path.join(dir, 'earlier.partial');
    writeFileSync(earlier, srv.body.subarray(0, 40_000));
    const { log, opts } = record();
    await client().download(`${srv.url}/w`, { file: earlier, maxBytes: 100_000, ifRange: '"v1"', ...opts });
    assert.deepEqual(readFileSync(earlier), srv.body);
    assert.deepEqual(log.starts, [40_000]);
    assert.deepEqual(srv.seen.map((s) => [s.range, s.ifRange]), [['bytes=40000-', '"v1"']]);
  });

  it('starts over when a Range request is answered 200, replacing the old bytes', async () => {
    const srv = await serve(randomBytes(80_000));
    srv.ignoreRange = true;
    writeFileSync(path.join(dir, 'old.partial'), randomBytes(50_000));
    const { log, opts } = record();
    const result = await client().download(`${srv.url}/w`, { file: path.join(dir, 'old.partial'), maxBytes: 80_000, ...opts });
    assert.deepEqual(readFileSync(path.join(dir, 'old.partial')), srv.body);
    assert.equal(result.bytes, 80_000);
    assert.equal(srv.seen[0]!.range, 'bytes=50000-');
    assert.deepEqual(log.starts, [0], 'told that the file starts over');
  });

  it('starts over when the resource changed between attempts (If-Range), instead of mixing two versions', async () => {
    const srv = await serve(randomBytes(150_000));
    srv.cutAfter = 60_000;
    const { log, opts } = record();
    const changed = randomBytes(150_000);
    const result = await client().download(`${srv.url}/w`, {
      file,
      maxBytes: 150_000,
      ...opts,
      onRetry: () => {
        srv.body = changed;
        srv.etag = '"v2"';
      },
    });
    assert.deepEqual(readFileSync(file), changed);
    assert.equal(result.validator, '"v2"');
    assert.deepEqual(log.starts, [0, 0]);
    assert.equal(srv.seen[1]!.ifRange, '"v1"');
  });

  it('drops a transfer that stalls and resumes it', async () => {
    const srv = await serve(randomBytes(100_000));
    srv.stallAfter = 30_000;
    const { log, opts } = record();
    const started = performance.now();
    await client({ stallTimeoutMs: 300 }).download(`${srv.url}/w`, { file, maxBytes: 100_000, ...opts });
    assert.deepEqual(readFileSync(file), srv.body);
    assert.ok(log.retries[0] instanceof TimeoutError && log.retries[0].phase === 'stall', String(log.retries[0]));
    assert.match(String((log.retries[0] as Error).message), /no data for 300 ms while downloading/);
    assert.equal(srv.seen[1]!.range, 'bytes=30000-');
    assert.ok(performance.now() - started < 5000);
  });

  it('has no total time limit: a transfer longer than totalTimeoutMs that keeps moving completes', async () => {
    const body = randomBytes(20_000);
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(body.subarray(sent, sent + 2000));
        sent += 2000;
        if (sent >= body.length) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
      await client({ totalTimeoutMs: 200, stallTimeoutMs: 300, retries: 0 }).download(url, { file, maxBytes: 20_000 });
      assert.deepEqual(readFileSync(file), body);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses an announced size over the bound without reading the body, and does not retry', async () => {
    const srv = await serve(randomBytes(50_000));
    await assert.rejects(client().download(`${srv.url}/w`, { file, maxBytes: 10_000 }), (err: unknown) =>
      err instanceof TooLargeError && err.limitBytes === 10_000 && !err.retryable && !/harvest/.test(err.message));
    assert.equal(srv.seen.length, 1);
    assert.ok(!existsSync(file) || statSync(file).size === 0);
  });

  it('stops an unannounced body at the bound', async () => {
    const srv = await serve(randomBytes(50_000));
    srv.chunked = true;
    await assert.rejects(client().download(`${srv.url}/w`, { file, maxBytes: 10_000 }), TooLargeError);
    assert.equal(srv.seen.length, 1);
    assert.ok(statSync(file).size <= 10_000, 'nothing past the bound was written');
  });

  it('a file that already holds the whole body is answered 416 and left as it is', async () => {
    const srv = await serve(randomBytes(30_000));
    writeFileSync(path.join(dir, 'done.partial'), srv.body);
    const result = await client().download(`${srv.url}/w`, { file: path.join(dir, 'done.partial'), maxBytes: 30_000 });
    assert.equal(result.bytes, 30_000);
    assert.deepEqual(readFileSync(path.join(dir, 'done.partial')), srv.body);
    assert.deepEqual(srv.seen.map((s) => s.range), ['bytes=30000-']);
  });

  it('follows a redirect to another origin with the Range, but without the credentials', async () => {
    const cdn = await serve(randomBytes(60_000));
    const hub = await serve(Buffer.alloc(0));
    hub.redirectTo = `${cdn.url}/signed?sig=1`;
    cdn.cutAfter = 25_000;
    await client().download(`${hub.url}/resolve/w`, { file, maxBytes: 60_000, headers: { authorization: 'Bearer secret' } });
    assert.deepEqual(readFileSync(file), cdn.body);
    assert.ok(hub.seen.every((s) => s.authorization === 'Bearer secret'), 'the origin the token was written for gets it');
    assert.ok(cdn.seen.every((s) => s.authorization === undefined), 'the other origin does not');
    assert.equal(hub.seen.length, 2, 'each attempt starts at the URL asked for');
    assert.match(hub.seen[1]!.range!, /^bytes=\d+-$/);
    assert.equal(cdn.seen[1]!.range, hub.seen[1]!.range, 'the range travels with the redirect');
  });

  it('stops at once when the caller aborts, keeping what was written', async () => {
    const srv = await serve(randomBytes(200_000));
    srv.stallAfter = 100_000;
    const controller = new AbortController();
    const { log, opts } = record();
    await assert.rejects(
      client().download(`${srv.url}/w`, {
        file,
        maxBytes: 200_000,
        signal: controller.signal,
        ...opts,
        onChunk: (_chunk, fileBytes) => {
          if (fileBytes >= 50_000) controller.abort(new Error('pull cancelled'));
        },
      }),
      /pull cancelled/,
    );
    assert.equal(log.retries.length, 0);
    assert.equal(srv.seen.length, 1);
    assert.ok(statSync(file).size >= 50_000);
  });

  it('what a callback throws leaves as it was thrown, without a retry', async () => {
    const srv = await serve(randomBytes(40_000));
    const thrown = new Error('disk quota reached in the caller');
    const { log, opts } = record();
    await assert.rejects(
      client().download(`${srv.url}/w`, { file, maxBytes: 40_000, ...opts, onChunk: () => { throw thrown; } }),
      (err: unknown) => err === thrown,
    );
    assert.equal(log.retries.length, 0);
  });

  it('reports a 404 as a final HttpStatusError', async () => {
    const server = http.createServer((_req, res) => res.writeHead(404).end('no'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/missing`;
      await assert.rejects(client().download(url, { file, maxBytes: 10 }), (err: unknown) => err instanceof HttpStatusError && err.status === 404 && !err.retryable);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('importing common/index.ts does not load undici: worker threads import it too', () => {
    const script =
      "await import('./common/index.ts');" +
      "const { createRequire } = await import('node:module');" +
      "const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/node_modules/undici/'));" +
      'process.stdout.write(String(loaded.length));';
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
    assert.equal(out, '0');
  });
});
