/**
 * When to try a failed request again and how long to wait first. Pure policy: the client owns the loop.
 */
import { HarvestHttpError, HttpStatusError } from './errors.ts';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  baseDelayMs: number;
  /** Longest wait accepted, from backoff or from the server's Retry-After. */
  maxDelayMs: number;
}

/**
 * "Full jitter" (AWS architecture blog): a uniform wait in [0, min(max, base * 2^n)). Spreads the
 * retries of many workers that failed together instead of sending them back in one wave.
 */
export function backoffDelayMs(retryIndex: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}

/**
 * Retry-After as milliseconds from `nowMs`: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable, so that the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse also reads forms HTTP does not allow ("2024-01-01"); only accept ones that name a weekday
  // or a month, as the three HTTP date formats do.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Statuses where the Retry-After header is the server's own scheduling hint. */
function honoursRetryAfter(status: number): boolean {
  return status === 429 || status === 503;
}

export type RetryDecision =
  | { retry: true; delayMs: number; /** Set when the server asked everyone to wait, not just this request. */ hostPauseMs?: number }
  | { retry: false; error: unknown };

/**
 * Decides after a failed attempt. `retriesDone` counts retries already made (0 after the first attempt).
 * Anything that is not a retryable HarvestHttpError (a 404, an SSRF refusal, the caller's abort) is final.
 */
export function decideRetry(
  error: unknown,
  retriesDone: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  if (!(error instanceof HarvestHttpError) || !error.retryable) return { retry: false, error };
  if (error instanceof HttpStatusError && error.retryAfterMs !== undefined && honoursRetryAfter(error.status)) {
    if (error.retryAfterMs > policy.maxDelayMs) {
      // Waiting would hold a worker for longer than configured; a later run picks the item up again.
      const seconds = Math.ceil(error.retryAfterMs / 1000);
      return {
        retry: false,
        error: new HttpStatusError(
          error.url,
          error.status,
          `the server asks to retry after ${seconds} s, longer than retryMaxDelayMs (${policy.maxDelayMs} ms); ` +
            'giving up for this run (raise harvest.http.retryMaxDelayMs to wait)',
          error.retryAfterMs,
        ),
      };
    }
    if (retriesDone >= policy.retries) return { retry: false, error };
    return { retry: true, delayMs: error.retryAfterMs, hostPauseMs: error.retryAfterMs };
  }
  if (retriesDone >= policy.retries) return { retry: false, error };
  return { retry: true, delayMs: backoffDelayMs(retriesDone, policy, random) };
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
