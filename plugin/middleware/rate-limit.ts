import type { Request, RequestHandler } from 'express';
import { Problem } from '../problems.ts';

export interface RateLimitOptions {
  /** Requests per minute per client; 0 disables the limit. */
  perMinute: number;
  /** Requests a quiet client may send at once (default: perMinute). */
  burst?: number;
  /** Who a client is (default: req.ip; behind a proxy, set the app's `trust proxy` so that req.ip is the client). */
  key?: (req: Request) => string;
  /** Clients remembered at most; idle ones are forgotten first. */
  maxClients?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per client: `burst` tokens, refilled at perMinute / 60 per second. Each router
 * has its own buckets, so two APIs in one app do not share a budget.
 */
export function rateLimit(opts: RateLimitOptions): RequestHandler {
  if (opts.perMinute <= 0) return (_req, _res, next) => next();
  const capacity = Math.max(1, opts.burst ?? opts.perMinute);
  const perMs = opts.perMinute / 60_000;
  const maxClients = opts.maxClients ?? 100_000;
  const now = opts.now ?? Date.now;
  const keyOf = opts.key ?? ((req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown');
  const buckets = new Map<string, Bucket>();

  const forgetIdle = (t: number) => {
    // A bucket that has refilled completely holds no state worth keeping.
    for (const [key, b] of buckets) if (b.tokens + (t - b.at) * perMs >= capacity) buckets.delete(key);
    // Still too many busy clients: drop the longest-known ones rather than grow without bound.
    for (const key of buckets.keys()) {
      if (buckets.size < maxClients) break;
      buckets.delete(key);
    }
  };

  return (req, res, next) => {
    const t = now();
    const key = keyOf(req);
    let bucket = buckets.get(key);
    if (!bucket) {
      if (buckets.size >= maxClients) forgetIdle(t);
      bucket = { tokens: capacity, at: t };
      buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.at) * perMs);
      bucket.at = t;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      res.setHeader('RateLimit-Limit', String(opts.perMinute));
      res.setHeader('RateLimit-Remaining', String(Math.floor(bucket.tokens)));
      return next();
    }
    const waitSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    next(
      new Problem('rate-limited', `this client sent more than ${opts.perMinute} requests a minute; wait ${waitSeconds} s before trying again`, {
        headers: { 'Retry-After': String(waitSeconds) },
        fields: { retryAfterSeconds: waitSeconds },
      }),
    );
  };
}
