/**
 * The bodies the router answers, as zod schemas: the one contract of the API. plugin/hits.ts and
 * the services build values of these types, plugin/openapi.ts describes them, and the browser
 * widget reads the same types (`import type` of z.infer, viewer-widget/src/api/types.ts), so a
 * field the server does not send is a type error in the widget, not a NaN on a patron's screen.
 *
 * Only zod is imported here: the widget's type check reads this file too.
 */
import { z } from 'zod';

export const boxSchema = z
  .object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() })
  .describe('A box in canvas coordinates: x, y from the top left, width, height.');

export const imageServiceSchema = z
  .object({ id: z.string(), version: z.number().int(), level: z.number().int().optional() })
  .describe('The IIIF Image API service of the canvas, for deep-zoom viewers.');

const itemShape = {
  id: z.string().describe('Item id: use it with /items/{id} and as an example.'),
  canvas: z.object({
    id: z.string(),
    label: z.string().optional(),
    index: z.number().int().optional().describe('0-based position in the manifest.'),
    width: z.number().optional(),
    height: z.number().optional(),
  }),
  manifest: z.object({ id: z.string(), url: z.string().describe('Where the manifest was fetched from.'), label: z.string().optional() }),
  thumbnail: z.string().optional().describe('A small image (≤ 400 px) from the image service, of the matching region when the hit is a region.'),
  rights: z.string().optional(),
  requiredStatement: z.object({ label: z.string(), value: z.string() }).optional().describe('Attribution to show with the image.'),
  homepage: z.string().optional().describe('The portal page of the object, when the manifest links one.'),
  date: z.string().optional(),
  collections: z.array(z.string()).describe('Collection labels from the root down.'),
  imageService: imageServiceSchema.optional(),
};

/** An item as every answer shows it: enough to draw, credit and link it. */
export const itemSchema = z.object(itemShape);

/** What a hit or an item adds when it is, or matched on, a part of its canvas. */
const regionShape = {
  region: boxSchema
    .optional()
    .describe('The part of the canvas: the region that matched better than the whole image, or the region a region item is (an annotated part of a canvas).'),
  target: z
    .string()
    .optional()
    .describe('With a region: the canvas and the region as a media fragment, `canvas#xywh=x,y,w,h`, what a viewer opens.'),
  regionLabel: z
    .string()
    .optional()
    .describe("A region item's own words: what the institution's annotation says of the region (its label is the canvas's)."),
};

export const hitSchema = z.object({
  ...itemShape,
  score: z.number().describe('See the page\'s scoreKind: cosine similarity (−1…1) or ranking score (0…1).'),
  ...regionShape,
});

export const scoreKindSchema = z.enum(['cosine', 'ranking']).describe('cosine: cosine similarity, −1…1; ranking: hybrid or keyword ranking score, 0…1.');

export const searchPageSchema = z.object({
  hits: z.array(hitSchema),
  total: z
    .number()
    .int()
    .optional()
    .describe(
      'Hits a client can page through. With minScore: the hits scoring at least minScore (exact up to 1000, the paging window). ' +
        'Without: the items the store counts as matching (every item passing the filters for vector search).',
    ),
  limit: z.number().int(),
  offset: z.number().int(),
  scoreKind: scoreKindSchema,
});

export const itemDetailsSchema = z.object({
  ...itemShape,
  ...regionShape,
  summary: z.string().optional(),
  metadata: z.array(z.object({ label: z.string(), value: z.string() })),
  labels: z.array(z.string()),
  labelScores: z.record(z.string(), z.number()).optional().describe("The model's probability for each label it gave (set:label), where a model labelled the item."),
  source: z.string().optional().describe('The harvest source the item came from.'),
  image: z.object({ url: z.string(), width: z.number().optional(), height: z.number().optional() }).optional(),
});

/** The fields every index can count; metadata facets (`meta.<name>`, config facets.metadata) come on top. */
export const FACET_FIELD_NAMES = ['manifest', 'collection', 'rights', 'labels', 'source', 'decade', 'year'] as const;

