/**
 * The harvester's HTTP client: fetches IIIF documents and images from servers nobody vouches for,
 * unattended, so every request is bounded in time, size, redirects and destination, and every failure
 * becomes one of the errors in errors.ts.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import {
  ContentTypeError,
  HarvestHttpError,
  HttpStatusError,
  NetworkError,
  SsrfError,
  TimeoutError,
  TooLargeError,
  TooManyRedirectsError,
} from './errors.ts';
import { HostLimiter, LimiterClosedError, QueueFullError } from './host-limiter.ts';
import { decideRetry, parseRetryAfter, sleep, type RetryPolicy } from './retry.ts';
import { createSsrfGuard, type Resolver, type SsrfGuard } from './ssrf-guard.ts';
import type { FetchOptions, FetchResult, HttpClient, HttpClientOptions, Validators } from './types.ts';

export interface CreateHttpClientOptions extends HttpClientOptions {
  /** Replaces DNS resolution (tests map fake names to chosen addresses); the SSRF check still applies. */
  lookup?: Resolver;
  /** Requests that may wait for a slot before new ones fail fast; see HostLimiter. */
  maxQueued?: number;
}

type Kind = 'json' | 'image';

/** IIIF servers that negotiate content give Presentation 3 when asked for it by profile. */
const ACCEPT: Record<Kind, string> = {
  json: 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json", application/json',
  image: 'image/jpeg, image/png, image/webp, image/*;q=0.8, application/octet-stream;q=0.5',
};

const ACCEPT_ENCODING = 'gzip, deflate, br';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Content-Encoding layers accepted on one response; more is never legitimate and costs CPU per layer. */
const MAX_ENCODINGS = 2;

export function createHttpClient(opts: CreateHttpClientOptions): HttpClient {
  validateOptions(opts);
  const guard = createSsrfGuard(opts.allowPrivate, opts.lookup);
  const limiter = new HostLimiter({
    concurrency: opts.concurrency,
    perHostConcurrency: opts.perHostConcurrency,
    perHostRatePerSecond: opts.perHostRatePerSecond,
    ...(opts.maxQueued !== undefined ? { maxQueued: opts.maxQueued } : {}),
  });
  const agent = new Agent({
    connect: { timeout: opts.connectTimeoutMs, lookup: guard.lookup },
    // Our own timer enforces the total; these only stop undici from applying its longer defaults.
    headersTimeout: opts.totalTimeoutMs,
    bodyTimeout: opts.totalTimeoutMs,
    connections: opts.perHostConcurrency,
  });
  const policy: RetryPolicy = {
    retries: opts.retries,
    baseDelayMs: opts.retryBaseDelayMs,
    maxDelayMs: opts.retryMaxDelayMs,
  };
  const ctx: Context = { opts, guard, limiter, agent };

  async function fetchWithRetries(url: string, kind: Kind, fetchOpts: FetchOptions = {}): Promise<FetchResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await fetchFollowingRedirects(ctx, url, fetchOpts.accept ?? kind, fetchOpts);
        return result.status === 'ok' ? { ...result, attempts: attempt } : result;
      } catch (err) {
        const decision = decideRetry(err, attempt - 1, policy);
        if (!decision.retry) throw decision.error;
        if (decision.hostPauseMs !== undefined && err instanceof HarvestHttpError) {
          limiter.defer(hostKey(new URL(err.url)), decision.hostPauseMs);
        }
        await sleep(decision.delayMs, fetchOpts.signal);
      }
    }
  }

  return {
    fetchJson: (url, fetchOpts) => fetchWithRetries(url, 'json', fetchOpts),
    fetchImage: (url, fetchOpts) => fetchWithRetries(url, 'image', fetchOpts),
    async close() {
      limiter.close();
      await agent.close();
    },
  };
}

interface Context {
  opts: CreateHttpClientOptions;
  guard: SsrfGuard;
  limiter: HostLimiter;
  agent: Agent;
}

type HopOutcome =
  | { type: 'redirect'; location: string }
  | { type: 'not-modified'; validators: Validators }
  | { type: 'ok'; body: Buffer; contentType: string; validators: Validators };

type AttemptResult =
  | { status: 'not-modified'; url: string; finalUrl: string; validators: Validators }
  | { status: 'ok'; url: string; finalUrl: string; body: Buffer; contentType: string; validators: Validators };

/** One attempt: follows redirects by hand so that every hop passes the SSRF check and the limiter. */
async function fetchFollowingRedirects(ctx: Context, url: string, kind: Kind, fetchOpts: FetchOptions): Promise<AttemptResult> {
  let current = parseUrl(url, url);
  for (let hop = 0; ; hop++) {
    const outcome = await exchange(ctx, current, kind, fetchOpts);
    if (outcome.type === 'ok') return { status: 'ok', url, finalUrl: current.href, ...omitType(outcome) };
    if (outcome.type === 'not-modified') return { status: 'not-modified', url, finalUrl: current.href, validators: outcome.validators };
    if (hop >= ctx.opts.maxRedirects) throw new TooManyRedirectsError(url, ctx.opts.maxRedirects);
    current = parseUrl(outcome.location, url, current);
  }
}

