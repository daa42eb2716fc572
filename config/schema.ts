import { z } from 'zod';
import { CONTENT_SEARCH_MIN_SCORE } from '../common/index.ts';

/**
 * The one configuration of Reprise. Every key has a default that works on a
 * fresh machine without a config file; the README lists them.
 */
const positiveInt = z.number().int().positive();

export const httpSchema = z.strictObject({
  userAgent: z.string().min(1).default('Reprise/0.1 (IIIF visual search harvester; set harvest.http.userAgent to add your contact)'),
  concurrency: positiveInt.max(256).default(8),
  perHostConcurrency: positiveInt.max(64).default(4),
  perHostRatePerSecond: z.number().positive().max(1000).default(10),
  connectTimeoutMs: positiveInt.default(10_000),
  totalTimeoutMs: positiveInt.default(60_000),
  retries: z.number().int().min(0).max(10).default(4),
  retryBaseDelayMs: positiveInt.default(500),
  retryMaxDelayMs: positiveInt.default(120_000),
  maxRedirects: z.number().int().min(0).max(20).default(5),
  maxJsonBytes: positiveInt.default(50 * 1024 * 1024),
  maxImageBytes: positiveInt.default(40 * 1024 * 1024),
  allowPrivate: z.array(z.string().min(1)).default([]),
});

/**
 * Regions that institutions publish as annotations on canvases (commenting, tagging, supplementing,
 * describing with an #xywh target, inline or in referenced annotation pages): each becomes an item
 * of its own, embedded from its part of the image and found by the annotation's text.
 */
export const regionsSchema = z.strictObject({
  /** Read annotated regions (and fetch the annotation pages canvases reference). */
  enabled: z.boolean().default(true),
  /** Regions kept per canvas: the largest, so a page's pictures before its lines of text. */
  maxPerCanvas: z.number().int().min(1).max(1000).default(64),
  /** Least width and height of a region, in canvas pixels. */
  minSide: positiveInt.max(10_000).default(32),
  /** Referenced annotation pages fetched per manifest (each once); the others are not read. */
  maxPagesPerManifest: z.number().int().min(0).max(100_000).default(1000),
  /**
   * A region whose long side in the fetched image is shorter than this is asked from the image
   * service on its own (a small picture on a large page); 0 never asks.
   */
  fetchBelow: z.number().int().min(0).max(4096).default(128),
  /** Long side of a region asked from the image service. */
  fetchSide: positiveInt.max(4096).default(448),
  /** Region requests per canvas at most; the other small regions are cut from the fetched image. */
  maxFetchesPerCanvas: z.number().int().min(0).max(1000).default(16),
});

export const harvestSchema = z.strictObject({
  /** Long side of the image fetched per canvas, in pixels. */
  imageSize: positiveInt.max(4096).default(640),
  /** Images decoded at once (sharp work, CPU-bound). */
  decodeConcurrency: positiveInt.max(64).default(2),
  /** Refuse images with more pixels than this (decompression bombs). */
  maxInputPixels: positiveInt.default(100_000_000),
  maxCanvasesPerManifest: positiveInt.default(10_000),
  maxManifestsPerRun: positiveInt.default(1_000_000),
  /** Nesting depth of collections followed. */
  maxCollectionDepth: positiveInt.max(64).default(8),
  /** Canvases handed to the indexing stage at once. */
  batchSize: positiveInt.max(1024).default(16),
  /** Keep fetched images (content-addressed under dataDir/images) so a new model can re-index without downloading again. */
  keepImages: z.boolean().default(true),
  /** Attempts per canvas across runs before it is left failed. */
  maxAttempts: positiveInt.max(100).default(5),
  /** Annotated regions harvested as items of their own. */
  regions: regionsSchema.default(() => regionsSchema.parse({})),
  http: httpSchema.default(() => httpSchema.parse({})),
});

const labelName = z.string().trim().min(1).max(100);

/**
 * Zero-shot labels with a CLIP-family model: each set's labels are put in the prompt templates,
 * the text tower embeds them once, and every image gets the label of each set its vector is
 * nearest to (when the softmax over the set gives it at least minScore). Image classifiers file
 * their own top categories instead.
 */