export const facetsSchema = z.object({
  facets: z.record(
    z.string().describe('A field of FACET_FIELD_NAMES (decade and year of the date: 1930s, 1936), or meta.<name> for a metadata facet (meta.creator, meta.subject, …).'),
    z.object({
      values: z.array(
        z.object({
          value: z.string().describe('What to filter by.'),
          count: z.number().int(),
          label: z.string().optional().describe('A name to show for the value, where it has one (rights: "CC BY 4.0", "In Copyright").'),
        }),
      ),
      more: z.boolean().describe('More values exist than were listed.'),
    }),
  ),
  names: z
    .record(
      z.string().describe('A field of `facets` (meta.creator, …).'),
      z.record(z.string().describe('A language tag: en, fr, …'), z.string()),
    )
    .optional()
    .describe('What readers see as the name of a metadata facet, per language (config facets.names); only for the facets listed that have names.'),
});

export const statsSchema = z.object({
  items: z.number().int(),
  vectors: z.number().int().describe('Whole-image plus region vectors.'),
  itemsWithoutVectors: z
    .number()
    .int()
    .describe('Items harvested without a model: listed, keyword-searched and faceted, but not found by text, image or similar-item search until a harvest with a model embeds them.'),
  modelId: z.string().optional().describe("The model that made the index's vectors; absent while no model has embedded anything."),
  dimensions: z.number().int().optional(),
  model: z.object({ loaded: z.boolean(), modelId: z.string().optional() }).describe('The model loaded for queries.'),
  harvest: z
    .object({ running: z.boolean() })
    .optional()
    .describe('Whether a harvest is adding to the index now (servers that harvest: reprise serve, reprise start), so a portal can say the collection is growing.'),
});

export const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  store: z.object({
    reachable: z.boolean(),
    items: z.number().int().optional(),
    vectors: z.number().int().optional(),
    itemsWithoutVectors: z.number().int().optional(),
    modelId: z.string().optional(),
    dimensions: z.number().int().optional(),
    error: z.string().optional(),
  }),
  model: z.object({
    loaded: z.boolean(),
    modelId: z.string().optional(),
    matchesIndex: z.boolean().optional().describe('The loaded model made the index: its queries land in the same space.'),
    hint: z.string().optional().describe('How to get a model, when none is loaded.'),
  }),
});

/** RFC 9457 problem details; plugin/openapi.ts narrows `type` to the router's problem types. */
export const problemShape = {
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().describe('What went wrong and what to do about it, for a person.'),
  instance: z.string().optional(),
  errors: z
    .array(z.object({ name: z.string(), in: z.enum(['query', 'path', 'body', 'header']), reason: z.string() }))
    .optional()
    .describe('The parameters that are not valid.'),
  retryAfterSeconds: z.number().int().optional(),
};
export const problemSchema = z.looseObject(problemShape).describe('RFC 9457 problem details.');

/** What a reprint hit or printing adds when it is a region item (an annotated part of its canvas): where it is, and its words. */
const reprintRegionItemShape = {
  target: z
    .string()
    .optional()
    .describe('When the item is a region item: its canvas and its region (the annotated box) as a media fragment, `canvas#xywh=x,y,w,h`, what a viewer opens.'),
  regionLabel: regionShape.regionLabel,
};

export const reprintHitSchema = z.object({
  ...itemShape,
  id: z.string().describe('Item id of the canvas, or of the region item (an annotated part of a canvas), that holds the same photograph.'),
  thumbnail: z.string().optional().describe('A small image (≤ 400 px) of the matched region of the hit.'),
  confidence: z.number().min(0).max(1).describe('How sure the match is, 0–1, from the inlier count (calibrated by eval:reprints).'),
  inliers: z.number().int().describe('Geometrically consistent keypoint matches.'),
  region: boxSchema.describe("The matched part of the hit, in the hit's canvas coordinates (xywh)."),
  ...reprintRegionItemShape,
  queryRegion: boxSchema.describe("The matched part of the query, in the query canvas's coordinates (xywh) for item and canvas queries, else in the query image's pixels."),
  transform: z
    .object({
      scale: z.number(),
      rotation: z.number().describe('Degrees.'),
      tx: z.number(),
      ty: z.number(),
      matrix: z.array(z.number()).describe('Row-major 2×3 similarity, query → hit coordinates.'),
    })
    .describe('The similarity mapping query coordinates onto the hit.'),
});

