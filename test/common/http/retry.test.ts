import assert from 'node:assert/strict';
import { backoffDelayMs, parseRetryAfter, sleep, type RetryPolicy } from '../../../common/retry.ts';
import { decideRetry } from '../../../common/http/retry-decision.ts';
import { ContentTypeError, HttpStatusError, NetworkError, SsrfError, TimeoutError } from '../../../common/http/errors.ts';

const policy: RetryPolicy = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000 };

describe('retry', () => {
  describe('parseRetryAfter', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');

    it('reads delta-seconds', () => {
      assert.equal(parseRetryAfter('0', now), 0);
      assert.equal(parseRetryAfter(' 120 ', now), 120_000);
    });

    it('reads HTTP dates, past ones as no wait', () => {
      assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
      assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0);
      assert.equal(parseRetryAfter('Wednesday, 01-Jan-25 00:01:00 GMT', now), 60_000);
    });

    it('ignores what it cannot read', () => {
      for (const v of [undefined, '', '-5', '1.5', 'soon', '2025-01-01']) assert.equal(parseRetryAfter(v, now), undefined, String(v));
    });
  });

  describe('backoffDelayMs', () => {
    it('spreads over [0, base * 2^n), capped at the maximum', () => {
      assert.equal(backoffDelayMs(0, policy, () => 0), 0);
      assert.equal(backoffDelayMs(0, policy, () => 0.999), 99);
      assert.equal(backoffDelayMs(2, policy, () => 0.5), 200);
      assert.equal(backoffDelayMs(10, policy, () => 0.999), 999);
    });
  });

  describe('decideRetry', () => {
    const url = 'https://example.org/manifest';

    it('retries network errors, timeouts, 5xx, 408 and 429 while retries remain', () => {
      for (const err of [new NetworkError(url, new Error('ECONNRESET')), new TimeoutError(url, 'total', 10),
        new HttpStatusError(url, 500), new HttpStatusError(url, 502), new HttpStatusError(url, 408), new HttpStatusError(url, 429)]) {
        const d = decideRetry(err, 0, policy, () => 0.5);
        assert.deepEqual(d, { retry: true, delayMs: 50 }, err.message);
        assert.deepEqual(decideRetry(err, 3, policy), { retry: false, error: err });
      }
    });

    it('does not retry other 4xx, refusals or foreign errors', () => {
      for (const err of [new HttpStatusError(url, 404), new HttpStatusError(url, 403), new SsrfError(url, '10.0.0.1'),
        new ContentTypeError(url, 'text/html', 'JSON'), new Error('boom'), new DOMException('aborted', 'AbortError')]) {
        assert.deepEqual(decideRetry(err, 0, policy), { retry: false, error: err });
      }
    });

    it('waits what Retry-After asks on 429 and 503, and asks the host to pause', () => {
      assert.deepEqual(decideRetry(new HttpStatusError(url, 429, '', 700), 0, policy), { retry: true, delayMs: 700, hostPauseMs: 700 });
      assert.deepEqual(decideRetry(new HttpStatusError(url, 503, '', 0), 1, policy), { retry: true, delayMs: 0, hostPauseMs: 0 });
      // 500 with Retry-After: the header has no defined meaning there; ordinary backoff.
      assert.deepEqual(decideRetry(new HttpStatusError(url, 500, '', 700), 0, policy, () => 0), { retry: true, delayMs: 0 });
    });

    it('gives up at once, still retryable, when Retry-After exceeds the cap', () => {
      const d = decideRetry(new HttpStatusError(url, 429, '', 3_600_000), 0, policy);
      assert.equal(d.retry, false);
      const err = (d as { error: unknown }).error;
      assert.ok(err instanceof HttpStatusError);
      assert.equal(err.status, 429);
      assert.equal(err.retryable, true);
      assert.equal(err.retryAfterMs, 3_600_000);
      assert.match(err.message, /retry after 3600 s, longer than retryMaxDelayMs \(1000 ms\)/);
    });
  });

  describe('sleep', () => {
    it('rejects with the abort reason as soon as the signal aborts', async () => {
      const controller = new AbortController();
      const started = performance.now();
      setTimeout(() => controller.abort(new Error('stop')), 20);
      await assert.rejects(sleep(5000, controller.signal), /stop/);
      assert.ok(performance.now() - started < 1000);
      await assert.rejects(sleep(10, controller.signal), /stop/);
    });
  });
});