export const labelsSchema = z.strictObject({
  /** Set name → its labels, e.g. { "genre": ["photograph", "drawing", "engraving", "map"] }. Empty: no zero-shot labels. */
  sets: z
    .record(z.string().regex(/^[\w-]{1,40}$/, 'set names are 1–40 letters, digits, - or _'), z.array(labelName).min(2).max(200))
    .refine((sets) => Object.keys(sets).length <= 20, 'at most 20 label sets')
    .default({}),
  /** Prompts, each with {} where the label goes; their embeddings are averaged per label (CLIP's prompt ensembling). */
  templates: z
    .array(z.string().includes('{}', { message: 'a template needs {} where the label goes' }).max(200))
    .min(1)
    .max(20)
    .default(['a {}.', 'a picture of a {}.', 'an old {}.']),
  /** Least softmax probability (within a set) for a zero-shot label to be kept. (A classifier keeps its top categories, topK in its folder's config.) */
  minScore: z.number().min(0).max(1).default(0.3),
  /** Softmax temperature over cosine similarities: CLIP's learned logit scale. */
  logitScale: z.number().positive().max(1000).default(100),
});

export const modelsSchema = z.strictObject({
  /** A name from `reprise models list`, pulled into `cacheDir`. */
  name: z.string().min(1).default('clip-vit-base-patch32'),
  /** A model folder placed by hand (Hugging Face or OpenCLIP layout); wins over `name`. */
  path: z.string().min(1).optional(),
  /** Where pulled models live (default: dataDir/models). */
  cacheDir: z.string().min(1).optional(),
  /** Model weights to load where the export offers several. */
  variant: z.enum(['fp32', 'fp16', 'quantized']).default('fp32'),
  hubUrl: z.string().url().default('https://huggingface.co'),
  /** onnxruntime intra-op threads (0: one per core). */
  threads: z.number().int().min(0).max(256).default(0),
  executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
  /** Images per encoder call. */
  batchSize: positiveInt.max(256).default(16),
  /** Text-query embeddings kept in memory. */
  textCacheSize: z.number().int().min(0).max(1_000_000).default(1000),
  /** Labels given to every image, filed in the `labels` facet (models/labels/). */
  labels: labelsSchema.default(() => labelsSchema.parse({})),
});

export const storeSchema = z.strictObject({
  /** embedded: SQLite + HNSW under dataDir, nothing to run. meilisearch: a Meilisearch server. */
  kind: z.enum(['embedded', 'meilisearch']).default('embedded'),
  /** Index name: one per model, since an index holds vectors of one model only. */
  index: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'letters, digits, - and _ only').default('reprise'),
  embedded: z
    .strictObject({
      /**
       * Vector storage in the ANN index. i8 by default: a quarter of f32's memory (1M vectors fit
       * in 1.5 GB), and hits are re-scored on the exact vectors kept in SQLite, so recall@10
       * measured 1.0 at 100k (bench:store). f16 or f32 trade memory for a little speed.
       */
      quantization: z.enum(['f32', 'f16', 'i8']).default('i8'),
      /** HNSW graph degree. */
      connectivity: positiveInt.max(128).default(16),
      expansionAdd: positiveInt.max(4096).default(128),
      /** HNSW search breadth: 200 keeps recall@10 ≥ 0.95 at 1M vectors (0.96 measured; 64 gave 0.90). */
      expansionSearch: positiveInt.max(4096).default(200),
    })
    .default({ quantization: 'i8', connectivity: 16, expansionAdd: 128, expansionSearch: 200 }),
  meilisearch: z
    .strictObject({
      url: z.string().url().default('http://127.0.0.1:7700'),
      /** The master key or an API key with document and search rights. */
      apiKey: z.string().optional(),
      timeoutMs: positiveInt.default(10_000),
      /** Documents per upsert task. */
      batchSize: positiveInt.max(10_000).default(500),
      /** Longest wait for an indexing task to finish. */
      taskTimeoutMs: positiveInt.default(300_000),
    })
    .default({ url: 'http://127.0.0.1:7700', timeoutMs: 10_000, batchSize: 500, taskTimeoutMs: 300_000 }),
});

