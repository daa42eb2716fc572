/**
 * Every size and count the publisher bounds. Output limits are advertised in info.json
 * (maxWidth/maxHeight/maxArea) so clients know what to ask for; the others protect the
 * server from folders and images it was not meant to handle.
 */

export interface PublisherLimits {
  /** Largest width of a returned image, in pixels (info.json maxWidth). */
  maxWidth: number;
  /** Largest height of a returned image, in pixels (info.json maxHeight). */
  maxHeight: number;
  /** Largest width × height of a returned image (info.json maxArea). */
  maxArea: number;
  /** Source images with more pixels than this are not served (decompression bombs are refused from their header). */
  maxInputPixels: number;
  /** Whether sizes above the extracted region are served (v3 `^`, v2 sizeAboveFull); within the output limits either way. */
  allowUpscaling: boolean;
  /** The folder scan stops after this many images… */
  maxImages: number;
  /** …or after looking at this many directory entries, whichever comes first. */
  maxEntries: number;
  /** Sub-folders deeper than this are not scanned. */
  maxDepth: number;
  /** Images rendered at the same time; more wait in a queue. */
  maxConcurrentRenders: number;
  /** Requests waiting for a render slot; beyond that the server answers 503 with Retry-After. */
  maxQueuedRenders: number;
  /** Cache-Control max-age for images, info.json and manifests. */
  cacheMaxAgeSeconds: number;
  /** A scan older than this is redone on the next request, so added or removed files show up. */
  rescanAfterMs: number;
}

export const DEFAULT_LIMITS: PublisherLimits = {
  maxWidth: 4096,
  maxHeight: 4096,
  maxArea: 4096 * 4096,
  maxInputPixels: 100_000_000,
  allowUpscaling: true,
  maxImages: 10_000,
  maxEntries: 100_000,
  maxDepth: 8,
  maxConcurrentRenders: 4,
  maxQueuedRenders: 64,
  cacheMaxAgeSeconds: 3600,
  rescanAfterMs: 30_000,
};

const POSITIVE_INTEGER_KEYS = [
  'maxWidth', 'maxHeight', 'maxArea', 'maxInputPixels', 'maxImages', 'maxEntries',
  'maxConcurrentRenders', 'maxQueuedRenders',
] as const satisfies ReadonlyArray<keyof PublisherLimits>;

/** The defaults with `overrides` applied, checked: a limit that cannot work is an error naming it. */
export function resolveLimits(overrides: Partial<PublisherLimits> = {}): PublisherLimits {
  const limits: PublisherLimits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof PublisherLimits, unknown]>) {
    if (value !== undefined) (limits as unknown as Record<string, unknown>)[key] = value;
  }
  for (const key of POSITIVE_INTEGER_KEYS) {
    const v = limits[key];
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`publisher limit ${key} must be a positive integer, got ${String(v)}`);
  }
  for (const key of ['maxDepth', 'cacheMaxAgeSeconds', 'rescanAfterMs'] as const) {
    const v = limits[key];
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`publisher limit ${key} must be a whole number ≥ 0, got ${String(v)}`);
  }
  // Below this, tiles and thumbnails stop making sense.
  if (limits.maxWidth < 64 || limits.maxHeight < 64 || limits.maxArea < 64 * 64) {
    throw new RangeError(`publisher limits maxWidth/maxHeight must be at least 64 and maxArea at least 4096, got ${limits.maxWidth}/${limits.maxHeight}/${limits.maxArea}`);
  }
  if (typeof limits.allowUpscaling !== 'boolean') throw new RangeError('publisher limit allowUpscaling must be true or false');
  return limits;
}
