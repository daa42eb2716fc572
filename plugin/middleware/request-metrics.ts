import type { Request, RequestHandler } from 'express';
import type { Metrics } from '../metrics.ts';

const PREFIX = Symbol('reprise.metrics.prefix');

/**
 * Routes are labelled by their pattern (`/items/:id`), never by the URL, so that ids do not
 * multiply the series. Requests that only passed through (a router mounted at "/" sees all of the
 * portal's) are not this API's and are not counted.
 */
function routeLabel(req: Request): string | undefined {
  const pattern = req.route?.path as string | undefined;
  const prefix = (req as unknown as Record<symbol, string | undefined>)[PREFIX];
  if (pattern === undefined) return prefix === undefined ? undefined : `${prefix}/*`;
  return (prefix ?? '') + pattern;
}

export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routeLabel(req);
      if (route !== undefined) metrics.observeRequest(req.method, route, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

/** For routers mounted inside this one: their route patterns are relative to the mount point. */
export function metricsPrefix(prefix: string): RequestHandler {
  return (req, _res, next) => {
    (req as unknown as Record<symbol, string>)[PREFIX] = prefix;
    next();
  };
}