const facetName = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'facet names are 1–40 lower-case letters, digits, - or _, starting with a letter');
/** A BCP 47 language tag as pages and IIIF language maps write them: en, fr, fr-CA, zh-Hant. */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$/;
/** Language tag → a name in that language; keys checked one by one, so that the message names the bad one. */
const namesByLanguage = z
  .record(z.string(), z.string().trim().min(1).max(100))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 languages per facet')
  .superRefine((m, ctx) => {
    for (const tag of Object.keys(m)) {
      if (!LANGUAGE_TAG.test(tag)) ctx.addIssue({ code: 'custom', path: [tag], message: `"${tag}" is not a language tag: use one such as en, fr or fr-CA` });
    }
  });

/**
 * Facets from the manifests' and canvases' metadata: each metadata label (in any language, case
 * and a trailing colon ignored) named here files its values under a facet; the values are taken in
 * the first of `languages` the entry has (else without a language, else any). Dates come from
 * navDate, else from the first metadata entry whose label is one of `dateLabels`.
 */
export const facetsConfigSchema = z.strictObject({
  metadata: z
    .record(z.string().trim().min(1).max(200), facetName)
    .refine((m) => Object.keys(m).length <= 200, 'at most 200 labels')
    .default({
      creator: 'creator', author: 'creator', artist: 'creator', photographer: 'creator', contributor: 'creator', contributors: 'creator', 'artist / maker': 'creator', 'auteur': 'creator', urheber: 'creator',
      subject: 'subject', subjects: 'subject', topic: 'subject', categories: 'subject', keywords: 'subject', 'sujet': 'subject', schlagwort: 'subject',
      type: 'type', genre: 'type', 'object type': 'type', 'type of object': 'type', 'type of item': 'type', 'type/technique': 'type', format: 'type', medium: 'type',
      place: 'place', location: 'place', 'place of publication': 'place', lieu: 'place', ort: 'place',
      language: 'language', langue: 'language', sprache: 'language',
    }),
  languages: z.array(z.string().min(1).max(20)).max(20).default(['en']),
  dateLabels: z
    .array(z.string().trim().min(1).max(200))
    .max(50)
    .default(['date', 'dates', 'date created', 'created', 'creation date', 'date of creation', 'published', 'publish date', 'date of publication', 'publication date', 'publication/creation', 'created published', 'date statement', 'datum gemaakt', 'year', 'period', 'datum', 'jahr']),
  /** Values kept per facet and item, and their length: a bound on what one manifest can add. */
  maxValues: z.number().int().min(1).max(200).default(20),
  /**
   * What readers see as a metadata facet's name, per language: { creator: { en: 'Creator', fr: 'Auteur' } }.
   * GET /facets gives them with the counts; the widget shows the page's language, else English,
   * else its own words for the usual facets, else the name itself.
   */
  names: z
    .record(facetName, namesByLanguage)
    .refine((n) => Object.keys(n).length <= 200, 'at most 200 facets')
    .default({}),
}).superRefine((facets, ctx) => {
  const filed = new Set(Object.values(facets.metadata));
  for (const name of Object.keys(facets.names)) {
    if (!filed.has(name)) {
      ctx.addIssue({ code: 'custom', path: ['names', name], message: `no label of facets.metadata files values under "${name}": name one there (e.g. "${name}": "${name}"), or remove this entry` });
    }
  }
});

/** IIIF Content Search (plugin/content-search): what viewers' "search within" finds, and who may read it. */
export const contentSearchSchema = z.strictObject({
  /**
   * Origins whose pages may read Content Search answers (viewers such as Mirador or Universal
   * Viewer on portal pages). Any by default: the service is public and read-only. [] allows none.
   */
  corsOrigins: z.array(z.string().min(1)).default(['*']),
  /**
   * Cosine similarity a canvas (or region) needs to be a hit: below it, it is neither listed nor
   * counted. Model-dependent, and not calibrated: see common/relevance.ts.
   */
  minScore: z.number().min(-1).max(1).default(CONTENT_SEARCH_MIN_SCORE),
  /** Hits per page when the request gives no `limit`. */
  pageSize: positiveInt.max(1000).default(20),
  /** Most hits one query finds, over all its pages (a bound on the work of every page). */
  maxHits: positiveInt.max(1000).default(500),
});

