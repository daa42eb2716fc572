/** What every layer shares: errors, the SQLite opener, caches, worker threads, where the package is. Other folders enter it here. */
export { RepriseError } from './errors.ts';
export { openDatabase, openReadOnly, StatementCache, SchemaTooNewError, BUSY_TIMEOUT_MS } from './sqlite.ts';
export { LruCache } from './lru-cache.ts';
export { startWorker } from './worker-thread.ts';
export { PACKAGE_ROOT } from './package-root.ts';
export { acquireLock, LockHeldError, type LockHeld } from './lock.ts';
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
