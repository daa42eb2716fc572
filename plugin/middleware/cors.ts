import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * Browsers on the listed portal origins may call the API ([] none, ["*"] any). Others still get
 * answers (CORS is not access control), just without the headers that let a page read them.
 */
export function corsAllowlist(origins: string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.replace(/\/+$/, '')));
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && (any || allowed.has(origin))),
    methods: ['GET', 'HEAD', 'POST'],
    // Widgets read the wait time after a 429, and the rate-limit budget.
    exposedHeaders: ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining'],
    maxAge: 600,
  });
}