export const apiSchema = z.strictObject({
  /** `reprise serve` listens here. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(3000),
  /** Origins allowed to call the API from a browser (widgets on portal pages); [] allows none, ["*"] any. */
  corsOrigins: z.array(z.string().min(1)).default([]),
  /** Bearer token for the admin routes (harvest trigger and status); without one they are disabled. */
  adminToken: z.string().min(16, 'at least 16 characters').optional(),
  /** Requests per minute per client address; 0 disables the limit. */
  rateLimitPerMinute: z.number().int().min(0).default(600),
  maxQueryLength: positiveInt.max(10_000).default(500),
  maxLimit: positiveInt.max(1000).default(100),
  maxUploadBytes: positiveInt.default(20 * 1024 * 1024),
  maxImagePixels: positiveInt.default(50_000_000),
  encoderTimeoutMs: positiveInt.default(30_000),
  storeTimeoutMs: positiveInt.default(10_000),
  /** Public base URL of the API, for links in Content Search responses (default: from the request). */
  publicUrl: z.string().url().optional(),
  /**
   * Behind a reverse proxy, which hops to trust for the client address (rate limit per client)
   * and scheme (links): Express's "trust proxy" setting, e.g. 1 for one proxy, "loopback", or
   * a list of addresses. Default: trust none (a client could otherwise choose its own address).
   * `reprise serve` applies it; a portal mounting the router sets it on its own app.
   */
  trustProxy: z.union([z.boolean(), z.number().int().min(0), z.string().min(1), z.array(z.string().min(1))]).optional(),
  contentSearch: contentSearchSchema.default(() => contentSearchSchema.parse({})),
  /** GET /embeddings publishes the index's vectors as IIIF embedding annotations, for other portals to import. */
  publishEmbeddings: z.boolean().default(true),
  /**
   * Processes `reprise serve` answers requests in (node:cluster, one port). One of them writes
   * (admin harvests, index files); the others map the writer's saved HNSW file, so the index is
   * in memory once. 1: a single process, as before. About one per core.
   */
  workers: z.number().int().min(1).max(64).default(1),
});

/** The IIIF publisher (`reprise publish`, and `serve`/`start --images`): where it says it lives. */
export const publishSchema = z.strictObject({
  /** Public URL of the published images (origin and path): every id in info.json and the manifests starts with it. */
  baseUrl: z.string().url().optional(),
  /**
   * Without baseUrl, Host header values (`host` or `host:port`) that may name the server in ids;
   * any other Host gets the address the request came in on, never the client's choice.
   */
  allowedHosts: z
    .array(z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/, 'a host name or host:port (no scheme, no path)'))
    .default([]),
});

export const configSchema = z.strictObject({
  /** Where the journal, the index and caches live. */
  dataDir: z.string().min(1).default('./reprise-data'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
  harvest: harvestSchema.default(() => harvestSchema.parse({})),
  models: modelsSchema.default(() => modelsSchema.parse({})),
  store: storeSchema.default(() => storeSchema.parse({})),
  api: apiSchema.default(() => apiSchema.parse({})),
  publish: publishSchema.default(() => publishSchema.parse({})),
  facets: facetsConfigSchema.default(() => facetsConfigSchema.parse({})),
});

export type RepriseConfigInput = z.input<typeof configSchema>;
export type RepriseConfig = z.output<typeof configSchema>;
export type HarvestConfig = RepriseConfig['harvest'];
export type HttpConfig = HarvestConfig['http'];
export type ModelsConfig = RepriseConfig['models'];
export type LabelsConfig = ModelsConfig['labels'];
export type StoreConfig = RepriseConfig['store'];
export type ApiConfig = RepriseConfig['api'];
export type ContentSearchConfig = ApiConfig['contentSearch'];
export type PublishConfig = RepriseConfig['publish'];
export type FacetsConfig = RepriseConfig['facets'];
