/** What every layer shares: errors, the SQLite opener, durable file writes, caches, worker threads, the HTTP client, where the package is. Other folders enter it here. */
export { RepriseError } from './errors.ts';
export { openDatabase, openReadOnly, StatementCache, SchemaTooNewError, BUSY_TIMEOUT_MS } from './sqlite.ts';
export { LruCache } from './lru-cache.ts';
export { startWorker } from './worker-thread.ts';
export { PACKAGE_ROOT } from './package-root.ts';
export { acquireLock, LockHeldError, type LockHeld } from './lock.ts';
export { fileCrc32, readSidecar, syncFolder, writeDurably } from './durable-file.ts';
export {
  decodeImage,
  openImage,
  readImageHeader,
  readPixels,
  ImageDecodeError,
  ACCEPTED_FORMATS,
  DEFAULT_MAX_INPUT_PIXELS,
  type DecodedImage,
  type DecodeOptions,
  type ImageHeader,
  type ImageLimits,
  type OpenedImage,
} from './image-decode.ts';
export { backoffDelayMs, parseRetryAfter, sleep, type RetryPolicy } from './retry.ts';
export {
  relevanceOf,
  RELEVANCE_EN,
  DEFAULT_MIN_SCORE,
  CONTENT_SEARCH_MIN_SCORE,
  type QueryKind,
  type Relevance,
  type ScoreKind,
} from './relevance.ts';
export {
  createHttpClient,
  createSsrfGuard,
  classifyAddress,
  systemResolver,
  decideRetry,
  HostLimiter,
  QueueFullError,
  LimiterClosedError,
  DEFAULT_MAX_QUEUED,
  HttpError,
  HttpStatusError,
  TimeoutError,
  NetworkError,
  TooLargeError,
  ContentTypeError,
  SsrfError,
  TooManyRedirectsError,
  type CreateHttpClientOptions,
  type HttpClient,
  type HttpClientOptions,
  type FetchOptions,
  type FetchResult,
  type DownloadOptions,
  type DownloadResult,
  type ResponseHeaders,
  type RetryNotice,
  type Validators,
  type TimeoutPhase,
  type SsrfGuard,
  type Resolver,
  type ResolvedAddress,
  type AddressVerdict,
  type HostLimiterOptions,
  type Release,
  type RetryDecision,
} from './http/index.ts';
