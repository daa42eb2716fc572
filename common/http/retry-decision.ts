/**
 * When the HTTP client tries a failed request again, on common/retry.ts's backoff: which of its
 * errors are worth a retry, and a Retry-After longer than the caller may wait.
 */
import { backoffDelayMs, type RetryPolicy } from '../retry.ts';
import { HttpError, HttpStatusError, NetworkError } from './errors.ts';

/** Statuses where the Retry-After header is the server's own scheduling hint. */
function honoursRetryAfter(status: number): boolean {
  return status === 429 || status === 503;
}

export type RetryDecision =
  | { retry: true; delayMs: number; /** Set when the server asked everyone to wait, not just this request. */ hostPauseMs?: number }
  | { retry: false; error: unknown };

/**
 * Decides after a failed attempt. `retriesDone` counts retries already made (0 after the first attempt).
 * Anything that is not a retryable HttpError (a 404, an SSRF refusal, the caller's abort) is final.
 */
export function decideRetry(
  error: unknown,
  retriesDone: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  if (!(error instanceof HttpError) || !error.retryable) return { retry: false, error };
  // A name that does not resolve will not resolve a few seconds later either; a later run may try it again.
  if (error instanceof NetworkError && error.code === 'ENOTFOUND') return { retry: false, error };
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
