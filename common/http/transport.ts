/**
 * One request of the HTTP client, hop by hop. Redirects are followed by hand so that every hop
 * passes the SSRF check and takes a host slot, and credentials stay with the origin they were
 * written for; each hop is bounded in time; and every failure leaves as one of errors.ts's.
 *
 * undici is loaded on the first request, not with this module: common/index.ts is also what
 * worker threads import, and they should not pay for an HTTP stack they never use.
 */
import type { Agent, Dispatcher } from 'undici';
import { RepriseError } from '../errors.ts';
import { HttpError, HttpStatusError, NetworkError, SsrfError, TimeoutError, TooManyRedirectsError } from './errors.ts';
import { HostLimiter, LimiterClosedError, QueueFullError } from './host-limiter.ts';
import { parseRetryAfter } from '../retry.ts';
import type { SsrfGuard } from './ssrf-guard.ts';
import type { ResponseHeaders } from './types.ts';

export interface Transport {
  guard: SsrfGuard;
  limiter: HostLimiter;
  maxRedirects: number;
  connectTimeoutMs: number;
  /** The connection pool, made on first use. */
  undici(): Promise<{ agent: Agent; request: typeof import('undici').request }>;
}

/**
 * How long one hop may take. `totalMs`: the whole exchange (documents, images); `responseMs`: until
 * the response headers; `stallMs`: between two chunks of the body (downloads, which have no total).
 */
export interface HopLimits {
  totalMs?: number;
  responseMs: number;
  stallMs?: number;
}

export interface HopRequest {
  headers: Record<string, string>;
  limits: HopLimits;
  signal?: AbortSignal;
}

/** A response being handled, with its host slot and timers still held. */
export interface Hop {
  url: URL;
  res: Dispatcher.ResponseData;
  /** Re-arms the stall limit: call as each chunk of the body arrives. */
  alive(): void;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Headers that carry the caller's identity: for the origin they were written for only. */
const CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * Sends the request, follows redirects, and hands the final response to `handle` while its slot and
 * time limits still hold; what `handle` returns is the result, what it throws leaves translated.
 */
export async function exchange<T>(
  transport: Transport,
  url: string,
  request: HopRequest,
  handle: (hop: Hop) => Promise<T>,
): Promise<{ value: T; finalUrl: string }> {
  let current = parseUrl(url, url);
  let headers = request.headers;
  for (let hop = 0; ; hop++) {
    const outcome = await oneHop(transport, current, { ...request, headers }, handle);
    if (outcome.type === 'done') return { value: outcome.value, finalUrl: current.href };
    if (hop >= transport.maxRedirects) throw new TooManyRedirectsError(url, transport.maxRedirects);
    const next = parseUrl(outcome.location, url, current);
    // The Hugging Face hub sends its downloads to a CDN: the hub's token must not follow them there.
    if (next.origin !== current.origin) headers = withoutCredentials(headers);
    current = next;
  }
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIALS.includes(name.toLowerCase())));
}

function parseUrl(text: string, original: string, base?: URL): URL {
  try {
    const url = new URL(text, base);
    url.hash = '';
    return url;
  } catch {
    const what = base ? `redirect from ${base.href} to "${text}"` : `"${text}"`;
    throw new HttpError(`cannot fetch ${what}: not a valid URL`, original, false);
  }
}

/** Per-host politeness applies to the server, whatever port it answers on. */
export function hostKey(url: URL): string {
  return url.hostname.toLowerCase();
}

type HopOutcome<T> = { type: 'redirect'; location: string } | { type: 'done'; value: T };

async function oneHop<T>(transport: Transport, url: URL, request: HopRequest, handle: (hop: Hop) => Promise<T>): Promise<HopOutcome<T>> {
  transport.guard.checkUrl(url);
  const release = await acquire(transport.limiter, url, request.signal);
  const limits = request.limits;
  const deadline = new HopDeadline(url, limits);
  // Linked by hand rather than with AbortSignal.any: one caller signal may outlive thousands of
  // requests, and the listener must go when this request does.
  const caller = request.signal;
  const forward = () => deadline.abort(caller!.reason);
  if (caller?.aborted) forward();
  caller?.addEventListener('abort', forward, { once: true });
  try {
    const { agent, request: send } = await transport.undici();
    const res = await send(url, {
      dispatcher: agent,
      method: 'GET',
      headers: request.headers,
      signal: deadline.signal,
      // Our own timers enforce the limits; these only keep undici from applying its longer defaults.
      headersTimeout: limits.totalMs ?? limits.responseMs,
      bodyTimeout: limits.stallMs ?? limits.totalMs,
    });
    deadline.headersArrived();
    if (REDIRECT_STATUSES.has(res.statusCode)) {
      const location = header(res, 'location');
      await discard(res);
      if (!location) throw new HttpStatusError(url.href, res.statusCode, 'redirect without a Location header');
      return { type: 'redirect', location };
    }
    return { type: 'done', value: await handle({ url, res, alive: () => deadline.alive() }) };
  } catch (err) {
    throw translateError(err, url, { deadline, caller, limits, connectTimeoutMs: transport.connectTimeoutMs });
  } finally {
    caller?.removeEventListener('abort', forward);
    deadline.dispose();
    release();
  }
}

