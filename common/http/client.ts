/**
 * Reprise's HTTP client, for the harvester's documents and images from servers nobody vouches for
 * and for model downloads alike: every request is bounded in time, size, redirects and destination,
 * retried on one policy (common/retry.ts), and every failure becomes one of the errors in errors.ts.
 */
import type { Agent } from 'undici';
import { sleep, type RetryPolicy } from '../retry.ts';
import { downloadOnce, type DownloadMemo } from './download.ts';
import { HttpError } from './errors.ts';
import { HostLimiter } from './host-limiter.ts';
import { ACCEPT, ACCEPT_ENCODING, readBody, type Kind } from './read-body.ts';
import { decideRetry } from './retry-decision.ts';
import { createSsrfGuard, type Resolver } from './ssrf-guard.ts';
import { exchange, hostKey, type HopLimits, type Transport } from './transport.ts';
import type { FetchOptions, FetchResult, HttpClient, HttpClientOptions, RetryNotice, Validators } from './types.ts';

export interface CreateHttpClientOptions extends HttpClientOptions {
  /** Replaces DNS resolution (tests map fake names to chosen addresses); the SSRF check still applies. */
  lookup?: Resolver;
  /** Requests that may wait for a slot before new ones fail fast; see HostLimiter. */
  maxQueued?: number;
  /** Longest wait for the response headers, connecting included; default totalTimeoutMs. */
  responseTimeoutMs?: number;
  /** Longest wait for the next bytes of a download before the attempt is dropped (and resumed); default totalTimeoutMs. */
  stallTimeoutMs?: number;
  /** Where these options are set, for the messages that refuse one (default "harvest.http"). */
  settingsName?: string;
}

export function createHttpClient(opts: CreateHttpClientOptions): HttpClient {
  validateOptions(opts);
  const guard = createSsrfGuard(opts.allowPrivate, opts.lookup);
  const limiter = new HostLimiter({
    concurrency: opts.concurrency,
    perHostConcurrency: opts.perHostConcurrency,
    perHostRatePerSecond: opts.perHostRatePerSecond,
    ...(opts.maxQueued !== undefined ? { maxQueued: opts.maxQueued } : {}),
  });
  let pool: Promise<{ agent: Agent; request: typeof import('undici').request }> | undefined;
  const transport: Transport = {
    guard,
    limiter,
    maxRedirects: opts.maxRedirects,
    connectTimeoutMs: opts.connectTimeoutMs,
    undici: () =>
      (pool ??= import('undici').then(({ Agent, request }) => ({
        agent: new Agent({ connect: { timeout: opts.connectTimeoutMs, lookup: guard.lookup }, connections: opts.perHostConcurrency }),
        request,
      }))),
  };
  const policy: RetryPolicy = {
    retries: opts.retries,
    baseDelayMs: opts.retryBaseDelayMs,
    maxDelayMs: opts.retryMaxDelayMs,
  };
  const responseMs = opts.responseTimeoutMs ?? opts.totalTimeoutMs;
  const documentLimits: HopLimits = { totalMs: opts.totalTimeoutMs, responseMs };
  const downloadLimits: HopLimits = { responseMs, stallMs: opts.stallTimeoutMs ?? opts.totalTimeoutMs };

  async function withRetries<T>(
    signal: AbortSignal | undefined,
    onRetry: ((retry: RetryNotice) => void) | undefined,
    attempt: () => Promise<T>,
  ): Promise<{ value: T; attempts: number }> {
    for (let n = 1; ; n++) {
      try {
        return { value: await attempt(), attempts: n };
      } catch (err) {
        const decision = decideRetry(err, n - 1, policy);
        if (!decision.retry) throw decision.error;
        if (decision.hostPauseMs !== undefined && err instanceof HttpError) {
          limiter.defer(hostKey(new URL(err.url)), decision.hostPauseMs);
        }
        onRetry?.({ attempt: n, delayMs: decision.delayMs, error: err });
        await sleep(decision.delayMs, signal);
      }
    }
  }

  async function fetchBuffered(url: string, kind: Kind, fetchOpts: FetchOptions = {}): Promise<FetchResult> {
    const accept = fetchOpts.accept ?? kind;
    const headers = { ...fetchOpts.headers, ...documentHeaders(opts.userAgent, accept, fetchOpts.validators) };
    const limit = accept === 'json' ? opts.maxJsonBytes : opts.maxImageBytes;
    const { value, attempts } = await withRetries(fetchOpts.signal, fetchOpts.onRetry, () =>
      exchange(transport, url, { headers, limits: documentLimits, ...(fetchOpts.signal ? { signal: fetchOpts.signal } : {}) }, (hop) =>
        readBody(hop, accept, fetchOpts.validators, limit),
      ),
    );
    const { value: outcome, finalUrl } = value;
    if (outcome.type === 'not-modified') return { status: 'not-modified', url, finalUrl, validators: outcome.validators };
    const { type: _type, ...rest } = outcome;
    return { status: 'ok', url, finalUrl, ...rest, attempts };
  }

  return {
    fetchJson: (url, fetchOpts) => fetchBuffered(url, 'json', fetchOpts),
    fetchImage: (url, fetchOpts) => fetchBuffered(url, 'image', fetchOpts),
    async download(url, downloadOpts) {
      if (!Number.isSafeInteger(downloadOpts.maxBytes) || downloadOpts.maxBytes < 0) {
        throw new RangeError(`download of ${url}: maxBytes must be a whole number of bytes, got ${downloadOpts.maxBytes}`);
      }
      const memo: DownloadMemo = {};
      const { value, attempts } = await withRetries(downloadOpts.signal, downloadOpts.onRetry, () =>
        downloadOnce(transport, url, downloadOpts, { userAgent: opts.userAgent, limits: downloadLimits }, memo),
      );
      return { ...value, attempts };
    },
    async close() {
      limiter.close();
      if (pool) await (await pool).agent.close();
    },
  };
}

