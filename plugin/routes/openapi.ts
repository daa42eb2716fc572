import type { Router } from 'express';
import { openApiDocument } from '../openapi.ts';
import type { RouteContext } from './context.ts';

/** GET /openapi.json: the API as OpenAPI 3.1, with this router's limits and its mount point as server URL. */
export function openApiRoutes(router: Router, ctx: RouteContext): void {
  const document = openApiDocument(ctx.schemas, ctx.config.api);
  router.get('/openapi.json', ...ctx.open, (req, res) => {
    // A relative server URL resolves against where the document was fetched: the mount point.
    const server = ctx.config.api.publicUrl ?? (req.baseUrl || '/');
    res.json({ ...document, servers: [{ url: server }] });
  });
}
