import { RepriseError } from '../errors.ts';

/**
 * What the shared HTTP client (client.ts) throws: a small hierarchy so that callers can tell what
 * went wrong without parsing messages. Every error says which URL failed and whether trying again
 * later could help.
 */
export class HttpError extends RepriseError {
  override name = 'HttpError';
  constructor(
    message: string,
    readonly url: string,
    /** Whether a later run may succeed (timeouts, 5xx, 429) or not (404, SSRF refusal, too large). */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class HttpStatusError extends HttpError {
  override name = 'HttpStatusError';
  constructor(
    url: string,
    readonly status: number,
    detail = '',
    /** What the server's Retry-After asked for, when it sent one: a later run can wait that long. */
    readonly retryAfterMs?: number,
  ) {
    super(
      `HTTP ${status} from ${url}${detail ? `: ${detail}` : ''}`,
      url,
      status === 408 || status === 429 || status >= 500,
    );
  }
}

/**
 * Which limit ran out: connecting; the whole exchange (documents, images); waiting for the response
 * headers; or waiting for the next bytes of a download, which has no total limit.
 */
export type TimeoutPhase = 'connect' | 'total' | 'response' | 'stall';

export class TimeoutError extends HttpError {
  override name = 'TimeoutError';
  constructor(url: string, readonly phase: TimeoutPhase, readonly ms: number) {
    super(timeoutMessage(url, phase, ms), url, true);
  }
}

function timeoutMessage(url: string, phase: TimeoutPhase, ms: number): string {
  if (phase === 'connect') return `connecting to ${url} took longer than ${ms} ms`;
  if (phase === 'total') return `fetching ${url} took longer than ${ms} ms`;
  const host = URL.canParse(url) ? new URL(url).host : url;
  if (phase === 'response') return `no response from ${host} within ${ms} ms (fetching ${url})`;
  return `no data for ${ms} ms while downloading ${url}`;
}

export class NetworkError extends HttpError {
  override name = 'NetworkError';
  /** The system's or undici's error code (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET…), when the cause has one. */
  readonly code: string | undefined;
  constructor(url: string, cause: unknown) {
    super(`network error fetching ${url}: ${(cause as Error)?.message ?? String(cause)}`, url, true, { cause });
    this.code = errorCode(cause);
  }
}

function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export class TooLargeError extends HttpError {
  override name = 'TooLargeError';
  constructor(
    url: string,
    readonly limitBytes: number,
    /** What to do about it; a download's bound is its caller's, which says so itself. */
    advice = 'raise harvest.http.maxJsonBytes / maxImageBytes if this is expected',
  ) {
    super(`${url} is larger than the ${limitBytes}-byte limit${advice ? ` (${advice})` : ''}`, url, false);
  }
}

export class ContentTypeError extends HttpError {
  override name = 'ContentTypeError';
  constructor(url: string, readonly contentType: string, expected: string) {
    super(`${url} returned content-type "${contentType}", expected ${expected}`, url, false);
  }
}

export class SsrfError extends HttpError {
  override name = 'SsrfError';
  constructor(url: string, readonly address: string) {
    super(
      `refusing to fetch ${url}: it resolves to ${address}, a private, loopback, link-local or metadata address ` +
        `(add it to harvest.http.allowPrivate, or REPRISE_HARVEST__HTTP__ALLOW_PRIVATE, if this host is yours)`,
      url,
      false,
    );
  }
}

export class TooManyRedirectsError extends HttpError {
  override name = 'TooManyRedirectsError';
  constructor(url: string, readonly max: number) {
    super(`${url} redirected more than ${max} times`, url, false);
  }
}
