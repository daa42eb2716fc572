import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { jsonBody } from '../middleware/body.ts';
import { validate } from '../middleware/validate.ts';
import { notFound } from '../problems.ts';
import type { SearchDeps } from '../types.ts';
import { bearerToken, tokenMatches } from './auth.ts';
import { embeddingImportRoutes } from './embeddings-import.ts';
import { sendAdminProblem } from './problems.ts';

/** Most URLs one POST /admin/harvests may start. */
export const MAX_HARVEST_URLS = 100;

const REALM = 'reprise-admin';

const httpUrl = z
  .string({ message: 'expected a URL string' })
  .trim()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters')
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && !!url.hostname;
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL');

/** The body of POST /admin/harvests. */
export const startHarvestBody = z.strictObject({
  urls: z
    .array(httpUrl, { message: 'expected an array of URLs' })
    .min(1, 'give at least one manifest, collection or change stream URL')
    .max(MAX_HARVEST_URLS, `at most ${MAX_HARVEST_URLS} URLs per harvest`)
    .describe('Manifest, collection or IIIF Change Discovery stream URLs, as `reprise harvest` takes them.'),
});

const path = (req: Request) => req.originalUrl.split('?')[0];

/**
 * Admin routes, mounted at /admin:
 *
 *   POST /admin/harvests  {"urls": ["https://…/collection.json", …]}  → 202; the harvest runs in the background
 *   GET  /admin/harvests                                              → running or not, the last summary, journal counts
 *
 * Every route needs `Authorization: Bearer <api.adminToken>`, compared in constant time. Without
 * a configured token the routes do not exist: every path answers 404 and nothing advertises them.
 */
export function adminRouter(deps: SearchDeps): express.Router {
  const router = express.Router();
  const token = deps.config.api.adminToken;
  const start = validate({ body: startHarvestBody });

  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    if (!token) return next(notFound(`nothing at ${path(req)}`));
    const header = req.get('authorization');
    if (!header) {
      // No credentials at all: the challenge carries no error code (RFC 6750 §3.1).
      res.set('WWW-Authenticate', `Bearer realm="${REALM}"`);
      return sendAdminProblem(res, 'unauthorized', 'the admin routes need an "Authorization: Bearer <token>" header carrying api.adminToken', path(req));
    }
    const presented = bearerToken(header);
    if (presented === undefined || !tokenMatches(presented, token)) {
      res.set('WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="not the admin token"`);
      return sendAdminProblem(res, 'unauthorized', 'the bearer token is not the configured admin token', path(req));
    }
    next();
  });

  router.post('/harvests', jsonBody('{"urls": ["https://…"]}'), start, async (req: Request, res: Response) => {
    const harvest = deps.harvest;
    if (!harvest) return unavailable(req, res);
    const urls = [...new Set(start.input(res).body.urls)];
    const statusUrl = `${req.baseUrl}/harvests`;
    const outcome = await harvest.start(urls);
    if (!outcome.started) {
      res.set('Retry-After', '60');
      return sendAdminProblem(res, 'harvest-running', outcome.reason ?? 'a harvest is already running; wait for it to finish', path(req), { statusUrl });
    }
    res
      .status(202)
      .location(statusUrl)
      .json({ started: true, ...(outcome.runId !== undefined ? { runId: outcome.runId } : {}), urls, statusUrl });
  });

  router.get('/harvests', async (req: Request, res: Response) => {
    if (!deps.harvest) return unavailable(req, res);
    res.json(await deps.harvest.status());
  });

  router.all('/harvests', (req: Request, res: Response) => {
    res.set('Allow', 'GET, HEAD, POST');
    sendAdminProblem(res, 'method-not-allowed', `${req.method} is not allowed here; GET the status or POST {"urls": […]} to start a harvest`, path(req));
  });

  embeddingImportRoutes(router, deps);

  router.use((req: Request, _res: Response, next: NextFunction) => next(notFound(`nothing at ${path(req)}`)));
  return router;
}

function unavailable(req: Request, res: Response): void {
  sendAdminProblem(res, 'harvest-unavailable', 'this API was mounted without a harvest controller; `reprise serve` provides one', path(req));
}

