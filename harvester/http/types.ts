/** What the harvester asks of its HTTP client. */

export interface HttpClientOptions {
  userAgent: string;
  /** Requests in flight across all hosts. */
  concurrency: number;
  /** Requests in flight to one host. */
  perHostConcurrency: number;
  /** Requests started per second to one host (token bucket). */
  perHostRatePerSecond: number;
  connectTimeoutMs: number;
  /** Whole request, headers and body. */
  totalTimeoutMs: number;
  /** Retries after the first attempt, for network errors, 5xx, 429. */
  retries: number;
  retryBaseDelayMs: number;
  /** Longest wait the client accepts from Retry-After or backoff; beyond it the request fails. */
  retryMaxDelayMs: number;
  maxRedirects: number;
  maxJsonBytes: number;
  maxImageBytes: number;
  /** Hosts or CIDR ranges that may be fetched although private (e.g. "127.0.0.1/8", "localhost"). */
  allowPrivate: string[];
}

export interface Validators {
  etag?: string;
  lastModified?: string;
}

export interface FetchOptions {
  /** Conditional request: sends If-None-Match / If-Modified-Since. */
  validators?: Validators;
  signal?: AbortSignal;
  /** Accepted media types; others are a ContentTypeError. */
  accept?: 'json' | 'image';
}

export type FetchResult =
  | { status: 'not-modified'; url: string; finalUrl: string; validators: Validators }
  | {
      status: 'ok';
      url: string;
      /** After redirects: relative ids in the document resolve against it. */
      finalUrl: string;
      body: Buffer;
      contentType: string;
      validators: Validators;
      /** Attempts used, 1 when the first one succeeded. */
      attempts: number;
    };

export interface HttpClient {
  fetchJson(url: string, opts?: FetchOptions): Promise<FetchResult>;
  fetchImage(url: string, opts?: FetchOptions): Promise<FetchResult>;
  close(): Promise<void>;
}