function documentHeaders(userAgent: string, kind: Kind, validators: Validators | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': userAgent,
    accept: ACCEPT[kind],
    'accept-encoding': ACCEPT_ENCODING,
  };
  if (validators?.etag) headers['if-none-match'] = validators.etag;
  if (validators?.lastModified) headers['if-modified-since'] = validators.lastModified;
  return headers;
}

function validateOptions(opts: CreateHttpClientOptions): void {
  const settings = opts.settingsName ?? 'harvest.http';
  const positiveInts: Array<keyof CreateHttpClientOptions> = [
    'concurrency', 'perHostConcurrency', 'connectTimeoutMs', 'totalTimeoutMs', 'maxJsonBytes', 'maxImageBytes', 'responseTimeoutMs', 'stallTimeoutMs',
  ];
  for (const key of positiveInts) {
    const v = opts[key] as number | undefined;
    if (v === undefined && (key === 'responseTimeoutMs' || key === 'stallTimeoutMs')) continue;
    if (!Number.isInteger(v) || v! <= 0) throw new RangeError(`${settings}.${key} must be a positive integer, got ${v}`);
  }
  const nonNegativeInts: Array<keyof HttpClientOptions> = ['retries', 'retryBaseDelayMs', 'retryMaxDelayMs', 'maxRedirects'];
  for (const key of nonNegativeInts) {
    const v = opts[key] as number;
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${settings}.${key} must be an integer of 0 or more, got ${v}`);
  }
  if (!(opts.perHostRatePerSecond > 0)) {
    throw new RangeError(`${settings}.perHostRatePerSecond must be positive, got ${opts.perHostRatePerSecond}`);
  }
  // Servers block anonymous clients, and operators need to know whose client is calling.
  if (!opts.userAgent.trim() || /[\r\n]/.test(opts.userAgent)) {
    throw new RangeError(`${settings}.userAgent must be a non-empty single line identifying the client and a contact`);
  }
}
