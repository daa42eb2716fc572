import type { RequestHandler, Router } from 'express';
import { imageOrJsonBody } from '../middleware/body.ts';
import { validate } from '../middleware/validate.ts';
import { modelUnavailable } from '../problems.ts';
import { toItemFilter } from '../schemas.ts';
import type { ImageSource } from '../search-service.ts';
import type { RouteContext } from './context.ts';

export const UPLOAD_FIELD = 'image';

/** POST /search/image: image → image, from an upload, a URL, an Image API region or a box on a canvas. */
export function imageSearchRoutes(router: Router, ctx: RouteContext): void {
  const query = validate({ query: ctx.schemas.searchOptions });
  const body = validate({ body: ctx.schemas.imageSource });
  // Refused before the body is read: without a model, nothing uploaded could be used.
  const needsModel: RequestHandler = (_req, _res, next) => next(ctx.service.hasModel ? undefined : modelUnavailable('Image search'));
  router.post(
    '/search/image',
    ...ctx.guarded,
    query,
    needsModel,
    imageOrJsonBody({ field: UPLOAD_FIELD, maxBytes: ctx.config.api.maxUploadBytes }),
    (req, res, next) => (req.file ? next() : body(req, res, next)),
    async (req, res) => {
      const { limit, offset, minScore, ...filter } = query.input(res).query;
      let source: ImageSource;
      if (req.file) source = { kind: 'upload', bytes: req.file.buffer };
      else {
        const b = body.input(res).body;
        source =
          b.url !== undefined
            ? { kind: 'url', url: b.url }
            : b.iiif !== undefined
              ? { kind: 'iiif', url: b.iiif }
              : { kind: 'canvas', canvas: b.canvas!, xywh: b.xywh!, ...(b.manifest !== undefined ? { manifest: b.manifest } : {}) };
      }
      res.json(await ctx.service.image(source, { filter: toItemFilter(filter), limit, offset, minScore }));
    },
  );
}