/** The limits of one hop as timers that abort it, each with the TimeoutError that says which ran out. */
class HopDeadline {
  private readonly controller = new AbortController();
  private readonly total?: NodeJS.Timeout;
  private phase?: NodeJS.Timeout;

  constructor(
    private readonly url: URL,
    private readonly limits: HopLimits,
  ) {
    if (limits.totalMs !== undefined) this.total = setTimeout(() => this.expire('total', limits.totalMs!), limits.totalMs);
    // Shorter than the total, or it would only race it.
    if (limits.totalMs === undefined || limits.responseMs < limits.totalMs) {
      this.phase = setTimeout(() => this.expire('response', limits.responseMs), limits.responseMs);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.controller.abort(reason);
  }

  headersArrived(): void {
    clearTimeout(this.phase);
    this.phase = undefined;
    this.alive();
  }

  alive(): void {
    if (this.limits.stallMs === undefined) return;
    clearTimeout(this.phase);
    this.phase = setTimeout(() => this.expire('stall', this.limits.stallMs!), this.limits.stallMs);
  }

  dispose(): void {
    clearTimeout(this.total);
    clearTimeout(this.phase);
  }

  private expire(phase: 'total' | 'response' | 'stall', ms: number): void {
    this.controller.abort(new TimeoutError(this.url.href, phase, ms));
  }
}

async function acquire(limiter: HostLimiter, url: URL, signal: AbortSignal | undefined) {
  try {
    return await limiter.acquire(hostKey(url), signal);
  } catch (err) {
    if (err instanceof QueueFullError) throw new HttpError(`cannot fetch ${url.href}: ${err.message}`, url.href, true, { cause: err });
    if (err instanceof LimiterClosedError) throw new HttpError(`cannot fetch ${url.href}: ${err.message}`, url.href, false, { cause: err });
    throw err;
  }
}

export function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function responseHeaders(res: Dispatcher.ResponseData): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Drains a body we do not want so the connection can be reused; big ones are cut off instead. */
export async function discard(res: Dispatcher.ResponseData): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    // The status already says what went wrong; a broken error body adds nothing.
  }
}

/** Drops a body without reading it: reading an unwanted body to the end only to reuse the connection is not worth it. */
export function abandon(res: Dispatcher.ResponseData): void {
  // Destroying emits an AbortError nobody else listens for.
  res.body.on('error', () => {}).destroy();
}

/** A status the caller did not expect, as an error that carries the server's Retry-After. */
export async function statusError(res: Dispatcher.ResponseData, url: URL, detail = ''): Promise<HttpStatusError> {
  await discard(res);
  const status = res.statusCode;
  return new HttpStatusError(url.href, status, detail || (status >= 200 && status < 300 ? 'unexpected success status' : ''), parseRetryAfter(header(res, 'retry-after')));
}

/** What the caller's own callback threw while a response was handled: it leaves as it was thrown, never retried. */
export class CallbackFailure extends Error {
  constructor(readonly error: unknown) {
    super('a callback failed');
  }
}

/** Calls back the caller from inside a hop, where anything thrown would otherwise pass for a network error. */
export function callBack(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new CallbackFailure(err);
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function translateError(
  err: unknown,
  url: URL,
  state: { deadline: HopDeadline; caller: AbortSignal | undefined; limits: HopLimits; connectTimeoutMs: number },
): unknown {
  // The caller's own cancellation is passed through untouched, as fetch() does.
  if (state.caller?.aborted) return state.caller.reason;
  if (err instanceof CallbackFailure) return err.error;
  // The guard's refusal comes out of the connect step, knowing only the host name.
  const refusal = findCause(err, SsrfError);
  if (refusal) return refusal.url === url.href ? refusal : new SsrfError(url.href, refusal.address);
  // Ours already say what happened (a limit, a status, a file that cannot be written).
  if (err instanceof RepriseError) return err;
  if (state.deadline.signal.aborted) return state.deadline.signal.reason;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new TimeoutError(url.href, 'connect', state.connectTimeoutMs);
  if (code && TIMEOUT_CODES.has(code)) {
    const { totalMs, responseMs, stallMs } = state.limits;
    if (code === 'UND_ERR_BODY_TIMEOUT' && stallMs !== undefined) return new TimeoutError(url.href, 'stall', stallMs);
    return totalMs !== undefined ? new TimeoutError(url.href, 'total', totalMs) : new TimeoutError(url.href, 'response', responseMs);
  }
  return new NetworkError(url.href, err);
}

function findCause<T extends Error>(err: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof type) return e;
  }
  return undefined;
}
