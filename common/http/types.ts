/** What Reprise asks of its HTTP client: the harvester's documents and images, and the model downloads. */

export interface HttpClientOptions {
  userAgent: string;
  /** Requests in flight across all hosts. */
  concurrency: number;
  /** Requests in flight to one host. */
  perHostConcurrency: number;
  /** Requests started per second to one host (token bucket). */
  perHostRatePerSecond: number;
  connectTimeoutMs: number;
  /** Whole request, headers and body, of a document or image (a download has none: see stallTimeoutMs). */
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

/** One retry about to happen: the attempt that failed (1 for the first), why, and the wait before the next. */
export interface RetryNotice {
  attempt: number;
  delayMs: number;
  error: unknown;
}

interface RequestOptions {
  signal?: AbortSignal;
  /**
   * Sent with the request. Credentials (Authorization, Cookie, Proxy-Authorization) are sent to the
   * URL's origin only: a redirect to another host drops them, as browsers do.
   */
  headers?: Record<string, string>;
  /** Told before each retry, e.g. to show that a transfer is being resumed. */
  onRetry?: (retry: RetryNotice) => void;
}

export interface FetchOptions extends RequestOptions {
  /** Conditional request: sends If-None-Match / If-Modified-Since. */
  validators?: Validators;
  /** Accepted media types; others are a ContentTypeError. */
  accept?: 'json' | 'image';
}

/** Response headers by lower-case name; a header sent several times is joined with ", ". */
export type ResponseHeaders = Record<string, string>;

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
      headers: ResponseHeaders;
      /** Attempts used, 1 when the first one succeeded. */
      attempts: number;
    };

export interface DownloadOptions extends RequestOptions {
  /**
   * Where the body goes. A file already there is taken as the first bytes of this body and the rest
   * is asked for with a Range request; an interrupted attempt is resumed the same way. A server that
   * answers 200 instead sends the whole body, which then replaces the file.
   */
  file: string;
  /** The most bytes the whole body may have: more, announced or sent, is a TooLargeError (the file is kept). */
  maxBytes: number;
  /**
   * The ETag or Last-Modified of the response the file's bytes came from, when the caller kept it
   * (DownloadResult.validator): sent as If-Range, so that a resource changed since is sent whole
   * rather than appended to the old bytes. Attempts within one call use what the server said.
   */
  ifRange?: string;
  /** Default "*\/*". */
  accept?: string;
  /**
   * Told as each response starts to fill the file: `offset` 0 means the file starts over (a first
   * transfer, or a server that sent the whole body again), more means this response continues it
   * there. `size` is the body's whole size when the server says it.
   */
  onResponse?: (start: { offset: number; size: number | undefined }) => void;
  /** Told after each chunk is written; `fileBytes` is the file's size now. */
  onChunk?: (chunk: Buffer, fileBytes: number) => void;
}

export interface DownloadResult {
  url: string;
  finalUrl: string;
  /** The file's size: the whole body. */
  bytes: number;
  /** Strong ETag or Last-Modified of the body, to pass as `ifRange` when resuming it in another call. */
  validator?: string;
  contentType: string;
  attempts: number;
}

export interface HttpClient {
  fetchJson(url: string, opts?: FetchOptions): Promise<FetchResult>;
  fetchImage(url: string, opts?: FetchOptions): Promise<FetchResult>;
  /** Streams a body of any size into a file, resuming what is there: for model weights, not documents. */
  download(url: string, opts: DownloadOptions): Promise<DownloadResult>;
  close(): Promise<void>;
}