function omitType<T extends { type: string }>(value: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = value;
  return rest;
}

function parseUrl(text: string, original: string, base?: URL): URL {
  try {
    const url = new URL(text, base);
    url.hash = '';
    return url;
  } catch {
    const what = base ? `redirect from ${base.href} to "${text}"` : `"${text}"`;
    throw new HarvestHttpError(`cannot fetch ${what}: not a valid URL`, original, false);
  }
}

/** Per-host politeness applies to the server, whatever port it answers on. */
function hostKey(url: URL): string {
  return url.hostname.toLowerCase();
}

/** One request and response, under a host slot and the total timeout. */
async function exchange(ctx: Context, url: URL, kind: Kind, fetchOpts: FetchOptions): Promise<HopOutcome> {
  const { opts, guard, limiter, agent } = ctx;
  guard.checkUrl(url);
  const release = await acquire(limiter, url, fetchOpts.signal);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error('total timeout')), opts.totalTimeoutMs);
  // Linked by hand rather than with AbortSignal.any: one caller signal may outlive thousands of
  // requests, and the listener must go when this request does.
  const caller = fetchOpts.signal;
  const forward = () => deadline.abort(caller!.reason);
  if (caller?.aborted) forward();
  caller?.addEventListener('abort', forward, { once: true });
  const signal = deadline.signal;
  try {
    const res = await request(url, {
      dispatcher: agent,
      method: 'GET',
      headers: requestHeaders(opts.userAgent, kind, fetchOpts.validators),
      signal,
    });
    return await handleResponse(res, url, kind, fetchOpts.validators, opts);
  } catch (err) {
    throw translateError(err, url, { deadline: deadline.signal, caller, opts });
  } finally {
    caller?.removeEventListener('abort', forward);
    clearTimeout(timer);
    release();
  }
}

async function acquire(limiter: HostLimiter, url: URL, signal: AbortSignal | undefined) {
  try {
    return await limiter.acquire(hostKey(url), signal);
  } catch (err) {
    if (err instanceof QueueFullError) throw new HarvestHttpError(`cannot fetch ${url.href}: ${err.message}`, url.href, true, { cause: err });
    if (err instanceof LimiterClosedError) throw new HarvestHttpError(`cannot fetch ${url.href}: ${err.message}`, url.href, false, { cause: err });
    throw err;
  }
}

function requestHeaders(userAgent: string, kind: Kind, validators: Validators | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': userAgent,
    accept: ACCEPT[kind],
    'accept-encoding': ACCEPT_ENCODING,
  };
  if (validators?.etag) headers['if-none-match'] = validators.etag;
  if (validators?.lastModified) headers['if-modified-since'] = validators.lastModified;
  return headers;
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function responseValidators(res: Dispatcher.ResponseData, fallback: Validators = {}): Validators {
  const etag = header(res, 'etag') ?? fallback.etag;
  const lastModified = header(res, 'last-modified') ?? fallback.lastModified;
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

async function handleResponse(
  res: Dispatcher.ResponseData,
  url: URL,
  kind: Kind,
  sent: Validators | undefined,
  opts: HttpClientOptions,
): Promise<HopOutcome> {
  const status = res.statusCode;
  if (REDIRECT_STATUSES.has(status)) {
    const location = header(res, 'location');
    await discard(res);
    if (!location) throw new HttpStatusError(url.href, status, 'redirect without a Location header');
    return { type: 'redirect', location };
  }
  if (status === 304) {
    await discard(res);
    if (!sent?.etag && !sent?.lastModified) {
      throw new HttpStatusError(url.href, status, 'not modified, although this request was not conditional');
    }
    return { type: 'not-modified', validators: responseValidators(res, sent) };
  }
  if (status !== 200 && status !== 203) {
    await discard(res);
    // 206 and friends would hand back part of a body as if it were whole.
    const retryAfterMs = parseRetryAfter(header(res, 'retry-after'));
    throw new HttpStatusError(url.href, status, status >= 200 && status < 300 ? 'unexpected success status' : '', retryAfterMs);
  }

  const contentType = header(res, 'content-type')?.trim() ?? '';
  const limit = kind === 'json' ? opts.maxJsonBytes : opts.maxImageBytes;
  try {
    checkContentType(kind, contentType, url.href);
    const length = Number(header(res, 'content-length'));
    if (Number.isFinite(length) && length > limit) throw new TooLargeError(url.href, limit);
  } catch (err) {
    // Reading an unwanted body to the end only to reuse the connection is not worth it. Destroying
    // emits an AbortError nobody else listens for.
    res.body.on('error', () => {}).destroy();
    throw err;
  }
  const encodings = contentEncodings(header(res, 'content-encoding'), url.href);
  const raw = await readLimited(res.body, limit, url.href);
  const body = await decode(raw, encodings, limit, url.href);
  return { type: 'ok', body, contentType, validators: responseValidators(res) };
}

/** Drains a body we do not want so the connection can be reused; big ones are cut off instead. */
async function discard(res: Dispatcher.ResponseData): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    // The status already says what went wrong; a broken error body adds nothing.
  }
}