export const reprintPageSchema = z.object({
  hits: z.array(reprintHitSchema),
  queryCanvas: z.string().optional().describe('The query canvas, when the query was on one.'),
});

export const reprintMemberSchema = z.object({
  ...itemShape,
  thumbnail: z.string().optional().describe('A small image (≤ 400 px) of the printed photograph on this canvas.'),
  region: boxSchema.describe("Where the shared photograph is on this canvas (canvas coordinates), from the member's strongest verified pair."),
  ...reprintRegionItemShape,
  inliers: z.number().int().describe("Geometrically consistent keypoint matches of the member's strongest pair in the group."),
  confidence: z.number().min(0).max(1).describe('How sure that pair is, 0–1 (calibrated by eval:reprints).'),
});

export const reprintGroupSchema = z.object({
  size: z.number().int().describe('Printings in the group: canvases and region items, a canvas and its own region item counted once.'),
  members: z
    .array(reprintMemberSchema)
    .describe('The canvases (or region items of canvases) that print the same photograph, at most 100 (GET /items/{id}/reprints pages through a larger group).'),
  pairs: z
    .array(z.object({ a: z.string(), b: z.string(), inliers: z.number().int(), confidence: z.number().min(0).max(1) }))
    .describe('The verified pairs that join the group (item ids), strongest first, at most 500.'),
});

