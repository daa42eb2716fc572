import { RepriseError } from '../../common/index.ts';

/**
 * A small hierarchy so that callers can tell what went wrong without parsing messages:
 * every error says which URL failed and whether trying again later could help.
 */
export class HarvestHttpError extends RepriseError {
  override name = 'HarvestHttpError';
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

export class HttpStatusError extends HarvestHttpError {
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

export class TimeoutError extends HarvestHttpError {
  override name = 'TimeoutError';
  constructor(url: string, readonly phase: 'connect' | 'total', readonly ms: number) {
    super(`${phase === 'connect' ? 'connecting to' : 'fetching'} ${url} took longer than ${ms} ms`, url, true);
  }
}

export class NetworkError extends HarvestHttpError {
  override name = 'NetworkError';
  constructor(url: string, cause: unknown) {
    super(`network error fetching ${url}: ${(cause as Error)?.message ?? String(cause)}`, url, true, { cause });
  }
}

export class TooLargeError extends HarvestHttpError {
  override name = 'TooLargeError';
  constructor(url: string, readonly limitBytes: number) {
    super(
      `${url} is larger than the ${limitBytes}-byte limit (raise harvest.http.maxJsonBytes / maxImageBytes if this is expected)`,
      url,
      false,
    );
  }
}

export class ContentTypeError extends HarvestHttpError {
  override name = 'ContentTypeError';
  constructor(url: string, readonly contentType: string, expected: string) {
    super(`${url} returned content-type "${contentType}", expected ${expected}`, url, false);
  }
}

export class SsrfError extends HarvestHttpError {
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

export class TooManyRedirectsError extends HarvestHttpError {
  override name = 'TooManyRedirectsError';
  constructor(url: string, readonly max: number) {
    super(`${url} redirected more than ${max} times`, url, false);
  }
}
