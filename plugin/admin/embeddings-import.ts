import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { EmbeddingModelMismatchError, importEmbeddings } from '../../harvester/index.ts';
import { createHttpClient, HttpError } from '../../common/index.ts';
import { EmbeddingAnnotationError } from '../../store/index.ts';
import { jsonBody } from '../middleware/body.ts';
import { validate } from '../middleware/validate.ts';
import type { SearchDeps } from '../types.ts';
import { sendAdminProblem } from './problems.ts';

const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http or https URL' }).max(4096, 'must be at most 4096 characters');

/** The body of POST /admin/embeddings/import. */
export const importEmbeddingsBody = z
  .strictObject({
    url: httpUrl.optional().describe('An AnnotationPage (or AnnotationCollection) of embedding annotations, such as another portal\'s GET /embeddings; its `next` pages are followed.'),
    annotations: z
      .looseObject({ type: z.string() })
      .optional()
      .describe('The annotations themselves: an AnnotationPage (its `next` pages are followed too).'),
    manifest: httpUrl.optional().describe('The manifest of annotations whose target names none (no partOf).'),
  })
  .refine((b) => (b.url === undefined) !== (b.annotations === undefined), { message: 'give either "url" or "annotations"', path: ['url'] });

const path = (req: Request) => req.originalUrl.split('?')[0];

/**
 * POST /admin/embeddings/import: indexes another portal's published embeddings without computing
 * them again, when they come from the model of this index (and of the model loaded here); refuses
 * them, changing nothing, when they do not. Answers the import's report once it is done.
 */
export function embeddingImportRoutes(router: Router, deps: SearchDeps): void {
  const check = validate({ body: importEmbeddingsBody });
  router.post('/embeddings/import', jsonBody('{"url": "https://…/embeddings?manifest=…"}'), check, async (req: Request, res: Response) => {
    const { url, annotations, manifest } = check.input(res).body;
    const http = createHttpClient(deps.config.harvest.http);
    try {
      const report = await importEmbeddings(annotations !== undefined ? { json: annotations } : { url: url! }, {
        store: deps.store,
        http,
        ...(deps.encoders ? { modelId: deps.encoders.config.modelId } : {}),
        imageSize: deps.config.harvest.imageSize,
        facets: deps.config.facets,
        source: url ?? (typeof annotations?.id === 'string' ? annotations.id : 'embeddings-import'),
        ...(manifest ? { manifest } : {}),
      });
      res.json(report);
    } catch (err) {
      if (err instanceof EmbeddingModelMismatchError) return sendAdminProblem(res, 'embeddings-model-mismatch', err.message, path(req), { offered: err.offered, expected: err.expected });
      if (err instanceof EmbeddingAnnotationError || err instanceof HttpError || err instanceof SyntaxError) {
        return sendAdminProblem(res, 'annotations-unreadable', err.message, path(req));
      }
      throw err;
    } finally {
      await http.close();
    }
  });
}