function checkContentType(kind: Kind, contentType: string, url: string): void {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (kind === 'json') {
    // Many IIIF servers send manifests as text/plain or without a type; HTML is a login or error page.
    const ok = type === '' || type === 'application/json' || type === 'application/ld+json' || type === 'text/plain' ||
      /^application\/[\w.-]+\+json$/.test(type);
    if (!ok) throw new ContentTypeError(url, contentType, 'JSON (application/json, application/ld+json or text/plain)');
  } else {
    // A missing type is left to the image decoder, which looks at the bytes anyway.
    const ok = type === '' || type.startsWith('image/') || type === 'application/octet-stream';
    if (!ok) throw new ContentTypeError(url, contentType, 'an image (image/* or application/octet-stream)');
  }
}

type Encoding = 'gzip' | 'deflate' | 'br';

function contentEncodings(value: string | undefined, url: string): Encoding[] {
  if (!value) return [];
  const codings = value.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
  if (codings.length > MAX_ENCODINGS) {
    throw new HarvestHttpError(`${url} is sent with ${codings.length} content encodings (${value}); at most ${MAX_ENCODINGS} are accepted`, url, false);
  }
  return codings.map((c) => {
    if (c === 'gzip' || c === 'x-gzip') return 'gzip';
    if (c === 'deflate' || c === 'br') return c;
    throw new HarvestHttpError(`${url} is sent with content-encoding "${c}", which this client did not ask for and cannot decode`, url, false);
  });
}

/** Counts while streaming, so an unannounced or lying length is stopped at the limit, not after. */
async function readLimited(body: AsyncIterable<Buffer>, limit: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early (throw) destroys the stream, and with it the connection.
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new TooLargeError(url, limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotliDecompress = promisify(zlib.brotliDecompress);

/**
 * Decodes in the thread pool with maxOutputLength, which stops zlib as soon as the output passes the
 * limit: a few kilobytes of gzip can expand to gigabytes.
 */
async function decode(raw: Buffer, encodings: Encoding[], limit: number, url: string): Promise<Buffer> {
  let data = raw;
  for (const encoding of [...encodings].reverse()) {
    try {
      if (encoding === 'gzip') data = await gunzip(data, { maxOutputLength: limit });
      else if (encoding === 'br') data = await brotliDecompress(data, { maxOutputLength: limit });
      // "deflate" means zlib-wrapped, but some servers send raw deflate; the zlib header tells them apart.
      else data = await (hasZlibHeader(data) ? inflate : inflateRaw)(data, { maxOutputLength: limit });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLargeError(url, limit);
      throw new HarvestHttpError(`${url} has a corrupt ${encoding} body: ${(err as Error).message}`, url, false, { cause: err });
    }
  }
  return data;
}

function hasZlibHeader(data: Buffer): boolean {
  if (data.length < 2) return false;
  const cmf = data[0]!;
  const flg = data[1]!;
  return (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function translateError(
  err: unknown,
  url: URL,
  state: { deadline: AbortSignal; caller: AbortSignal | undefined; opts: HttpClientOptions },
): unknown {
  // The caller's own cancellation is passed through untouched, as fetch() does.
  if (state.caller?.aborted) return state.caller.reason;
  // The guard's refusal comes out of the connect step, knowing only the host name.
  const refusal = findCause(err, SsrfError);
  if (refusal) return refusal.url === url.href ? refusal : new SsrfError(url.href, refusal.address);
  if (err instanceof HarvestHttpError) return err;
  if (state.deadline.aborted) return new TimeoutError(url.href, 'total', state.opts.totalTimeoutMs);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new TimeoutError(url.href, 'connect', state.opts.connectTimeoutMs);
  if (code && TIMEOUT_CODES.has(code)) return new TimeoutError(url.href, 'total', state.opts.totalTimeoutMs);
  return new NetworkError(url.href, err);
}

function findCause<T extends Error>(err: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof type) return e;
  }
  return undefined;
}

function validateOptions(opts: HttpClientOptions): void {
  const positiveInts: Array<keyof HttpClientOptions> = ['concurrency', 'perHostConcurrency', 'connectTimeoutMs', 'totalTimeoutMs', 'maxJsonBytes', 'maxImageBytes'];
  for (const key of positiveInts) {
    const v = opts[key] as number;
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`harvest.http.${key} must be a positive integer, got ${v}`);
  }
  const nonNegativeInts: Array<keyof HttpClientOptions> = ['retries', 'retryBaseDelayMs', 'retryMaxDelayMs', 'maxRedirects'];
  for (const key of nonNegativeInts) {
    const v = opts[key] as number;
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`harvest.http.${key} must be an integer of 0 or more, got ${v}`);
  }
  if (!(opts.perHostRatePerSecond > 0)) {
    throw new RangeError(`harvest.http.perHostRatePerSecond must be positive, got ${opts.perHostRatePerSecond}`);
  }
  // Servers block anonymous clients, and operators need to know whose harvester is calling.
  if (!opts.userAgent.trim() || /[\r\n]/.test(opts.userAgent)) {
    throw new RangeError('harvest.http.userAgent must be a non-empty single line identifying the harvester and a contact');
  }
}