export const reprintGroupsPageSchema = z.object({
  groups: z.array(reprintGroupSchema),
  total: z.number().int().describe('Groups across every collection.'),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const reprintPrintingsPageSchema = z.object({
  item: z.string().describe('The item whose other printings these are.'),
  region: boxSchema.optional().describe('Where the photograph is on that item\'s canvas.'),
  printings: z.array(
    reprintMemberSchema.extend({
      direct: z.number().int().optional().describe('Inliers of the pair verified between this canvas and the item, when there is one (otherwise they are joined through others).'),
    }),
  ),
  total: z.number().int().describe('Other printings found by the collection-wide comparison.'),
  limit: z.number().int(),
  offset: z.number().int(),
});

const embeddingCanvasSchema = z.object({
  id: z.string(),
  type: z.literal('Canvas'),
  width: z.number().optional(),
  height: z.number().optional(),
  partOf: z.array(z.object({ id: z.string().describe('Where the manifest was harvested from.'), type: z.literal('Manifest') })).optional(),
});

export const embeddingAnnotationSchema = z
  .object({
    id: z.string(),
    type: z.literal('Annotation'),
    motivation: z.literal('embedding'),
    target: z.union([
      embeddingCanvasSchema.describe('The whole image of the canvas.'),
      z
        .object({
          type: z.literal('SpecificResource'),
          source: embeddingCanvasSchema,
          selector: z.object({ type: z.literal('FragmentSelector'), conformsTo: z.string(), value: z.string().describe('xywh=x,y,w,h in canvas pixels.') }),
        })
        .describe('A region of the canvas.'),
    ]),
    body: z.object({
      type: z.literal('EmbeddingVector'),
      vector: z.string().describe('Base64 of the float32 values, little-endian.'),
      vectorEncoding: z.literal('base64'),
      model: z.object({
        name: z.string(),
        version: z.string().describe('The revision the model was published at (and its weights\' variant), or "unspecified".'),
        dimensions: z.number().int(),
        dataType: z.literal('float32'),
        endianness: z.literal('little'),
        type: z.string(),
        normalization: z.boolean(),
      }),
    }),
  })
  .describe("An image's (or region's) embedding, after the IIIF embeddings extension proposal.");

export const embeddingPageSchema = z.object({
  '@context': z.array(z.string()),
  id: z.string(),
  type: z.literal('AnnotationPage'),
  items: z.array(embeddingAnnotationSchema),
  next: z.object({ id: z.string(), type: z.literal('AnnotationPage') }).optional().describe('The next page, while there are more items.'),
});

export const embeddingImportSchema = z.object({
  modelId: z.string().optional().describe('The model of the imported vectors.'),
  pages: z.number().int(),
  annotations: z.number().int().describe('Embedding annotations read.'),
  items: z.number().int().describe('Items indexed with the imported vectors.'),
  regions: z.number().int(),
  manifestsFetched: z.number().int().describe('Manifests read for the metadata of items the index did not hold.'),
  skipped: z.number().int(),
  skips: z.array(z.object({ target: z.string(), reason: z.string() })).describe('Why annotations were skipped (the first 100).'),
});

const mapJobSchema = z
  .object({
    collection: z.string().nullable(),
    phase: z.enum(['queued', 'reading', 'neighbours', 'layout']),
    progress: z.number().min(0).max(1).describe('Of the current phase.'),
    startedAt: z.string().optional(),
  })
  .describe('The computation under way.');

export const mapSchema = z.object({
  status: z.literal('ready'),
  collection: z.string().nullable().describe('The collection laid out; null for the whole index.'),
  modelId: z.string(),
  computedAt: z.string(),
  items: z.number().int().describe('Items in the collection when the map was computed (items without a vector have no point).'),
  stale: z.boolean().describe('The collection changed since: a new map is being computed, and this one is served meanwhile.'),
  scale: z.number().int().describe('Coordinates run from 0 to this.'),
  ids: z.array(z.string()).describe('Item ids, one per point.'),
  xy: z.array(z.number().int()).describe('x, y of each point in turn, from the top left; similar images lie near each other.'),
  job: mapJobSchema.optional(),
});

export const mapPendingSchema = z.object({ status: z.literal('computing'), job: mapJobSchema });

export const mapItemsSchema = z.object({ items: z.array(itemSchema) });

export const mapMatchesSchema = z.object({
  computedAt: z.string().describe('The map the indices refer to (its computedAt).'),
  indices: z.array(z.number().int()).describe('Positions in the map\'s ids of the items passing the filters.'),
});

export type Box = z.infer<typeof boxSchema>;
export type ShapedItem = z.infer<typeof itemSchema>;
export type ShapedHit = z.infer<typeof hitSchema>;
export type ShapedItemDetails = z.infer<typeof itemDetailsSchema>;
export type SearchPageBody = z.infer<typeof searchPageSchema>;
export type FacetsBody = z.infer<typeof facetsSchema>;
export type StatsBody = z.infer<typeof statsSchema>;
export type HealthBody = z.infer<typeof healthSchema>;
export type ProblemBody = z.infer<typeof problemSchema>;
export type ReprintHitBody = z.infer<typeof reprintHitSchema>;
export type ReprintPageBody = z.infer<typeof reprintPageSchema>;
export type ReprintMemberBody = z.infer<typeof reprintMemberSchema>;
export type ReprintGroupsPageBody = z.infer<typeof reprintGroupsPageSchema>;
export type ReprintPrintingsPageBody = z.infer<typeof reprintPrintingsPageSchema>;
export type EmbeddingPageBody = z.infer<typeof embeddingPageSchema>;
export type EmbeddingImportBody = z.infer<typeof embeddingImportSchema>;
export type MapBody = z.infer<typeof mapSchema>;
export type MapPendingBody = z.infer<typeof mapPendingSchema>;
export type MapItemsBody = z.infer<typeof mapItemsSchema>;
export type MapMatchesBody = z.infer<typeof mapMatchesSchema>;
